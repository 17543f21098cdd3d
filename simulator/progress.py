"""Progress bars for long work: tqdm on a terminal, nothing otherwise."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

Update = Callable[[int | None], None]
"""``update(n)`` advances a bar by ``n``; ``update(None)`` closes it."""


def progress_bar(
    total: int,
    enabled: bool | None = None,
    *,
    unit: str = "it",
    desc: str | None = None,
    unit_scale: bool = False,
) -> Update:
    """Return an update callable for a tqdm bar, or a no-op.

    Parameters
    ----------
    total : int
        Work to be done, in ``unit``.
    enabled : bool or None
        Show the bar; ``None``: only when standard error is a terminal outside CI.
    unit, desc, unit_scale
        Passed to tqdm.
    """
    if enabled is None:
        enabled = sys.stderr.isatty() and not os.environ.get("CI")
    if not enabled or total == 0:
        return lambda n: None
    from tqdm import tqdm

    tqdm.monitor_interval = 0  # no monitor thread: worker processes may be forked
    bar = tqdm(
        total=total, desc=desc, unit=unit, unit_scale=unit_scale, file=sys.stderr, leave=False
    )

    def update(n: int | None) -> None:
        if n is None:
            bar.close()
        else:
            bar.update(n)

    return update
