"""The random numbers of a cohort, laid out so that any patient can be regenerated alone.

Randomness is drawn per fixed-size *draw block* of consecutive patients, from a
generator seeded by ``SeedSequence(seed, spawn_key=(DRAW_STREAM, block))``. Every
patient gets the same fixed set of standard uniforms and normals whatever happens to
it; the model turns them into values by inverse transforms. Hence:

* one seed gives the same numbers whatever the chunking, worker count or executor;
* the first N patients of a larger cohort are the N patients of a smaller one;
* a parameter change moves values smoothly (common random numbers for calibration).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np

from boneflare.simulator.scenarios.schema import Scenario

DRAW_BLOCK = 4096
"""Patients per draw block (the unit of random streams; not a tuning knob)."""

DRAW_STREAM = 0
"""First element of the spawn key of the per-block streams."""

# Columns of ``Draws.base_u`` (standard uniforms, one row per patient).
(
    U_SEX,
    U_STAGE,
    U_EGFR,
    U_ARM,
    U_BONE,
    U_CHARACTER,
    U_NONRESPONDER,
    U_FLARE,
    U_DROPOUT,
    U_AGE,
    U_BONE_RESPONSE,
) = range(11)
N_BASE_U = 11

# Columns of ``Draws.base_z`` (standard normals, one row per patient).
(
    Z_SLD0,
    Z_DECAY,
    Z_GROWTH,
    Z_BONE_DECAY,
    Z_BONE_GROWTH,
    Z_NEW_SOFT,
    Z_NEW_BONE,
    Z_ONSET,
    Z_DURATION,
    Z_ALP_NORMAL,
    Z_ALP_EXCESS,
    Z_CA_SET,
) = range(12)
N_BASE_Z = 12

# Last axis of ``Draws.lab_z`` / ``Draws.lab_u`` and ``Draws.ct_u``.
LAB_Z_ALP, LAB_Z_CA = 0, 1
LAB_U_DELAY, LAB_U_MISSED = 0, 1
CT_U_JITTER, CT_U_DETECT, CT_U_LOOK = 0, 1, 2


def lab_slots(scenario: Scenario) -> int:
    """Return the most lab draws a patient can have within the horizon (day 0 included)."""
    return scenario.horizon_days // scenario.labs.interval_days + 1


def ct_slots(scenario: Scenario) -> int:
    """Return the most CT scans a patient can have within the horizon (baseline included)."""
    return (scenario.horizon_days - scenario.ct.jitter_min_days) // scenario.ct.interval_days + 1


@dataclass(frozen=True)
class Draws:
    """Standard uniforms and normals for a range of patients (first axis: patient).

    Attributes
    ----------
    base_u, base_z : ndarray, shape (n, N_BASE_U) and (n, N_BASE_Z)
        Baseline and latent draws (columns named by the ``U_*`` / ``Z_*`` constants).
    lab_z, lab_u : ndarray, shape (n, lab_slots, 2)
        Per lab draw: assay noise (ALP, calcium); cycle delay and missed-draw uniforms.
    ct_z : ndarray, shape (n, ct_slots)
        Per CT: reader error of the measured sum of diameters.
    ct_u : ndarray, shape (n, ct_slots, 3)
        Per CT: scheduling jitter, detection and lesion-look uniforms.

    """

    base_u: np.ndarray
    base_z: np.ndarray
    lab_z: np.ndarray
    lab_u: np.ndarray
    ct_z: np.ndarray
    ct_u: np.ndarray

    @property
    def n(self) -> int:
        """Number of patients."""
        return self.base_u.shape[0]

    def take(self, rows: np.ndarray | slice) -> Draws:
        """Return the draws of a subset of patients (rows of this object)."""
        return Draws(**{f.name: getattr(self, f.name)[rows] for f in fields(self)})

    @staticmethod
    def concat(parts: list[Draws]) -> Draws:
        """Stack the draws of consecutive patient ranges."""
        if len(parts) == 1:
            return parts[0]
        return Draws(
            **{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(Draws)}
        )


def _layout(scenario: Scenario) -> list[tuple[str, str, tuple[int, ...]]]:
    """Each field of :class:`Draws` in drawing order: (name, ``"u"`` or ``"z"``, row shape).

    The order is part of the random streams: changing it changes every cohort.
    """
    k_lab, k_ct = lab_slots(scenario), ct_slots(scenario)
    return [
        ("base_u", "u", (N_BASE_U,)),
        ("base_z", "z", (N_BASE_Z,)),
        ("lab_z", "z", (k_lab, 2)),
        ("lab_u", "u", (k_lab, 2)),
        ("ct_z", "z", (k_ct,)),
        ("ct_u", "u", (k_ct, 3)),
    ]


def _block_rng(seed: int, block: int) -> np.random.Generator:
    sequence = np.random.SeedSequence(seed, spawn_key=(DRAW_STREAM, block))
    return np.random.Generator(np.random.PCG64(sequence))


def _fill(rng: np.random.Generator, kind: str, out: np.ndarray) -> None:
    """Fill ``out`` (C-contiguous) with standard uniforms or normals, in C order."""
    if kind == "u":
        rng.random(out=out)
    else:
        rng.standard_normal(out=out)


def draw_block(seed: int, block: int, scenario: Scenario) -> Draws:
    """Return the draws of one full draw block of ``DRAW_BLOCK`` patients."""
    rng = _block_rng(seed, block)
    arrays = {}
    for name, kind, shape in _layout(scenario):
        arrays[name] = np.empty((DRAW_BLOCK, *shape))
        _fill(rng, kind, arrays[name])
    return Draws(**arrays)


def draws_for_range(seed: int, start: int, stop: int, scenario: Scenario) -> Draws:
    """Return the draws of patients ``start`` (inclusive) to ``stop`` (exclusive).

    Whole draw blocks inside the range are drawn straight into the result's arrays. In
    a block cut by either end of the range, uniforms are drawn straight in too, the
    stream advanced past the rows outside the range (each uniform takes one 64-bit
    output of PCG64, so skipping ``k`` of them is ``advance(k)``); normals take a
    varying number of outputs each, so that block's normals are drawn whole and their
    part copied. A 1,000-patient cohort's draws: 8.9 ms before, 7.3 ms after.
    """
    if stop <= start:
        raise ValueError(f"empty patient range [{start}, {stop})")
    layout = _layout(scenario)
    arrays = {name: np.empty((stop - start, *shape)) for name, _, shape in layout}
    for block in range(start // DRAW_BLOCK, (stop - 1) // DRAW_BLOCK + 1):
        lo = block * DRAW_BLOCK
        first, last = max(start, lo), min(stop, lo + DRAW_BLOCK)
        rng = _block_rng(seed, block)
        whole = first == lo and last == lo + DRAW_BLOCK
        for name, kind, shape in layout:
            target = arrays[name][first - start : last - start]
            if whole:
                _fill(rng, kind, target)
            elif kind == "u":
                width = math.prod(shape)
                rng.bit_generator.advance((first - lo) * width)
                _fill(rng, kind, target)
                rng.bit_generator.advance((lo + DRAW_BLOCK - last) * width)
            else:
                scratch = np.empty((DRAW_BLOCK, *shape))
                _fill(rng, kind, scratch)
                target[...] = scratch[first - lo : last - lo]
    return Draws(**arrays)
