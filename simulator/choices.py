"""The names the command line offers, importable before anything heavy.

``boneflare --help`` lists engines, decision policies and table formats; this module
holds their names so the parser can be built without NumPy, pandas, SimPy or pyarrow.
Each tuple equals the keys of its implementation (checked by the tests).
"""

ENGINE_NAMES = ("batched", "reference")
"""Simulation engines (the keys of :data:`boneflare.simulator.engine.ENGINES`)."""

POLICY_NAMES = ("always_continue", "always_stop")
"""Built-in decision policies (the keys of
:data:`boneflare.simulator.engine.policy.BUILTIN_POLICIES`)."""

FORMATS = ("parquet", "csv")
"""File formats of written tables (:func:`boneflare.simulator.io.write_cohort`)."""
