"""The scenario file of a fit: fitted values, rounded, with how they were found.

:func:`fit_to_file` is ``boneflare calibrate fit`` from Python: it starts from the
model's defaults (:func:`fit_start`), fits, and writes the fitted scenario
(:func:`write_fitted`) as TOML under a header that records the version, seed, cohort
size, evaluations, objective, overrides and fitted values. The shipped ``paper``
preset is such a file.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from boneflare.simulator.calibration.fit import DEFAULT_FREE, FitResult, FreeParameter, rounded
from boneflare.simulator.errors import BoneflareError
from boneflare.simulator.scenarios import dumps_toml, scenario_to_dict
from boneflare.simulator.scenarios.loader import apply_overrides, scenario_from_dict
from boneflare.simulator.scenarios.schema import Scenario

DESCRIPTION = (
    "The calibrated default: the paper cohort (Shi 2021), fitted by boneflare calibrate fit."
)
"""Description of a fitted scenario."""


def fit_start(overrides: Sequence[str] = ()) -> Scenario:
    """The start of a fit: the model's default parameters, with ``KEY=VALUE`` overrides.

    Raises
    ------
    BoneflareError
        On an unknown key or a bad value.

    """
    return scenario_from_dict(apply_overrides(scenario_to_dict(Scenario()), list(overrides)))


def fitted_scenario(
    result: FitResult, name: str = "paper", free: tuple[FreeParameter, ...] = DEFAULT_FREE
) -> Scenario:
    """The fitted scenario as written: free values to 4 significant digits, named.

    Parameters
    ----------
    result : FitResult
        What :func:`~boneflare.simulator.calibration.fit.fit` returned.
    name : str
        Name of the scenario.
    free : tuple of FreeParameter
        The parameters that were fitted (rounded for a readable file).

    """
    raw = scenario_to_dict(rounded(result.scenario, free))
    return scenario_from_dict({**raw, "name": name, "description": DESCRIPTION})


def fitted_toml(
    result: FitResult,
    *,
    seed: int,
    patients: int,
    name: str = "paper",
    overrides: Sequence[str] = (),
    free: tuple[FreeParameter, ...] = DEFAULT_FREE,
) -> str:
    """The text of the fitted scenario file: a provenance header, then the TOML.

    Parameters
    ----------
    result : FitResult
        The fit.
    seed, patients : int
        Seed and cohort size of the fit's evaluations.
    name : str
        Name of the scenario.
    overrides : sequence of str
        The ``KEY=VALUE`` changes of the start, recorded in the header.
    free : tuple of FreeParameter
        The parameters that were fitted.

    """
    from boneflare.simulator import __version__

    header = [
        "# Written by `boneflare calibrate fit` (simulated method of moments, Nelder-Mead,",
        "# common random numbers). Do not edit by hand: refit instead.",
        f"#   boneflare {__version__}; seed {seed}; {patients} patients per evaluation;",
        f"#   {result.evaluations} evaluations; objective {result.start_objective:.4f} -> "
        f"{result.objective:.4f}",
        f"#   overrides of the start: {' '.join(overrides) or 'none'}",
        "# Fitted parameters:",
        *[f"#   {k} = {v:.4g}" for k, v in result.values.items()],
        "",
    ]
    return "\n".join(header) + dumps_toml(fitted_scenario(result, name, free))


def check_writable(out: str | Path, force: bool = False) -> Path:
    """Refuse to replace an existing scenario file unless ``force``; return the path.

    Raises
    ------
    BoneflareError
        If ``out`` exists and ``force`` is false.

    """
    out = Path(out)
    if out.exists() and not force:
        raise BoneflareError(f"{out} already exists; use --force to replace it")
    return out


def write_fitted(
    result: FitResult,
    out: str | Path,
    *,
    seed: int,
    patients: int,
    name: str = "paper",
    overrides: Sequence[str] = (),
    force: bool = False,
) -> Path:
    """Write the fitted scenario file (:func:`fitted_toml`) and return its path.

    Raises
    ------
    BoneflareError
        If ``out`` exists and ``force`` is false.

    """
    path = check_writable(out, force)
    text = fitted_toml(result, seed=seed, patients=patients, name=name, overrides=overrides)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def fit_to_file(
    out: str | Path,
    *,
    name: str = "paper",
    overrides: Sequence[str] = (),
    patients: int = 40_000,
    seed: int = 1,
    max_evaluations: int = 600,
    workers: int = 1,
    force: bool = False,
    progress: Callable[[int, float], None] | None = None,
) -> FitResult:
    """Fit from the model's defaults and write the fitted scenario file.

    Parameters
    ----------
    out : str or Path
        The scenario file to write (``.toml``); refused before any work if it exists
        and ``force`` is false.
    name : str
        Name of the fitted scenario.
    overrides : sequence of str
        ``KEY=VALUE`` changes of the start (:func:`fit_start`).
    patients, seed, max_evaluations, workers, progress
        As :func:`~boneflare.simulator.calibration.fit.fit`.
    force : bool
        Replace an existing file.

    Returns
    -------
    FitResult
        The fit, as written to ``out``.

    """
    from boneflare.simulator.calibration.fit import fit

    check_writable(out, force)
    result = fit(
        fit_start(overrides),
        patients=patients,
        seed=seed,
        workers=workers,
        max_evaluations=max_evaluations,
        progress=progress,
    )
    write_fitted(
        result,
        out,
        seed=seed,
        patients=patients,
        name=name,
        overrides=overrides,
        force=force,
    )
    return result
