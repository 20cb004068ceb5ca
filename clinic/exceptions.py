from django.core.exceptions import ValidationError


class SchedulingConflict(ValidationError):
    """A resource is already taken (rule R1 and friends).

    A ValidationError, so forms show it as a field error; the API maps it to
    409 with each conflict listed.
    """

    def __init__(self, message, conflicts: list[dict] | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.conflicts = conflicts or []


class IllegalTransition(ValidationError):
    """A status change the state machine does not allow (e.g. check in a
    cancelled visit)."""


class Locked(Exception):
    """The record is locked (a signed note, R10): the API answers 409, pages
    show the message; nothing is changed."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message
