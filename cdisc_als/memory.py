"""Resident memory between the stages of a run."""

from __future__ import annotations

import ctypes
import gc
import math
import os
import sys
from pathlib import Path


def return_freed_memory() -> None:
    """Collect garbage and hand the C heap's free pages back to the system (glibc malloc_trim), so that the
    resident memory a finished stage leaves is not counted against the next; a no-op elsewhere."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


MEMORY_VARIABLE = "CDISC_ALS_MEMORY_GB"
# peak resident memory of the ADaM validation and of the TLF stage, each per byte of the ADaM XPT files
# they read, rounded up from the measurements (docs/scale.md: at 100,000 subjects 11.7 and 5.1 GB for
# 10.2 GB of files; at 10,000, 1.4 and 0.7 GB for 1.0 GB); two heavy stages side by side need the sum
VALIDATION_PER_BYTE, TLF_PER_BYTE = 1.2, 0.6


def memory_budget() -> int:
    """Bytes a run may hold at once: CDISC_ALS_MEMORY_GB when it is a positive number ('inf': no limit), else
    two thirds of the memory this process may use: the machine's physical memory, or the container's limit
    (cgroup) when that is lower; what is left is the system's and the page cache's."""
    text = os.environ.get(MEMORY_VARIABLE, "").strip()
    try:
        gigabytes = float(text)
    except ValueError:
        gigabytes = 0.0
    if gigabytes > 0:
        return int(gigabytes * (1 << 30)) if math.isfinite(gigabytes) else sys.maxsize
    return usable_memory() * 2 // 3


CGROUP_LIMITS = (Path("/sys/fs/cgroup/memory.max"), Path("/sys/fs/cgroup/memory/memory.limit_in_bytes"))


def usable_memory() -> int:
    """The machine's physical memory, or the cgroup (v2, then v1) memory limit of this process when lower."""
    try:
        physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        physical = 8 << 30
    for limit_file in CGROUP_LIMITS:
        try:
            text = limit_file.read_text().strip()
        except OSError:
            continue
        if text.isdigit():
            physical = min(physical, int(text))
    return physical


def both_fit_in_memory(adam_folder: Path) -> bool:
    """Whether the ADaM validation and the TLF stage, which both read every ADaM file, fit in the memory
    budget side by side (else the TLFs start once the validation is done)."""
    size = sum(p.stat().st_size for p in Path(adam_folder).glob("*.xpt"))
    return (VALIDATION_PER_BYTE + TLF_PER_BYTE) * size <= memory_budget()
