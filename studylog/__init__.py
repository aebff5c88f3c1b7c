"""studylog: a terminal study journal with spaced-repetition cards and runnable NumPy demos.

This module stays import-light on purpose: demo child processes import
``studylog.demo.api`` and the CLI's ``--help`` must start fast, so nothing here
pulls in SQLAlchemy, NumPy or Textual.
"""

__version__ = "0.1.0"
