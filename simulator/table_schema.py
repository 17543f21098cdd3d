"""Column dtypes, units and meanings of every output table (docs/tables.md is built from it).

Reading tables back (Parquet or CSV) restores exactly these dtypes, so a written cohort
reads back equal to the one in memory.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

from boneflare.simulator.lazy import lazy_module
from boneflare.simulator.observed import ACTION_NAMES
from boneflare.simulator.vocabulary import (
    ANALYTES,
    ARMS,
    BEST_RESPONSES,
    BONE_NAMES,
    CHARACTER_NAMES,
    LABEL_NAMES,
    LOOK_NAMES,
    RESPONSE_NAMES,
    SEXES,
    STAGES,
    UNITS,
)

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")  # a streamed run never needs it (boneflare.simulator.lazy)


@dataclass(frozen=True)
class Column:
    """One column: pandas dtype (or categories), unit, meaning, and whether it can be NaN.

    Parquet stores a column that cannot be missing as *required*, which writes faster
    (no definition levels); reading it back gives the same dtype either way.
    """

    dtype: str | tuple[str, ...]
    unit: str
    doc: str
    missing: bool = False

    def pandas_dtype(self):
        """The pandas dtype (a CategoricalDtype for a tuple of categories)."""
        if isinstance(self.dtype, tuple):
            return pd.CategoricalDtype(list(self.dtype))
        return self.dtype


ID = Column("int32", "", "patient identifier, 0 .. N-1")
DAY = Column("int16", "day", "days since the first dose (day 0)")
EPISODE = Column("int64", "", "episode identifier: patient_id * 1024 + scan_index")

TABLES: dict[str, dict[str, Column]] = {
    "patients": {
        "patient_id": ID,
        "sex": Column(SEXES, "", "sex"),
        "age": Column("int16", "year", "age at the first dose, whole years"),
        "stage": Column(STAGES, "", "stage at diagnosis"),
        "egfr_positive": Column("bool", "", "EGFR-sensitising mutation"),
        "arm": Column(ARMS, "", "first-line treatment arm"),
        "bone_mets": Column("bool", "", "bone metastases at baseline"),
        "bone_lesion_character": Column(CHARACTER_NAMES, "", "look of the baseline bone lesions"),
    },
    "labs": {
        "patient_id": ID,
        "day": DAY,
        "analyte": Column(ANALYTES, "", "serum alkaline phosphatase or calcium"),
        "value": Column(
            "float64",
            "see unit",
            "measured value as reported (ALP whole U/L, calcium to 0.01 mmol/L)",
        ),
        "unit": Column(UNITS, "", "unit of the value"),
    },
    "scans": {
        "patient_id": ID,
        "day": DAY,
        "scan_index": Column("int16", "", "0 at baseline, then 1, 2, ... per planned CT"),
        "sld_mm": Column("float64", "mm", "measured sum of target-lesion diameters (0: all gone)"),
        "recist_response": Column(
            RESPONSE_NAMES,
            "",
            "RECIST 1.1 visit response from target lesions and new soft-tissue lesions",
        ),
        "bone_reading": Column(BONE_NAMES, "", "CT bone window compared with before"),
        "lesion_look": Column(LOOK_NAMES, "", "look of the bone lesions on this CT"),
        "new_lesion": Column("bool", "", "unequivocal new soft-tissue lesion"),
    },
    "episodes": {
        "episode_id": EPISODE,
        "patient_id": ID,
        "day": DAY,
        "scan_index": Column("int16", "", "the CT with the 'worse' bone reading"),
    },
    "truth": {
        "patient_id": ID,
        "best_response": Column(
            BEST_RESPONSES,
            "",
            "best overall response, bone progression adjudicated",
        ),
        "flare": Column("bool", "", "a latent healing flare happens"),
        "flare_onset_day": Column(
            "float64", "day", "latent onset of healing (NaN: no flare)", missing=True
        ),
        "flare_duration_days": Column(
            "float64", "day", "onset to peak healing activity", missing=True
        ),
        "flare_observed_day": Column(
            "float64", "day", "first flare episode (NaN: none seen)", missing=True
        ),
        "first_progression_episode_day": Column(
            "float64", "day", "first episode that is true progression", missing=True
        ),
        "progression_day": Column(
            "float64", "day", "true progression on continued treatment", missing=True
        ),
        "soft_progression_day": Column(
            "float64", "day", "RECIST rule met by the true sum", missing=True
        ),
        "new_lesion_day": Column(
            "float64", "day", "a new soft-tissue lesion appears", missing=True
        ),
        "bone_progression_day": Column(
            "float64", "day", "baseline bone disease regrows", missing=True
        ),
        "new_bone_lesion_day": Column("float64", "day", "a new bone lesion appears", missing=True),
        "dropout_day": Column(
            "float64", "day", "leaves follow-up (death, withdrawal)", missing=True
        ),
        "nonresponder": Column("bool", "", "treatment has no effect"),
        "bone_discordant": Column("bool", "", "bone disease does not respond (mixed response)"),
        "decay_per_day": Column(
            "float64", "1/day", "Stein-Fojo decay d, soft tissue", missing=True
        ),
        "growth_per_day": Column(
            "float64", "1/day", "Stein-Fojo regrowth g, soft tissue", missing=True
        ),
        "bone_decay_per_day": Column("float64", "1/day", "decay of the bone burden", missing=True),
        "bone_growth_per_day": Column(
            "float64", "1/day", "regrowth of the bone burden", missing=True
        ),
        "alp_normal_u_per_l": Column("float64", "U/L", "non-tumour ALP level", missing=True),
        "alp_bone_excess_u_per_l": Column(
            "float64", "U/L", "ALP excess at baseline bone burden", missing=True
        ),
        "alp_surge_u_per_l": Column("float64", "U/L", "ALP surge at peak healing", missing=True),
        "calcium_set_point_mmol_per_l": Column(
            "float64", "mmol/L", "personal calcium set point", missing=True
        ),
        "stop_day": Column(
            "float64", "day", "treatment stopped by the policy (NaN: never)", missing=True
        ),
        "effective_days_lost": Column(
            "float64", "day", "days of effective treatment lost to the stop", missing=True
        ),
        "progression_delay_days": Column(
            "float64",
            "day",
            "first progression episode to the stop (or end of follow-up)",
            missing=True,
        ),
    },
    "episode_truth": {
        "episode_id": EPISODE,
        "label": Column(LABEL_NAMES, "", "what the 'worse' reading truly is"),
    },
    "decisions": {
        "episode_id": EPISODE,
        "patient_id": ID,
        "day": DAY,
        "policy": Column("str", "", "name of the policy"),
        "p_flare": Column("float64", "", "the policy's probability of flare", missing=True),
        "action": Column(ACTION_NAMES, "", "continue, stop or defer"),
        "applied": Column("bool", "", "whether the call changed the course (closed loop)"),
    },
}


def empty_table(name: str) -> pd.DataFrame:
    """Table ``name`` with no rows: its columns, in order, with their dtypes.

    A copy of the one built once per process: building it (pandas setting each
    column's dtype) takes longer than all the other tables of a thousand patients.
    """
    return _empty_table(name).copy()


@functools.cache
def _empty_table(name: str) -> pd.DataFrame:
    return pd.DataFrame(
        {c: pd.Series([], dtype=col.pandas_dtype()) for c, col in TABLES[name].items()}
    )


def conform(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` with the columns and dtypes of table ``name``, in order."""
    columns = TABLES[name]
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        from boneflare.simulator.errors import BoneflareError

        raise BoneflareError(f"table {name} lacks columns {', '.join(missing)}")
    return frame.loc[:, list(columns)].astype({c: col.pandas_dtype() for c, col in columns.items()})
