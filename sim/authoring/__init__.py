"""Authoring: making scenarios (generated stories, imports from other tools such as Chaos Toolkit).

May import ``sim.outputs``, ``sim.model`` and ``sim.inputs``.
"""
