"""``python -m boneflare``: the ``boneflare`` command."""

import sys

from boneflare.benchmarks.cli import main

sys.exit(main())
