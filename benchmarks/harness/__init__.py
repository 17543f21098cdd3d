"""The method benchmark: score classifiers on simulated cohorts, store results, resume.

The Python API behind ``boneflare benchmark``::

    from boneflare.benchmarks.harness import BenchmarkConfig, Execution, run_benchmark

    config = BenchmarkConfig(classifiers="all", scenarios=["paper"], replicates=20,
                             patients=1000, seed=1)
    result = run_benchmark(config, "runs/first", execution=Execution(workers=2))
    result.results  # long: scenario, task, classifier, replicate, metric, value

See docs/benchmarks.md (running) and docs/results.md (reading the results).
"""

from boneflare.benchmarks.harness.execute import Execution
from boneflare.benchmarks.harness.plan import BenchmarkConfig, Plan, make_plan
from boneflare.benchmarks.harness.run import BenchmarkResult, run_benchmark
from boneflare.benchmarks.harness.store import RunStore

__all__ = [
    "BenchmarkConfig",
    "BenchmarkResult",
    "Execution",
    "Plan",
    "RunStore",
    "make_plan",
    "run_benchmark",
]
