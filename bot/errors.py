"""Errors shown to the person at the command line as one line (exit status 2)."""


class UsageError(Exception):
    """A mistake in how a command was called, or a setting that cannot be used."""
