"""The words of the tables, and RECIST 1.1's cut-offs: one definition each.

The simulator writes these categories, the classifiers read them (through
:mod:`boneflare.simulator.observed`, the one module of the simulator they may import)
and the benchmark and calibration count them. This module imports nothing, so the
scenario schema can use it while the command line starts.
"""

from __future__ import annotations

from typing import Final

ARMS: Final[tuple[str, ...]] = ("bev_tc", "pd1_pc", "pc", "egfr_tki")
"""Treatment arms of the paper (Shi 2021, 1.2): bevacizumab + paclitaxel + carboplatin,
PD-1 inhibitor + pemetrexed + carboplatin, pemetrexed + carboplatin, EGFR-TKI
(``patients.arm``)."""

SEXES: Final[tuple[str, ...]] = ("F", "M")
"""``patients.sex``."""

STAGES: Final[tuple[str, ...]] = ("IIIB", "IV")
"""Stage at diagnosis (``patients.stage``)."""

CHARACTER_NAMES: Final[tuple[str, ...]] = ("none", "lytic", "blastic", "mixed")
"""Look of the baseline bone lesions (``patients.bone_lesion_character``)."""

ANALYTES: Final[tuple[str, ...]] = ("alp", "calcium")
"""Serum analytes (``labs.analyte``)."""

UNITS: Final[tuple[str, ...]] = ("U/L", "mmol/L")
"""Unit of each analyte, in the order of :data:`ANALYTES` (``labs.unit``)."""

RECIST_RESPONSES: Final[tuple[str, ...]] = ("CR", "PR", "SD", "PD")
"""RECIST 1.1 responses, best first: complete, partial, stable, progressive (Eisenhauer 2009)."""

RESPONSE_NAMES: Final[tuple[str, ...]] = ("baseline", *RECIST_RESPONSES)
"""Visit response of a CT (``scans.recist_response``; the baseline CT has none)."""

BEST_RESPONSES: Final[tuple[str, ...]] = (*RECIST_RESPONSES, "NE")
"""Best overall response (``truth.best_response``; NE: not evaluable)."""

BONE_NAMES: Final[tuple[str, ...]] = ("none", "baseline", "stable", "better", "worse")
"""CT bone window compared with before (``scans.bone_reading``)."""

LOOK_NAMES: Final[tuple[str, ...]] = ("none", "lytic", "sclerotic", "mixed")
"""Look of the bone lesions on a CT (``scans.lesion_look``)."""

LABEL_NAMES: Final[tuple[str, ...]] = ("flare", "progression")
"""What a 'worse' bone reading truly is (``episode_truth.label``)."""

RECIST_PR_FALL: Final[float] = 0.30
"""RECIST 1.1: partial response is a fall of at least 30% from baseline (Eisenhauer 2009)."""

RECIST_PD_RISE: Final[float] = 0.20
"""RECIST 1.1: progression is a sum at least 20% over the nadir ... (Eisenhauer 2009)."""

RECIST_PD_MM: Final[float] = 5.0
"""... and at least 5 mm over it (Eisenhauer 2009)."""
