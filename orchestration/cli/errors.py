"""The error of a command that the user can act on: printed without a traceback, exit code 1."""


class CommandError(Exception):
    """A failure the user can act on; printed without a traceback."""
