"""Giving freed memory back to the OS after a large transient job (a conversion, an export, an index build)."""
from __future__ import annotations

import ctypes
import gc


def release_memory() -> None:
    """Collect garbage and hand glibc's free heap back to the OS: glibc keeps freed chunks below its (growing) mmap
    threshold, so a conversion's temporary copy of the weights would otherwise stay in the process's RSS."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to trim
        pass
