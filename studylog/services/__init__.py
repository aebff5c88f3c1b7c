"""Services: plain-Python operations over a :class:`~studylog.storage.engine.Database`.

The CLI and the TUI call these; they never open sessions or write SQL themselves.
Each write is one transaction (``db.write()``).
"""
