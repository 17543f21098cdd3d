"""Every exception boneflare raises on purpose, in one module.

:class:`BoneflareError` is the base: the command line turns it into one line on
standard error and exit status 2. Mistakes in what a user gives (a scenario, an
option, a count, a classifier spec) are :class:`InputError`, which is also a
:class:`ValueError`, so ``except ValueError`` catches them as Python users expect.
The other kinds say what broke: a classifier (its contract or its checks), a plugin,
or a batch holding later data.
"""


class BoneflareError(Exception):
    """A user-facing error: bad input, missing file, invalid scenario, a broken plugin.

    The command-line interface turns it into a one-line message and exit status 2.
    """


class InputError(BoneflareError, ValueError):
    """A value given by the user is wrong: a count, a seed, a choice, an option."""


class ScenarioError(InputError):
    """A scenario file or override names an unknown field or holds a bad value."""


class GridError(InputError):
    """A ``--grid`` option is malformed (no ``=``, an empty value, a repeated key)."""


class ClassifierSpecError(InputError):
    """A classifier spec that cannot be parsed, imported or instantiated."""


class UnknownClassifierError(InputError):
    """No classifier is registered under the requested name."""


class PluginLoadError(BoneflareError):
    """A registered entry point could not be imported or is not a FlareClassifier."""


class ClassifierError(BoneflareError):
    """A classifier broke the contract (wrong shape, NaN, out of [0, 1], bad labels)."""


class ConformanceError(BoneflareError):
    """A classifier failed the conformance suite (the message names the failed checks)."""


class FutureDataError(BoneflareError):
    """A batch holds data dated after its episode's decision day."""
