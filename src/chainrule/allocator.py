"""Keep freed memory for reuse: glibc's malloc tuned for a training loop.

A training step allocates and frees the same model-sized arrays every step. By default
glibc serves a large array from fresh ``mmap`` pages, or gives the freed top of its heap
back to the system, so the next step faults the same pages in again: on the 784-256-10
network at batch 256, 100 to 400 page faults and 0.3 to 0.5 ms of a 5 ms step (measured
with ``getrusage``; ``docs/distributed.md``). PyTorch keeps freed blocks in its own caching
allocator; NumPy has none, so the ``chainrule train`` command asks glibc to keep them,
exactly as the environment variables ``MALLOC_MMAP_THRESHOLD_`` and
``MALLOC_TRIM_THRESHOLD_`` would. A library import never does this: it changes the
whole process, which is the application's choice.
"""

from __future__ import annotations

import ctypes
import os
import sys

# mallopt parameter numbers, from glibc's <malloc.h>.
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3

#: Arrays up to this size come from the heap, not from a fresh mmap (glibc's maximum).
MMAP_THRESHOLD = 32 * 2 ** 20
#: Freed memory at the top of the heap is kept up to this size.
TRIM_THRESHOLD = 256 * 2 ** 20

_ENV = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")


def keep_freed_memory() -> bool:
    """Ask glibc to keep freed memory for the next step; True if it was applied.

    Does nothing (False) off Linux/glibc, or where the user already set either
    ``MALLOC_MMAP_THRESHOLD_`` or ``MALLOC_TRIM_THRESHOLD_`` (their choice wins). The
    cost: up to ``TRIM_THRESHOLD`` bytes of freed memory stay with the process.
    """
    if not sys.platform.startswith("linux") or any(v in os.environ for v in _ENV):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
                and mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
