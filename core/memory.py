"""Giving freed memory back to the operating system, so a long run's RSS follows what the agent really holds.

CPython frees its objects into the C allocator, and glibc's ``malloc`` keeps what was freed inside its heaps: the
heap only shrinks from its top, so a few live blocks above a lot of freed ones keep all of it resident. Under a steady
load (ingest, API calls, polled sources) the agent's RSS grew this way by several MiB a minute while the memory it
actually used stayed flat (issue 13: glibc's ``mallinfo2`` showed the main heap's *free* bytes growing, its *used*
bytes not). ``malloc_trim(0)`` returns every whole free page of every heap to the kernel; the agent calls it every
``[agent] memory_trim_interval`` (in a worker thread: it walks every heap, tens of milliseconds on a busy one).
Elsewhere than glibc (musl, macOS) there is no ``malloc_trim`` and this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import time
from collections.abc import Callable

import trio

log = logging.getLogger("flcollector.memory")


def malloc_trim() -> Callable[[], int] | None:
    """glibc's ``malloc_trim(0)`` as a Python callable (True when it released memory), or None without glibc."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return lambda: int(trim(0))


async def trim_every(interval: float) -> None:
    """Return freed memory to the OS every ``interval`` seconds, until cancelled (no-op without glibc)."""
    trim = malloc_trim()
    if trim is None:
        log.debug("no malloc_trim (not glibc): freed memory stays with the allocator")
        return
    while True:
        await trio.sleep(interval)
        started = time.perf_counter()
        await trio.to_thread.run_sync(trim)
        log.debug("malloc_trim took %.1f ms", (time.perf_counter() - started) * 1e3)
