"""The decision hook: what the clinic does at an episode (a 'worse' bone reading).

A policy gets the observed histories of a batch of episodes (an
:class:`~boneflare.simulator.observed.ObservedBatch`) and returns, per episode, a probability of
flare and an action: continue treatment, stop it, or defer to the next scan. Its
answer for one episode must not depend on the other episodes in the batch (both
engines rely on it: the reference engine asks one patient at a time).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from boneflare.simulator.observed import (
    ACTION_CONTINUE,
    ACTION_DEFER,
    ACTION_NAMES,
    ACTION_STOP,
    Decision,
)

if TYPE_CHECKING:
    from boneflare.simulator.observed import ObservedBatch

__all__ = [
    "ACTION_CONTINUE",
    "ACTION_DEFER",
    "ACTION_NAMES",
    "ACTION_STOP",
    "BUILTIN_POLICIES",
    "AlwaysContinue",
    "AlwaysStop",
    "Decision",
    "DecisionPolicy",
]


@runtime_checkable
class DecisionPolicy(Protocol):
    """Anything with a ``name`` and a ``decide(batch) -> Decision`` method."""

    name: str

    def decide(self, batch: ObservedBatch) -> Decision:
        """Return the decision for every episode of the batch."""
        ...


class AlwaysContinue:
    """Never stop treatment at a worse bone reading (every episode called flare)."""

    name = "always_continue"

    def decide(self, batch: ObservedBatch) -> Decision:
        """Continue for every episode, with P(flare) = 1."""
        n = len(batch)
        return Decision(np.ones(n), np.full(n, ACTION_CONTINUE, dtype=np.int8))


class AlwaysStop:
    """Stop treatment at the first worse bone reading (naive RECIST)."""

    name = "always_stop"

    def decide(self, batch: ObservedBatch) -> Decision:
        """Stop for every episode, with P(flare) = 0."""
        n = len(batch)
        return Decision(np.zeros(n), np.full(n, ACTION_STOP, dtype=np.int8))


BUILTIN_POLICIES = {p.name: p for p in (AlwaysContinue, AlwaysStop)}
"""Policies available by name to ``boneflare simulate --policy``."""
