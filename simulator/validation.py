"""One place to check the counts, seeds and choices a user passes in.

Each helper returns the value when it is good and otherwise raises
:class:`~boneflare.simulator.errors.InputError` (a ``ValueError``) naming the
argument, the value and what is allowed; the command line shows that one line.
"""

from __future__ import annotations

from collections.abc import Iterable

from boneflare.simulator.errors import InputError


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_count(name: str, value: object, *, minimum: int = 1, maximum: int | None = None) -> int:
    """Return ``value`` if it is an integer from ``minimum`` (default 1) to ``maximum``.

    Raises
    ------
    InputError
        ``"<name> must be a positive integer, got <value>"`` (or the bounds).

    """
    if not _is_int(value) or value < minimum:
        kind = "a positive integer" if minimum == 1 else f"an integer of at least {minimum}"
        raise InputError(f"{name} must be {kind}, got {value!r}")
    if maximum is not None and value > maximum:
        raise InputError(f"{name} must be at most {maximum}, got {value}")
    return value


def check_seed(value: object, name: str = "seed") -> int:
    """Return ``value`` if it is a non-negative integer (a seed).

    Raises
    ------
    InputError
        ``"seed must be a non-negative integer, got <value>"``.

    """
    if not _is_int(value) or value < 0:
        raise InputError(f"{name} must be a non-negative integer, got {value!r}")
    return value


def check_choice(name: str, value: object, choices: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``choices``.

    Raises
    ------
    InputError
        ``"unknown <name> <value>: known are <choices>"``.

    """
    known = list(choices)
    if value not in known:
        raise InputError(f"unknown {name} {value!r}: known are {', '.join(known)}")
    return str(value)
