"""Live drills: the real-time drill and its journal, the terminal console, the web server.

May import every package but ``sim.cli`` and ``sim.validate``.
"""
