"""How much memory a cohort held in memory needs, and a refusal up front when it is too much.

The figures were measured on the ``paper`` scenario (batched engine, 20,000 patients):
the five tables take 797 bytes per patient (pandas deep memory usage), and the peak
resident memory of a process simulating them grew by 49 MB, about 2,500 bytes per
patient (the tables, the chunk being simulated, and the engine's arrays). A large
cohort needs less per patient, since the chunks are copied into place as they arrive
(:mod:`boneflare.simulator.assembly`); the estimate stays on the safe side.
Streaming a cohort to disk (``simulate --out``) holds one chunk at a time and is
never refused.
"""

from __future__ import annotations

import os
from typing import Final

from boneflare.simulator.errors import BoneflareError

PEAK_BYTES_PER_PATIENT: Final[int] = 2_500
"""Peak memory of simulating one patient into in-memory tables (measured; see above)."""

GIB: Final[float] = 2.0**30


def machine_memory() -> int | None:
    """Physical memory of this machine in bytes (``None`` where it cannot be read)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        return None


def cohort_bytes(n_patients: int) -> int:
    """Estimated peak memory of simulating ``n_patients`` into memory."""
    return int(n_patients) * PEAK_BYTES_PER_PATIENT


def check_fits(estimate: int, what: str, hint: str = "") -> None:
    """Refuse work whose estimated memory exceeds the machine's.

    Parameters
    ----------
    estimate : int
        Estimated peak memory, in bytes.
    what : str
        What needs it, e.g. ``"a cohort of 50,000,000 patients in memory"``.
    hint : str
        What to do instead (appended to the message).

    Raises
    ------
    BoneflareError
        One line giving the estimate and the machine's memory.

    """
    available = machine_memory()
    if available is None or estimate <= available:
        return
    text = (
        f"{what} needs about {estimate / GIB:,.1f} GiB of memory, more than this machine "
        f"has ({available / GIB:,.1f} GiB)"
    )
    raise BoneflareError(f"{text}; {hint}" if hint else text)
