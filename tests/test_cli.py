"""The command line: outputs, files, and one-line errors with exit status 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pandas as pd
import pytest
from helpers import assert_tables_equal

from boneflare.benchmarks.cli import main
from boneflare.simulator import load_scenario, simulate
from boneflare.simulator.io import read_cohort


def run_cli(*args: str) -> subprocess.CompletedProcess:
    """Run ``boneflare`` in a child process, as a user would."""
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    return subprocess.run(
        [sys.executable, "-m", "boneflare.benchmarks.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def test_simulate_prints_a_summary(capsys):
    assert main(["simulate", "--patients", "2000", "--seed", "7"]) == 0
    out = capsys.readouterr().out
    assert "2,000 patients" in out
    for key in (
        "bone_metastatic_share",
        "flare_share_of_bone_metastatic",
        "median_observed_flare_onset_day",
    ):
        assert key in out


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["simulate", "--scenario", "nope"], "unknown scenario 'nope'"),
        (["simulate", "--set", "ct.interval_days=-1"], "ct.interval_days = -1"),
        (["simulate", "--set", "ct.interval_days"], "section.field=value"),
        (["simulate", "--set", "flare.enable=true"], "unknown field flare.enable"),
        (["simulate", "--patients", "many"], "not an integer"),
        (["simulate", "--patients", "0"], "must be at least 1, got 0"),
        (["simulate", "--patients", "-5"], "must be at least 1, got -5"),
        (["simulate", "--seed", "-1"], "must not be negative, got -1"),
        (["simulate", "--closed-loop"], "--closed-loop needs --policy"),
        (["simulate", "--engine", "warp"], "invalid choice"),
        (["scenarios", "show", "nope"], "unknown scenario"),
        (["simulate", "--scenario", "missing/file.toml"], "does not exist"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_no_traceback(args, needle):
    result = run_cli(*args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert needle in lines[0]
    assert "Traceback" not in result.stderr


def test_malformed_toml_file_exits_2(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[ct\n")
    result = run_cli("simulate", "--scenario", str(bad))
    assert result.returncode == 2 and "not valid TOML" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_simulate_writes_tables_and_provenance(tmp_path, fmt):
    out = tmp_path / "run"
    assert (
        main(
            [
                "simulate",
                "--patients",
                "300",
                "--seed",
                "4",
                "--out",
                str(out),
                "--format",
                fmt,
                "--set",
                "labs.noise=2",
            ]
        )
        == 0
    )
    info = json.loads((out / "provenance.json").read_text())
    assert info["seed"] == 4 and info["patients"] == 300
    assert info["scenario"]["labs"]["noise"] == 2.0
    assert info["version"]
    written = read_cohort(out)
    expected = simulate(load_scenario("paper", ["labs.noise=2"]), 300, seed=4)
    if fmt == "parquet":
        assert_tables_equal(written, expected)
    else:
        pd.testing.assert_series_equal(written.labs["value"], expected.labs["value"])
        assert len(written.scans) == len(expected.scans)


def test_existing_output_folder_is_refused_without_force(tmp_path):
    out = tmp_path / "run"
    assert main(["simulate", "--patients", "50", "--out", str(out)]) == 0
    part = out / "patients.parquet" / "part-000000.parquet"
    before = part.read_bytes()
    result = run_cli("simulate", "--patients", "60", "--out", str(out))
    assert result.returncode == 2 and "already exists" in result.stderr
    assert part.read_bytes() == before
    assert main(["simulate", "--patients", "60", "--out", str(out), "--force"]) == 0
    assert len(pd.read_parquet(out / "patients.parquet")) == 60


def test_unwritable_output_is_refused(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = run_cli("simulate", "--patients", "10", "--out", str(blocker / "sub"))
    assert result.returncode == 2 and "cannot write" in result.stderr


def test_single_patient_regeneration_prints_its_tables(capsys):
    assert main(["simulate", "--patient-id", "12", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert "== labs" in out and "== truth" in out


def test_workers_do_not_change_written_tables(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    one = ["--workers", "1"]
    assert main(["simulate", "--patients", "400", "--seed", "9", "--out", str(a), *one]) == 0
    assert (
        main(["simulate", "--patients", "400", "--seed", "9", "--out", str(b), "--workers", "2"])
        == 0
    )
    for name in ("labs", "scans", "truth"):
        parts = sorted(p.name for p in (a / f"{name}.parquet").iterdir())
        assert parts == sorted(p.name for p in (b / f"{name}.parquet").iterdir())
        for part in parts:
            assert (a / f"{name}.parquet" / part).read_bytes() == (
                b / f"{name}.parquet" / part
            ).read_bytes()


def test_scenarios_list_and_show(capsys):
    assert main(["scenarios", "list"]) == 0
    listing = capsys.readouterr().out
    assert "paper57" in listing and "no_flare" in listing
    assert main(["scenarios", "show", "ct_every_12_weeks", "--set", "labs.noise=4"]) == 0
    shown = capsys.readouterr().out
    assert "interval_days = 84" in shown and "noise = 4.0" in shown


def test_the_console_command_exits_with_main_status_and_spares_the_teardown(monkeypatch):
    import gc

    from boneflare.benchmarks import cli

    monkeypatch.setattr(cli, "main", lambda: 1)
    try:
        with pytest.raises(SystemExit) as exited:
            cli.run()
        assert exited.value.code == 1
        assert gc.get_freeze_count() > 0  # what is alive is left out of the last collections
    finally:
        gc.unfreeze()
