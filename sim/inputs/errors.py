"""The one error type a user can cause: bad files, unknown names, impossible requests."""


class DrillError(Exception):
    """A problem the user can fix; the message says where and what."""
