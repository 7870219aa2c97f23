"""Freed heap goes back to the system (atocore_tui.heap), measured on this process."""

import threading
import time
from pathlib import Path

import pytest

from atocore_tui import heap

pytestmark = pytest.mark.skipif(heap._TRIM is None, reason="no malloc_trim in this C library")


def heap_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no RssAnon")


def fragment(megabytes: int) -> list:
    """In a thread (its own arena, as a request thread has): allocate many
    8 KB blocks and free nine in ten, so the arena keeps the free pages
    between the survivors."""
    kept: list = []

    def run():
        blocks = [bytearray(8192) for _ in range(megabytes * 128)]
        for block in blocks:
            block[0] = 1  # touch: resident
        kept.extend(blocks[::10])
        blocks.clear()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return kept


def test_trim_gives_free_pages_back():
    kept = fragment(200)
    before = heap_mb()
    assert heap.trim() is True
    after = heap_mb()
    assert before - after > 100, (before, after)  # ~180 of the 200 MB were free
    assert len(kept) == 200 * 128 // 10


def test_trimming_runs_in_the_background_until_stopped():
    baseline = heap_mb()
    stop = heap.start_trimming(every=0.05)
    assert stop is not None
    try:
        kept = fragment(200)  # 20 MB kept, 180 MB freed into the arena
        deadline = time.monotonic() + 5
        while heap_mb() > baseline + 60 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert heap_mb() <= baseline + 60, (baseline, heap_mb())
        assert any(t.name == "heap-trim" for t in threading.enumerate())
    finally:
        stop.set()
    time.sleep(0.2)
    assert not any(t.name == "heap-trim" for t in threading.enumerate())
    assert kept


def test_a_server_worker_trims_once_warm(engine):
    from atocore_tui.server import warm

    before = sum(t.name == "heap-trim" for t in threading.enumerate())
    warm(engine)
    assert sum(t.name == "heap-trim" for t in threading.enumerate()) == before + 1
