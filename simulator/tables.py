"""Tidy output tables built from a finished (or ongoing) follow-up.

Tables and their columns are described in docs/tables.md. Row order is fixed:
patients by id, then day, then analyte or scan, so one seed gives identical tables.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

import numpy as np

from boneflare.simulator import observation as O
from boneflare.simulator.cohort import BLASTIC, LYTIC
from boneflare.simulator.engine.visits import LabVisits, ScanVisits, lab_visits, scan_visits
from boneflare.simulator.lazy import lazy_module
from boneflare.simulator.observation import NOT_STOPPED
from boneflare.simulator.observed import ACTION_NAMES
from boneflare.simulator.scenarios.schema import ARMS
from boneflare.simulator.stops import follow_up_ends, stop_consequences
from boneflare.simulator.table_schema import TABLES, conform, empty_table
from boneflare.simulator.vocabulary import (
    ANALYTES,
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

    from boneflare.simulator.engine.followup import FollowUp
else:
    pd = lazy_module("pandas")  # a streamed run never needs it (boneflare.simulator.lazy)

SD_MIN_DAYS = 35
"""RECIST 1.1: stable disease counts as best response only once met at least this many
days after the start (a protocol-defined minimum, commonly 6 weeks less a week's window)."""
EPISODE_SLOT_BASE = 1024
"""``episode_id = patient_id * EPISODE_SLOT_BASE + scan_index`` (stable across runs)."""


@functools.cache
def _categories(names: tuple[str, ...]) -> pd.CategoricalDtype:
    """The dtype of a category list, built once (building it checks the names each time)."""
    return pd.CategoricalDtype(categories=list(names), ordered=False)


@dataclass(frozen=True)
class Coded:
    """A categorical column before it becomes one: int8 codes into ``names``."""

    codes: np.ndarray
    names: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.codes)

    def categorical(self) -> pd.Categorical:
        """The pandas Categorical of these codes."""
        return pd.Categorical.from_codes(self.codes, dtype=_categories(self.names))


def _cat(codes: np.ndarray, names: tuple[str, ...]) -> Coded:
    return Coded(np.asarray(codes, dtype=np.int8), names)


Columns = dict[str, "np.ndarray | Coded"]
"""One table as arrays by column name, categoricals still as :class:`Coded`."""


@dataclass
class CohortTables:
    """The simulator's output: observed tables plus the truth kept from classifiers.

    ``patients``, ``labs``, ``scans`` and ``episodes`` are what a clinician could see;
    ``truth`` and ``episode_truth`` hold the hidden values and labels; ``decisions``
    holds a policy's calls (empty without a policy).
    """

    patients: pd.DataFrame
    labs: pd.DataFrame
    scans: pd.DataFrame
    episodes: pd.DataFrame
    truth: pd.DataFrame
    episode_truth: pd.DataFrame
    decisions: pd.DataFrame

    @staticmethod
    def names() -> list[str]:
        """Return the table names, in writing order."""
        return [f.name for f in fields(CohortTables)]

    def items(self) -> list[tuple[str, pd.DataFrame]]:
        """Return (name, table) pairs."""
        return [(name, getattr(self, name)) for name in self.names()]

    @staticmethod
    def concat(parts: list[CohortTables]) -> CohortTables:
        """Stack the tables of consecutive patient ranges, column by column.

        Each chunk's column is released as soon as it is stacked, so the peak memory is
        the result plus one column's chunks, not twice the result.
        """
        if len(parts) == 1:
            return parts[0]
        out = {}
        for name in CohortTables.names():
            frames = [getattr(p, name) for p in parts]
            for p in parts:
                setattr(p, name, None)
            columns = {}
            for column in list(frames[0].columns):
                pieces = [f.pop(column) for f in frames]
                columns[column] = _stack(pieces)
                del pieces
            out[name] = _frame(columns)
            del frames
        return CohortTables(**out)


def _frame(columns: dict) -> pd.DataFrame:
    """A DataFrame that keeps each column as its own array (no copy, no consolidation).

    Separate blocks let :meth:`CohortTables.concat` free each chunk's column as soon as
    it is stacked, which bounds the peak memory of a large cohort. :class:`Coded`
    columns become Categoricals.
    """
    columns = {k: v.categorical() if isinstance(v, Coded) else v for k, v in columns.items()}
    return pd.DataFrame(columns, copy=False)


def _stack(pieces: list[pd.Series]) -> pd.Series | np.ndarray | pd.Categorical:
    """Concatenate one column's chunks (categoricals by their codes)."""
    first = pieces[0]
    if isinstance(first.dtype, pd.CategoricalDtype):
        codes = np.concatenate([p.cat.codes.to_numpy() for p in pieces])
        return pd.Categorical.from_codes(codes, dtype=first.dtype)
    if first.dtype.kind in "biuf":
        return np.concatenate([p.to_numpy() for p in pieces])
    return pd.concat(pieces, ignore_index=True)


def patients_table(fu: FollowUp, rows: np.ndarray | slice) -> pd.DataFrame:
    """Observed baseline facts, one row per patient."""
    return _frame(_patients_columns(fu, rows))


def _patients_columns(fu: FollowUp, rows: np.ndarray | slice) -> Columns:
    b = fu.patients.baseline
    character = np.where(
        b.character[rows] == LYTIC, 1, np.where(b.character[rows] == BLASTIC, 2, 3)
    )
    character = np.where(b.bone_mets[rows], character, 0)
    return {
        "patient_id": b.patient_id[rows],
        "sex": _cat(np.where(b.female[rows], 0, 1), SEXES),
        "age": np.floor(b.age[rows]).astype(np.int16),
        "stage": _cat(np.where(b.stage_iv[rows], 1, 0), STAGES),
        "egfr_positive": b.egfr_positive[rows],
        "arm": _cat(b.arm[rows], ARMS),
        "bone_mets": b.bone_mets[rows],
        "bone_lesion_character": _cat(character, CHARACTER_NAMES),
    }


def labs_table(fu: FollowUp, rows: np.ndarray) -> pd.DataFrame:
    """Measured lab values, long format: one row per (patient, draw, analyte)."""
    return _frame(_labs_columns(fu, lab_visits(fu, rows)))


def _labs_columns(fu: FollowUp, labs: LabVisits) -> Columns:
    n = labs.rows.size
    values = np.empty(2 * n)
    values[0::2] = labs.alp
    values[1::2] = labs.calcium
    analyte = np.tile(np.array([0, 1], dtype=np.int8), n)
    return {
        "patient_id": np.repeat(fu.patients.baseline.patient_id[labs.rows], 2),
        "day": np.repeat(labs.day.astype(np.int16), 2),
        "analyte": _cat(analyte, ANALYTES),
        "value": values,
        "unit": _cat(analyte, UNITS),
    }


def scans_table(fu: FollowUp, rows: np.ndarray) -> pd.DataFrame:
    """CT readings, one row per (patient, scan)."""
    return _frame(_scans_columns(fu, scan_visits(fu, rows)))


def _scans_columns(fu: FollowUp, scans: ScanVisits) -> Columns:
    return {
        "patient_id": fu.patients.baseline.patient_id[scans.rows],
        "day": scans.day.astype(np.int16),
        "scan_index": scans.slots.astype(np.int16),
        "sld_mm": scans.sld,
        "recist_response": _cat(scans.recist, RESPONSE_NAMES),
        "bone_reading": _cat(scans.bone, BONE_NAMES),
        "lesion_look": _cat(scans.look, LOOK_NAMES),
        "new_lesion": scans.new_lesion,
    }


def episode_key(patient_id: np.ndarray, scan_index: np.ndarray) -> np.ndarray:
    """Return the stable episode identifier of (patient, scan index) pairs."""
    return np.asarray(patient_id, dtype=np.int64) * EPISODE_SLOT_BASE + np.asarray(scan_index)


def _episodes_columns(fu: FollowUp, scans: ScanVisits) -> tuple[Columns, Columns]:
    """Episodes (observed: patient, day, scan) and their truth (flare or progression)."""
    opened = scans.label >= 0
    pid = fu.patients.baseline.patient_id[scans.rows[opened]]
    k = scans.slots[opened]
    ids = episode_key(pid, k)
    episodes = {
        "episode_id": ids,
        "patient_id": pid,
        "day": scans.day[opened].astype(np.int16),
        "scan_index": k.astype(np.int16),
    }
    truth = {"episode_id": ids, "label": _cat(scans.label[opened], LABEL_NAMES)}
    return episodes, truth


def _best_response(fu: FollowUp, rows: np.ndarray | slice) -> np.ndarray:
    """Best overall response per patient (codes into BEST_RESPONSES), adjudicated.

    Each follow-up scan's response is its RECIST soft-tissue response, made PD where
    the bone reading is a true progression (known in hindsight; a flare is not PD).
    The best response before the first PD counts; SD only from ``SD_MIN_DAYS``.
    """
    rec = fu.record
    done = rec.scan_done[rows].copy()
    done[:, 0] = False
    response = rec.recist[rows].astype(np.int8)
    response[rec.label[rows] == O.PROGRESSION] = O.R_PD
    early_sd = (response == O.R_SD) & (fu.schedule.ct_day[rows] < SD_MIN_DAYS)
    is_pd = done & (response == O.R_PD)
    k = response.shape[1]
    first_pd = np.where(is_pd.any(axis=1), is_pd.argmax(axis=1), k)
    before = done & (np.arange(k)[None, :] < first_pd[:, None]) & ~early_sd
    # Rank: CR best (1), PR (2), SD (3); map to BEST_RESPONSES codes 0..2.
    ranked = np.where(before, response, 99)
    best = ranked.min(axis=1)
    out = np.full(response.shape[0], 4, dtype=np.int8)  # NE
    out[best == O.R_CR] = 0
    out[best == O.R_PR] = 1
    out[best == O.R_SD] = 2
    out[(best == 99) & (first_pd < k)] = 3  # PD before any qualifying response
    return out


def _first_day(fu: FollowUp, rows: np.ndarray | slice, label: int) -> np.ndarray:
    """Day of each patient's first episode with the given truth (NaN without)."""
    hit = fu.record.label[rows] == label
    days = np.where(hit, fu.schedule.ct_day[rows], np.iinfo(np.int32).max)
    first = days.min(axis=1).astype(float)
    first[~hit.any(axis=1)] = np.nan
    return first


def truth_table(fu: FollowUp, rows: np.ndarray | slice) -> pd.DataFrame:
    """Hidden values per patient, best response, and the consequences of any stop."""
    return _frame(_truth_columns(fu, rows))


def _truth_columns(fu: FollowUp, rows: np.ndarray | slice) -> Columns:
    lat = fu.patients.latent.take(rows)
    stop = fu.stop_day[rows].astype(float)
    stop[stop == NOT_STOPPED] = np.nan
    first_progression = _first_day(fu, rows, O.PROGRESSION)
    end, effective_end = follow_up_ends(
        lat.progression_day, lat.dropout_day, fu.patients.scenario.horizon_days
    )
    lost, delay = stop_consequences(stop, end, effective_end, first_progression)
    return {
        "patient_id": fu.patients.baseline.patient_id[rows],
        "best_response": _cat(_best_response(fu, rows), BEST_RESPONSES),
        "flare": lat.flare,
        "flare_onset_day": np.where(lat.flare, lat.flare_onset, np.nan),
        "flare_duration_days": np.where(lat.flare, lat.flare_duration, np.nan),
        "flare_observed_day": _first_day(fu, rows, O.FLARE),
        "first_progression_episode_day": first_progression,
        "progression_day": lat.progression_day,
        "soft_progression_day": lat.soft_progression_day,
        "new_lesion_day": lat.new_lesion_day,
        "bone_progression_day": lat.bone_progression_day,
        "new_bone_lesion_day": lat.new_bone_lesion_day,
        "dropout_day": lat.dropout_day,
        "nonresponder": lat.nonresponder,
        "bone_discordant": lat.bone_discordant,
        "decay_per_day": lat.decay,
        "growth_per_day": lat.growth,
        "bone_decay_per_day": lat.bone_decay,
        "bone_growth_per_day": lat.bone_growth,
        "alp_normal_u_per_l": lat.alp_normal,
        "alp_bone_excess_u_per_l": lat.alp_bone_excess,
        "alp_surge_u_per_l": lat.alp_surge,
        "calcium_set_point_mmol_per_l": lat.calcium_set_point,
        "stop_day": stop,
        "effective_days_lost": lost,
        "progression_delay_days": delay,
    }


def decisions_columns(fu: FollowUp) -> Columns:
    """A policy's call at every episode it saw, as arrays by column (none without a policy)."""
    log = fu.decisions
    if not log.rows:
        return {
            column: _cat([], spec.dtype)
            if isinstance(spec.dtype, tuple)
            else np.array([], dtype=object if spec.dtype == "str" else spec.dtype)
            for column, spec in TABLES["decisions"].items()
        }
    policy_name = fu.policy.name if fu.policy is not None else ""
    rows = np.concatenate(log.rows)
    slots = np.concatenate(log.slots)
    p_flare = np.concatenate(log.p_flare)
    action = np.concatenate(log.action)
    pid = fu.patients.baseline.patient_id[rows]
    order = np.lexsort((slots, pid))
    rows, slots, pid = rows[order], slots[order], pid[order]
    return {
        "episode_id": episode_key(pid, slots),
        "patient_id": pid,
        "day": fu.schedule.ct_day[rows, slots].astype(np.int16),
        "policy": np.full(rows.size, policy_name, dtype=object),
        "p_flare": p_flare[order],
        "action": _cat(action[order], ACTION_NAMES),
        "applied": np.full(rows.size, fu.closed_loop),
    }


def decisions_table(fu: FollowUp) -> pd.DataFrame:
    """A policy's call at every episode it saw (empty without a policy)."""
    if not fu.decisions.rows:
        return empty_table("decisions")
    return conform("decisions", _frame(decisions_columns(fu)))


def cohort_columns(fu: FollowUp) -> dict[str, Columns]:
    """Every table of a finished follow-up but ``decisions``, as arrays by column.

    What :func:`cohort_tables` wraps as DataFrames; a worker writing a cohort in place
    (:mod:`boneflare.simulator.arena`) takes the arrays as they are. From the engine's
    flat visit arrays when it made them (``fu.visits``), otherwise from its record.
    """
    if fu.visits is not None:
        labs, scans = fu.visits
    else:
        rows = np.arange(fu.patients.baseline.n)
        labs, scans = lab_visits(fu, rows), scan_visits(fu, rows)
    every = slice(None)  # every patient, in row order: views, not copies, of their arrays
    episodes, episode_truth = _episodes_columns(fu, scans)
    return {
        "patients": _patients_columns(fu, every),
        "labs": _labs_columns(fu, labs),
        "scans": _scans_columns(fu, scans),
        "episodes": episodes,
        "truth": _truth_columns(fu, every),
        "episode_truth": episode_truth,
    }


def cohort_tables(fu: FollowUp) -> CohortTables:
    """Assemble every table of a finished follow-up (:func:`cohort_columns`, decisions)."""
    tables = {table: _frame(columns) for table, columns in cohort_columns(fu).items()}
    return CohortTables(**tables, decisions=decisions_table(fu))
