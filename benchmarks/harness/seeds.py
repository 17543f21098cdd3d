"""Seeds derived by hashing the coordinates of an experiment.

As benchopt's ``RunContext.get_seed`` does, every random stream of a benchmark is
named by *what it is for* rather than by the order in which work happens: the run's
seed, a purpose tag and the coordinates (scenario hash, replicate, classifier) are
hashed into a seed. The same coordinates always give the same seed, whatever the
number of workers, the executor or the order of completion; different purposes give
unrelated seeds, so a training cohort never reuses a test cohort's seed.
"""

from __future__ import annotations

import hashlib
import json
from typing import Final

from boneflare.simulator.validation import check_choice, check_seed

PURPOSES: Final[tuple[str, ...]] = ("test", "train", "fit")
"""Purpose tags: test cohorts, training cohorts, and the ``random_state`` of a fit."""

SEED_BITS: Final[int] = 63
"""Derived seeds are non-negative and fit in a signed 64-bit integer (Parquet, JSON)."""


def derive_seed(seed: int, purpose: str, *coordinates: str | int) -> int:
    """Hash a run seed, a purpose tag and coordinates into a seed.

    Parameters
    ----------
    seed : int
        The run's seed (``--seed``), a non-negative integer.
    purpose : str
        One of :data:`PURPOSES`.
    *coordinates : str or int
        What the stream is for, e.g. a scenario hash and a replicate number.

    Returns
    -------
    int
        A seed in ``[0, 2**63)``: the first 63 bits of the SHA-256 of the JSON list
        ``[seed, purpose, *coordinates]``.

    Raises
    ------
    ValueError
        If the purpose is unknown or the seed is not a non-negative integer.

    Examples
    --------
    >>> derive_seed(1, "test", "0123abcd", 0) == derive_seed(1, "test", "0123abcd", 0)
    True
    >>> derive_seed(1, "test", "0123abcd", 0) == derive_seed(1, "train", "0123abcd", 0)
    False

    """
    check_choice("seed purpose", purpose, PURPOSES)
    check_seed(seed)
    blob = json.dumps([seed, purpose, *coordinates], separators=(",", ":")).encode()
    return int.from_bytes(hashlib.sha256(blob).digest()[:8], "big") >> (64 - SEED_BITS)


def cohort_seed(seed: int, scenario_hash: str, replicate: int) -> int:
    """Seed of the test cohort of one replicate of one scenario (shared by all classifiers)."""
    return derive_seed(seed, "test", scenario_hash, replicate)


def training_seed(seed: int, scenario_hash: str, classifier: str) -> int:
    """Seed of the training cohort of one learned classifier on one training scenario."""
    return derive_seed(seed, "train", scenario_hash, classifier)


def fit_seed(seed: int, scenario_hash: str, classifier: str) -> int:
    """``random_state`` given to a learned classifier whose own is ``None`` (32-bit)."""
    return derive_seed(seed, "fit", scenario_hash, classifier) % 2**32
