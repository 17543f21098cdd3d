"""The one exception type for mistakes a user can fix (bad scenario, bad file, bad option)."""


class BoneflareError(Exception):
    """A user-facing error: bad input, missing file, invalid scenario.

    The command-line interface turns it into a one-line message and exit status 2.
    """


class ScenarioError(BoneflareError):
    """A scenario file or override names an unknown field or holds a bad value."""
