"""The two ways a command ends early besides bad input: a usage error, an interruption."""


class UsageError(ValueError):
    """An option value that makes no sense, alone or with another option (exit status 2, with usage)."""


class Interrupted(Exception):
    """Ctrl-C, with what was kept or not (exit status 130)."""
