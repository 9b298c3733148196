"""Records: the drill store, quarter plans and the IC rotation, the quarterly report.

May import everything above it: ``authoring``, ``analysis``, ``outputs``, ``model``, ``inputs``.
"""
