"""Analysis: comparing process variants over many paired drills, with statistics and summaries.

May import ``sim.outputs``, ``sim.model`` and ``sim.inputs``.
"""
