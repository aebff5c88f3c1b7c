"""Errors that reach the user as one clear line (the CLI prints them, the TUI notifies)."""


class StudylogError(Exception):
    """A problem with the user's input or data, explained in one line.

    The message names what was wrong and where (file, line, record) so that the
    CLI can print it without a traceback.
    """


class NotFoundError(StudylogError):
    """An id, slug or day that does not exist."""


class InvalidInputError(StudylogError):
    """Input that cannot be accepted (empty text, unknown date format, bad rating...)."""


class DatabaseError(StudylogError):
    """The database file cannot be opened, is not SQLite, or cannot be written."""
