"""Outputs: scoring a drill's event log and writing its report and files.

May import ``sim.model`` and ``sim.inputs``.
"""
