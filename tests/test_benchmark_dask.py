"""The same benchmark on a Dask cluster (an in-process LocalCluster) gives the same results."""

from __future__ import annotations

import pandas as pd
import pytest
from test_benchmark_builtins import BUILTINS
from test_benchmark_builtins import CONFIG as BUILTIN_CONFIG
from test_harness_plugins import DeferTest, EarlyTest, LearnedTest, NaiveTest, RaisesTest

from boneflare.benchmarks.harness import BenchmarkConfig, Execution, run_benchmark
from boneflare.benchmarks.harness.execute import connect
from boneflare.classifiers.registry import names
from boneflare.simulator.errors import BoneflareError

CONFIG = BenchmarkConfig(
    classifiers=[NaiveTest, EarlyTest, DeferTest, LearnedTest, RaisesTest],
    replicates=3,
    patients=250,
    seed=13,
    grid=["labs.noise=1,2"],
)


def _comparable(results: pd.DataFrame) -> pd.DataFrame:
    keep = ~results["metric"].isin(["fit_seconds", "predict_seconds"])
    return results[keep].reset_index(drop=True)


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=False,
        dashboard_address=None,
        protocol="tcp",
    ) as local:
        yield local


def test_dask_and_local_runs_give_identical_results(cluster, tmp_path):
    on_dask = run_benchmark(
        CONFIG,
        tmp_path / "dask",
        execution=Execution(executor="dask", scheduler=cluster.scheduler_address),
    )
    local = run_benchmark(CONFIG, tmp_path / "local")  # no fork: this process has Dask threads
    assert on_dask.units_run == len(on_dask.plan.units)
    pd.testing.assert_frame_equal(_comparable(on_dask.results), _comparable(local.results))
    pd.testing.assert_frame_equal(on_dask.predictions, local.predictions)
    pd.testing.assert_frame_equal(on_dask.failures, local.failures)
    assert set(on_dask.failures["classifier"]) == {"raises_test"}


@pytest.mark.skipif(not BUILTINS <= set(names()), reason="built-in classifiers not installed")
def test_dask_and_local_runs_of_the_builtins_are_identical(cluster, tmp_path):
    on_dask = run_benchmark(
        BUILTIN_CONFIG,
        tmp_path / "dask",
        execution=Execution(executor="dask", scheduler=cluster.scheduler_address),
    )
    local = run_benchmark(BUILTIN_CONFIG, tmp_path / "local")
    assert on_dask.failures.empty
    pd.testing.assert_frame_equal(_comparable(on_dask.results), _comparable(local.results))
    pd.testing.assert_frame_equal(on_dask.predictions, local.predictions)


def test_a_dask_run_resumes_a_local_one(cluster, tmp_path):
    small = BenchmarkConfig(classifiers=[EarlyTest], replicates=2, patients=150)
    local = run_benchmark(small, tmp_path / "run")
    resumed = run_benchmark(
        small,
        tmp_path / "run",
        resume=True,
        execution=Execution(executor="dask", scheduler=cluster.scheduler_address),
    )
    assert resumed.units_run == 0
    pd.testing.assert_frame_equal(resumed.predictions, local.predictions)


@pytest.mark.parametrize(
    ("address", "needle"),
    [
        ("tcp://127.0.0.1:1", "cannot reach the Dask scheduler"),
        ("no-port-here", "bad Dask scheduler address"),
    ],
)
def test_an_unreachable_scheduler_is_one_clear_error(address, needle, tmp_path):
    with pytest.raises(BoneflareError, match=needle):
        connect(address)
    with pytest.raises(BoneflareError, match=needle):
        run_benchmark(
            BenchmarkConfig(classifiers=[EarlyTest], replicates=1, patients=100),
            tmp_path / "run",
            execution=Execution(executor="dask", scheduler=address),
        )
    assert not (tmp_path / "run").exists()  # nothing created before the executor is ready


def test_execution_options_are_checked():
    with pytest.raises(BoneflareError, match="needs --scheduler"):
        Execution(executor="dask").check()
    with pytest.raises(BoneflareError, match="for --executor dask"):
        Execution(scheduler="tcp://127.0.0.1:8786").check()
    with pytest.raises(BoneflareError, match="unknown executor"):
        Execution(executor="slurm").check()
