"""The memory task: full garbage collections on its schedule (not set off by ingest bursts), state restored; and
glibc's malloc set for a long run (one heap, fixed thresholds) unless the user set it."""

from __future__ import annotations

import ctypes
import gc
import os
import subprocess
import sys
import weakref
from pathlib import Path

import pytest
import trio
from flcollector.memory import (
    NEVER,
    collect_and_trim_every,
    scheduled_full_collections,
    tune_allocator,
)


class Node:
    """An object that can sit in a reference cycle and be watched through a weak reference."""

    me: Node | None = None


def test_the_schedule_freezes_start_up_and_restores_the_collector_on_exit() -> None:
    thresholds = gc.get_threshold()
    with scheduled_full_collections():
        assert gc.get_threshold() == (thresholds[0], thresholds[1], NEVER)
        assert gc.get_freeze_count() > 0  # what lived at start-up is out of every collection
    assert gc.get_threshold() == thresholds
    assert gc.get_freeze_count() == 0


async def test_an_old_cycle_is_collected_on_the_schedule_and_not_before(autojump_clock) -> None:  # type: ignore[no-untyped-def]
    thresholds = gc.get_threshold()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(collect_and_trim_every, 60.0)
        await trio.sleep(1)  # the task has started its schedule
        node = Node()
        node.me = node
        alive = weakref.ref(node)
        gc.collect(1)  # reachable still: moved to the oldest generation
        del node
        gc.collect(1)  # young collections do not look at the oldest generation
        for _ in range(100_000):  # nor does an allocation burst set off a full collection
            [[]]  # noqa: B018 - tracked containers, allocated and freed
        assert alive() is not None
        await trio.sleep(60)  # past the task's first interval
        assert alive() is None
        nursery.cancel_scope.cancel()
    assert gc.get_threshold() == thresholds and gc.get_freeze_count() == 0


class MallInfo2(ctypes.Structure):
    """glibc's ``struct mallinfo2``: ``hblks`` counts the blocks that have a mapping of their own."""

    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


def own_mappings() -> int:
    """How many allocated blocks glibc has given a mapping of their own."""
    try:
        mallinfo2 = ctypes.CDLL("libc.so.6").mallinfo2
    except (OSError, AttributeError):
        pytest.skip("not glibc 2.33 or later")
    mallinfo2.restype = MallInfo2
    return int(mallinfo2().hblks)


@pytest.mark.parametrize(
    ("environ", "left"),
    [
        ({"MALLOC_MMAP_THRESHOLD_": "65536"}, "MALLOC_MMAP_THRESHOLD_"),
        ({"MALLOC_TRIM_THRESHOLD_": "0"}, "MALLOC_TRIM_THRESHOLD_"),
        ({"MALLOC_ARENA_MAX": "4"}, "MALLOC_ARENA_MAX"),
        ({"GLIBC_TUNABLES": "glibc.malloc.arena_max=4:glibc.malloc.trim_threshold=0"}, "MALLOC_ARENA_MAX"),
    ],
)
def test_what_the_user_set_is_left_alone(environ: dict[str, str], left: str) -> None:
    own_mappings()  # glibc, or skipped
    done = tune_allocator(environ)
    assert left not in done and len(done) == (1 if "GLIBC_TUNABLES" in environ else 2)


def fresh_interpreter(script: str, *args: str) -> str:
    """Run ``script`` in a new interpreter with glibc's malloc as it starts (no ``MALLOC_*`` settings); its stdout."""
    own_mappings()  # glibc, or skipped
    env = {key: value for key, value in os.environ.items() if not key.startswith(("MALLOC_", "GLIBC_TUNABLES"))}
    done = subprocess.run(
        [sys.executable, "-c", script, *args], env=env, capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout


BIG_BLOCK_AFTER_A_BIGGER_ONE = """
import sys
from flcollector.memory import MMAP_THRESHOLD, tune_allocator
from test_memory import own_mappings
if sys.argv[1] == "tuned":
    tune_allocator({})
bigger = bytes(8 * MMAP_THRESHOLD)  # freed: left alone, glibc raises its threshold past the next block
del bigger
before = own_mappings()
block = bytes(2 * MMAP_THRESHOLD)
print(own_mappings() - before)
"""


@pytest.mark.parametrize(("how", "mapped"), [("tuned", 1), ("default", 0)])
def test_a_big_block_keeps_its_own_mapping_after_a_bigger_one_is_freed(how: str, mapped: int) -> None:
    # A block with its own mapping is given back the moment it is freed; one from a heap waits for a trim.
    script = f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r})\n" + BIG_BLOCK_AFTER_A_BIGGER_ONE
    assert int(fresh_interpreter(script, how)) == mapped


HEAPS_AFTER_A_THREAD_ALLOCATES = """
import ctypes, os, re, sys, tempfile, threading
from flcollector.memory import tune_allocator
if sys.argv[1] == "tuned":
    tune_allocator({})
worker = threading.Thread(target=lambda: [bytearray(4096) for _ in range(1000)])
worker.start()
worker.join()  # its heap outlives it: glibc keeps every arena it made
libc = ctypes.CDLL("libc.so.6")
libc.fopen.restype = ctypes.c_void_p
path = tempfile.mktemp()
stream = libc.fopen(path.encode(), b"w")
libc.malloc_info(0, ctypes.c_void_p(stream))
libc.fclose(ctypes.c_void_p(stream))
print(len(re.findall('<heap nr=', open(path).read())))
os.unlink(path)
"""


@pytest.mark.parametrize(("how", "heaps"), [("tuned", 1), ("default", 2)])
def test_a_worker_thread_allocates_from_the_one_shared_heap(how: str, heaps: int) -> None:
    assert int(fresh_interpreter(HEAPS_AFTER_A_THREAD_ALLOCATES, how)) == heaps
