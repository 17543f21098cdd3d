"""Discrete-event engines (SimPy) that run follow-up, and the decision-policy hook."""

from boneflare.simulator.engine.batched import run_batched
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

ENGINES = {"batched": run_batched, "reference": run_reference}
"""Engines by name; ``batched`` is the default."""

__all__ = [
    "ACTION_CONTINUE",
    "ACTION_DEFER",
    "ACTION_NAMES",
    "ACTION_STOP",
    "ENGINES",
    "AlwaysContinue",
    "AlwaysStop",
    "Decision",
    "DecisionPolicy",
    "FollowUp",
    "run_batched",
    "run_reference",
]
