"""Giving freed memory back to the operating system, so a long run's RSS follows what the agent really holds.

CPython frees its objects into the C allocator, and glibc's ``malloc`` keeps what was freed inside its heaps: the
heap only shrinks from its top, so a few live blocks above a lot of freed ones keep all of it resident. Under a steady
load (ingest, API calls, polled sources) the agent's RSS grew this way by several MiB a minute while the memory it
actually used stayed flat (issue 13: glibc's ``mallinfo2`` showed the main heap's *free* bytes growing, its *used*
bytes not). ``malloc_trim(0)`` returns every whole free page of every heap to the kernel; the agent calls it every
``[agent] memory_trim_interval`` (in a worker thread: it walks every heap, tens of milliseconds on a busy one).
Elsewhere than glibc (musl, macOS) there is no ``malloc_trim`` and this does nothing.

What ``malloc_trim`` cannot give back is a page that still holds one live block, and glibc's defaults make many
such pages in a long run: each thread gets a heap ("arena") of its own, so the records the store's worker threads
build (SQLite's pages, parsed ingest, query rows) are freed later by the event loop into heaps that only those
threads use again; and glibc raises its mmap and trim thresholds each time a big block is freed, so big answers
come from the heaps too instead of mappings given back when freed. In the soak (issue 13, item 7) the three
worker-thread arenas each held 3-4 MiB of free memory after 20 minutes and still more later, while the memory in
use stayed flat. :func:`tune_allocator` sets one arena for every thread and fixed thresholds; the agent calls it at
start-up unless ``memory_trim_interval`` is ``0s``.

The same task schedules CPython's full garbage collections. Left to itself, CPython runs one whenever the objects that
survived since the last one reach a quarter of all the old ones: a burst of ingest (three 10 MB bodies: 300,000
records in flight) set off about fifteen in ten seconds, each 75-150 ms with the GIL held, and ``/health`` waited for
them (issue 13, item 5). So while the task runs, the start-up's objects (modules, classes, the config: they live
as long as the agent) are frozen out of every collection, the young generations are still collected as they fill
(cheap: they hold few objects), and the full collection runs once per interval, just before the trim, where it costs
a few milliseconds in a steady run. Reference cycles are still collected, at most one interval late.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import gc
import logging
import os
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import trio

log = logging.getLogger("flcollector.memory")


#: Blocks of at least this many bytes get a mapping of their own, unmapped when freed (glibc's default, held fixed).
MMAP_THRESHOLD = 128 * 1024
#: A heap's free top beyond this many bytes goes back to the kernel when a block is freed.
TRIM_THRESHOLD = 1024 * 1024
#: Heaps ("arenas") glibc may keep: one, shared by every thread.
ARENA_MAX = 1
# glibc's mallopt parameters set for a long run: (parameter number in malloc.h, value, and the environment variable
# and tunable by which a user sets the same parameter, which then win).
_LONG_RUN = (
    (-8, ARENA_MAX, "MALLOC_ARENA_MAX", "glibc.malloc.arena_max"),  # M_ARENA_MAX
    (-3, MMAP_THRESHOLD, "MALLOC_MMAP_THRESHOLD_", "glibc.malloc.mmap_threshold"),  # M_MMAP_THRESHOLD
    (-1, TRIM_THRESHOLD, "MALLOC_TRIM_THRESHOLD_", "glibc.malloc.trim_threshold"),  # M_TRIM_THRESHOLD
)


@functools.cache  # found once: find_library runs ldconfig, and start-up asks for two functions
def _libc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None


def _libc_function(name: str) -> Any:
    """The C library's function ``name`` (a ctypes function pointer), or None when it has none (not glibc)."""
    return getattr(_libc(), name, None)


def tune_allocator(environ: Mapping[str, str] = os.environ) -> list[str]:
    """Set glibc's malloc for a long run: one arena for every thread (:data:`ARENA_MAX`), and the mmap and trim
    thresholds held at :data:`MMAP_THRESHOLD` and :data:`TRIM_THRESHOLD` instead of rising as big blocks are freed.

    Call it before the agent starts its threads (a thread keeps the arena it was given). A parameter ``environ``
    sets itself (``MALLOC_ARENA_MAX``, ``MALLOC_MMAP_THRESHOLD_``, ``MALLOC_TRIM_THRESHOLD_`` or a ``glibc.malloc``
    tunable in ``GLIBC_TUNABLES``) is left as set. Returns the names of the parameters set: none without glibc."""
    mallopt = _libc_function("mallopt")
    if mallopt is None:
        return []
    tunables = environ.get("GLIBC_TUNABLES", "")
    return [
        variable
        for parameter, value, variable, tunable in _LONG_RUN
        if variable not in environ and tunable not in tunables and mallopt(parameter, value)
    ]


def malloc_trim() -> Callable[[], int] | None:
    """glibc's ``malloc_trim(0)`` as a Python callable (True when it released memory), or None without glibc."""
    trim = _libc_function("malloc_trim")
    if trim is None:
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return lambda: int(trim(0))


NEVER = 2**31 - 1  # a generation threshold that allocations never reach


@contextlib.contextmanager
def scheduled_full_collections() -> Iterator[None]:
    """While inside: the objects alive now are frozen out of collections, and full collections run only when
    :func:`collect_and_trim_every` asks (allocations still trigger the young generations). Restored on exit."""
    thresholds = gc.get_threshold()
    gc.collect()  # start-up's garbage goes first, so only what lives on is frozen
    gc.freeze()
    gc.set_threshold(thresholds[0], thresholds[1], NEVER)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


async def collect_and_trim_every(interval: float) -> None:
    """Every ``interval`` seconds, until cancelled: a full garbage collection, then freed memory back to the OS
    (the trim only with glibc)."""
    trim = malloc_trim()
    if trim is None:
        log.debug("no malloc_trim (not glibc): freed memory stays with the allocator")
    with scheduled_full_collections():
        while True:
            await trio.sleep(interval)
            started = time.perf_counter()
            found = gc.collect()
            collected = time.perf_counter()
            if trim is not None:
                await trio.to_thread.run_sync(trim)
            log.debug(
                "full collection: %d unreachable in %.1f ms; malloc_trim %.1f ms",
                found,
                (collected - started) * 1e3,
                (time.perf_counter() - collected) * 1e3,
            )
