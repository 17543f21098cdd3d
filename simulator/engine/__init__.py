"""Discrete-event engines (SimPy) that run follow-up, and the decision-policy hook.

Names are imported on first use (PEP 562), so that :data:`ENGINE_NAMES` is available
without SimPy or NumPy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from boneflare.simulator.choices import ENGINE_NAMES
from boneflare.simulator.lazy import lazy_getattr

_POLICY = "boneflare.simulator.engine.policy"
_EXPORTS = {
    "ACTION_CONTINUE": _POLICY,
    "ACTION_DEFER": _POLICY,
    "ACTION_NAMES": _POLICY,
    "ACTION_STOP": _POLICY,
    "AlwaysContinue": _POLICY,
    "AlwaysStop": _POLICY,
    "Decision": _POLICY,
    "DecisionPolicy": _POLICY,
    "ENGINES": "boneflare.simulator.engine.engines",
    "FollowUp": "boneflare.simulator.engine.followup",
    "run_batched": "boneflare.simulator.engine.batched",
    "run_reference": "boneflare.simulator.engine.reference",
}

__all__ = [
    "ACTION_CONTINUE",
    "ACTION_DEFER",
    "ACTION_NAMES",
    "ACTION_STOP",
    "ENGINES",
    "ENGINE_NAMES",
    "AlwaysContinue",
    "AlwaysStop",
    "Decision",
    "DecisionPolicy",
    "FollowUp",
    "run_batched",
    "run_reference",
]


__getattr__ = lazy_getattr(__name__, _EXPORTS)


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:  # for type checkers and IDEs only
    from boneflare.simulator.engine.batched import run_batched
    from boneflare.simulator.engine.engines import ENGINES
    from boneflare.simulator.engine.followup import FollowUp
    from boneflare.simulator.engine.policy import (
        ACTION_CONTINUE,
        ACTION_DEFER,
        ACTION_NAMES,
        ACTION_STOP,
        AlwaysContinue,
        AlwaysStop,
        Decision,
        DecisionPolicy,
    )
    from boneflare.simulator.engine.reference import run_reference
