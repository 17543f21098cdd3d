"""The decision hook: what the clinic does at an episode (a 'worse' bone reading).

A policy gets the observed histories of a batch of episodes (an
:class:`~simulator.observed.ObservedBatch`) and returns, per episode, a probability of
flare and an action: continue treatment, stop it, or defer to the next scan. Its
answer for one episode must not depend on the other episodes in the batch (both
engines rely on it: the reference engine asks one patient at a time).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    from simulator.observed import ObservedBatch

ACTION_CONTINUE, ACTION_STOP, ACTION_DEFER = 0, 1, 2
"""Action codes (``decisions.action``)."""
ACTION_NAMES = ("continue", "stop", "defer")


@dataclass(frozen=True)
class Decision:
    """A policy's answer for a batch of episodes, in batch order.

    Attributes
    ----------
    p_flare : ndarray of float
        Probability that the episode is a flare (NaN when the policy gives none).
    action : ndarray of int8
        ``ACTION_CONTINUE``, ``ACTION_STOP`` or ``ACTION_DEFER``.

    """

    p_flare: np.ndarray
    action: np.ndarray


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
