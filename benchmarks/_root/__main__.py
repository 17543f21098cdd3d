"""``python -m boneflare``: the ``boneflare`` command."""

from boneflare.benchmarks.cli import run

run()
