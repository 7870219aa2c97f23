"""The data directory's ingestion lock: one writer of chunks at a time.

A file lock (``ingest.lock``) excludes other processes; a thread lock excludes
other threads of this process (file locks are per process on POSIX, so they
alone would let two threads in). The holder's pid and start time are written
beside the lock so that a refusal can say who holds it.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from .errors import Busy

_THREAD_LOCKS: dict[str, threading.Lock] = {}
_GUARD = threading.Lock()


def _thread_lock(path: Path) -> threading.Lock:
    with _GUARD:
        return _THREAD_LOCKS.setdefault(str(path.resolve()), threading.Lock())


def holder(data_dir: Path) -> dict | None:
    try:
        return json.loads((data_dir / "ingest.owner").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


@contextmanager
def ingest_lock(data_dir: Path, timeout: float = 0.0, purpose: str = "ingestion") -> Iterator[None]:
    """Hold the ingestion lock; raise :class:`Busy` if it is not free within ``timeout`` s."""
    data_dir.mkdir(parents=True, exist_ok=True)
    lock_path = data_dir / "ingest.lock"
    thread_lock = _thread_lock(lock_path)
    acquired = thread_lock.acquire(timeout=timeout) if timeout > 0 else thread_lock.acquire(blocking=False)
    if not acquired:
        raise Busy(f"an ingestion is already running in this process on {data_dir}")
    try:
        file_lock = FileLock(str(lock_path), timeout=timeout, is_singleton=False)
        try:
            file_lock.acquire()
        except Timeout:
            who = holder(data_dir) or {}
            detail = (f" (pid {who.get('pid')}, {who.get('purpose', 'ingestion')} since {who.get('since')})"
                      if who else "")
            raise Busy(f"another ingestion holds the lock on {data_dir}{detail}; try again when it finishes") from None
        try:
            (data_dir / "ingest.owner").write_text(json.dumps(
                {"pid": os.getpid(), "purpose": purpose,
                 "since": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())}), encoding="utf-8")
            yield
        finally:
            try:
                (data_dir / "ingest.owner").unlink()
            except OSError:
                pass
            file_lock.release()
    finally:
        thread_lock.release()


def is_locked(data_dir: Path) -> bool:
    """True when some process or thread holds the ingestion lock right now.

    A probe must never take the lock itself (a status poll would then make a
    concurrent ingestion fail with Busy), so it asks without acquiring: this
    process's thread lock, then whether the owner named in ``ingest.owner`` is
    a live process. A holder killed with -9 leaves a stale owner file whose pid
    is gone, which reads as free, as the file lock itself is.
    """
    if _thread_lock(data_dir / "ingest.lock").locked():
        return True
    who = holder(data_dir)
    if not who or not isinstance(who.get("pid"), int):
        return False
    pid = who["pid"]
    if pid == os.getpid():
        return False  # ours, and our thread lock is free: stale
    return process_alive(pid)


def process_alive(pid: int) -> bool:
    """Whether a process with this id runs (one we may not signal counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
