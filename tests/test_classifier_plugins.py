"""Plugins installed from separate packages: found, listed, checked; the docs' example runs.

Each package (``docs/plugin_example`` and ``tests/plugins/broken_plugin``) is copied to a
temporary folder and installed into another with its own build backend, never into
the environment; a child ``boneflare`` process finds it through ``PYTHONPATH``, exactly
as it would find a package installed by pip.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from boneflare.benchmarks.conformance import all_checks

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "docs" / "plugin_example"
BROKEN = ROOT / "tests" / "plugins" / "broken_plugin"
DOC = ROOT / "docs" / "classifiers.md"
EXAMPLE_NAME = "example_soft_tissue_alp"


def _can_build_wheels() -> bool:
    """Whether setuptools can build a wheel here without downloading anything."""
    import setuptools

    major, minor = (int(x) for x in setuptools.__version__.split(".")[:2])
    return (major, minor) >= (70, 1) or importlib.util.find_spec("wheel") is not None


def install(package: Path, into: Path) -> None:
    """Install the one-module package at ``package`` into the folder ``into``.

    With a wheel builder: ``pip install --no-deps --no-build-isolation --target``.
    Without one (setuptools < 70.1 and no ``wheel``), the package's own backend writes
    its metadata (``egg_info``, entry points included) and its module is copied: what
    ``importlib.metadata`` reads is the same.
    """
    work = into.parent / f"{package.name}-src"
    shutil.copytree(package, work)  # build artefacts stay out of the repository
    into.mkdir(parents=True, exist_ok=True)
    if _can_build_wheels():
        command = [sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation"]
        command += ["--no-index", "--quiet", "--target", str(into), str(work)]
        subprocess.run(command, check=True, capture_output=True, text=True)
        return
    command = [sys.executable, "-c", "from setuptools import setup; setup()"]
    command += ["--quiet", "egg_info", "--egg-base", str(into)]
    subprocess.run(command, cwd=work, check=True, capture_output=True, text=True)
    for module in work.glob("*.py"):
        shutil.copy(module, into)


def _env(folder: Path) -> dict[str, str]:
    path = os.pathsep.join(p for p in (str(folder), os.environ.get("PYTHONPATH", "")) if p)
    return dict(os.environ, PYTHONPATH=path, PYTHONWARNINGS="ignore")


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    """Run ``python *args`` in a child process with ``env``."""
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, env=env, timeout=300, check=False
    )


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    """Run ``boneflare *args`` in a child process with ``env``."""
    return run(env, "-m", "boneflare.benchmarks.cli", *args)


@pytest.fixture(scope="module")
def example_env(tmp_path_factory):
    folder = tmp_path_factory.mktemp("example") / "site"
    install(EXAMPLE, folder)
    return _env(folder)


@pytest.fixture(scope="module")
def broken_env(tmp_path_factory):
    folder = tmp_path_factory.mktemp("broken") / "site"
    install(BROKEN, folder)
    return _env(folder)


def test_an_installed_plugin_is_listed_beside_the_built_ins(example_env):
    result = cli(example_env, "classifiers", "list")
    assert result.returncode == 0, result.stderr
    names = [line.split()[0] for line in result.stdout.splitlines()]
    assert EXAMPLE_NAME in names and "recist_naive" in names and "bayes_oracle" in names
    (line,) = [x for x in result.stdout.splitlines() if x.startswith(EXAMPLE_NAME)]
    assert "example plugin: flare when soft tissue is not PD" in line


def test_the_example_plugin_passes_the_suite(example_env):
    result = cli(example_env, "classifiers", "check", EXAMPLE_NAME)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{EXAMPLE_NAME}: ok" in result.stdout


def test_a_broken_plugin_fails_naming_the_check(broken_env):
    result = cli(broken_env, "classifiers", "check", "broken_batch_median")
    assert result.returncode == 1
    assert "broken_batch_median: FAILED" in result.stdout
    assert "FAILED check_single_episode:" in result.stdout


def test_a_plugin_that_fails_to_import_is_one_line_and_status_two(broken_env):
    result = cli(broken_env, "classifiers", "check", "broken_import")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "broken_import" in result.stderr
    listing = cli(broken_env, "classifiers", "list")
    assert listing.returncode == 2 and "recist_naive" in listing.stdout
    assert "broken_import" in listing.stdout and "broken_import" in listing.stderr


def _fenced(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


def test_the_docs_show_the_example_files_exactly():
    shown = _fenced("toml") + _fenced("python")
    for path in (EXAMPLE / "pyproject.toml", EXAMPLE / "flare_example.py"):
        assert path.read_text(encoding="utf-8") in shown, f"docs/classifiers.md lacks {path.name}"


def test_the_docs_python_snippets_run_against_the_installed_example(example_env, tmp_path):
    usage, conformance = [
        block for block in _fenced("python") if "registry" in block or "parametrize" in block
    ]
    result = run(example_env, "-c", usage + "\nassert len(p_flare) == len(batch) > 0\n")
    assert result.returncode == 0, result.stderr
    test_file = tmp_path / "test_my_plugin.py"
    test_file.write_text(conformance, encoding="utf-8")
    result = run(example_env, "-m", "pytest", str(test_file), "-q", "-p", "no:cacheprovider")
    assert result.returncode == 0, result.stdout[-2000:]
    cases = conformance.count("SoftTissueAndAlp(")  # instances in the decorator
    assert f"{cases * len(all_checks())} passed" in result.stdout
