"""The project's error type: a message a user can act on, no traceback."""


class ReproflowError(RuntimeError):
    """Bad input or a failed step; the message names the file/key and what was expected."""
