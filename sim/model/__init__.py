"""The model: one drill as a SimPy simulation (world, monitoring, incident, participants, engine, event log).

May import ``sim.inputs`` only.
"""
