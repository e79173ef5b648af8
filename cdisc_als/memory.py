"""Resident memory between the stages of a run."""

from __future__ import annotations

import ctypes
import gc


def return_freed_memory() -> None:
    """Collect garbage and hand the C heap's free pages back to the system (glibc malloc_trim), so that the
    resident memory a finished stage leaves is not counted against the next; a no-op elsewhere."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
