"""Errors caused by what a user wrote, as opposed to bugs in dcsim.

The CLI prints a :class:`UserError` as one line and exits with code 2; anything else is a bug and keeps its
traceback.
"""


class UserError(Exception):
    """A mistake in a user's input: the message names the file, the line or field, and what was expected."""


class ScenarioError(UserError):
    """A scenario file that cannot be read or does not validate."""
