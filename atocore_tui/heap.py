"""Memory of a long-running process: freed heap handed back to the system
(:func:`trim`), and long-lived caches kept out of Python's garbage collector
(:func:`settle`).

glibc keeps what a thread frees in that thread's arena for later reuse, and
returns it to the system only from the top of the heap. A server whose
threads build packs (thousands of small arrays and strings each) therefore
sees its resident memory climb for as long as it runs, though nothing leaks:
on 100k chunks, 262 -> 341 MB of heap over a 10-minute load, of which
``malloc_trim(0)`` gave back 120-210 MB at any moment, in 10-22 ms
(bench/serve_load.py, docs/serve.md). The server trims every
``TRIM_EVERY_SECONDS`` in a background thread (0.2 % of a core); elsewhere
(musl, macOS) there is no ``malloc_trim`` and nothing runs.
"""

from __future__ import annotations

import ctypes
import gc
import threading
import time
from collections.abc import Callable

TRIM_EVERY_SECONDS = 10.0
"""Under load the heap regains 100-200 MB within 10-20 s of a trim."""


def _malloc_trim() -> Callable[[int], int] | None:
    try:
        process = ctypes.CDLL(None)  # the C library the interpreter runs on
    except OSError:  # pragma: no cover - no dynamic loader
        return None
    function = getattr(process, "malloc_trim", None)
    if function is None:
        return None
    function.argtypes = [ctypes.c_size_t]
    function.restype = ctypes.c_int
    return function


_TRIM = _malloc_trim()


def trim() -> bool:
    """Give the free pages of every arena back to the system now; False where
    the C library cannot (then nothing happens)."""
    if _TRIM is None:
        return False
    _TRIM(0)
    return True


def start_trimming(every: float = TRIM_EVERY_SECONDS) -> threading.Event | None:
    """Trim every ``every`` seconds in a daemon thread until the returned event
    is set (or the process ends); None where trimming is not available."""
    if _TRIM is None:
        return None
    stop = threading.Event()

    def run() -> None:
        while not stop.wait(every):
            trim()

    threading.Thread(target=run, name="heap-trim", daemon=True).start()
    return stop


SETTLE_EVERY_SECONDS = 60.0
"""At most one settle a minute: a full collection takes 30-100 ms on a big heap."""
_settled_at = float("-inf")
_SETTLE_LOCK = threading.Lock()


def settle() -> bool:
    """After a large, long-lived cache was built: collect cyclic garbage once,
    then exempt every object alive now from later collections (``gc.freeze``),
    so Python's full collections stop walking the cached rows again and again
    (at 100k chunks they made the slowest context packs). Frozen objects are
    still freed when their last reference goes; the collection first keeps
    garbage cycles out. At most once per ``SETTLE_EVERY_SECONDS``; True when it ran."""
    global _settled_at
    with _SETTLE_LOCK:
        if time.monotonic() - _settled_at < SETTLE_EVERY_SECONDS:
            return False
        _settled_at = time.monotonic()
    gc.collect()
    gc.freeze()
    return True
