"""Backups of a data directory: create, list, validate, restore.

A backup is a folder ``<data_dir>/backups/<stamp>/`` holding ``atocore.db`` (a
consistent online copy made with SQLite's backup API, so it can be taken while
another process ingests), optionally ``index/`` (the usearch file and its
sidecar), and ``backup.json`` (stamp, counts per table, size and sha256 of
every file). It is assembled in a hidden ``.partial-*`` folder and renamed into
place last, so a crash never leaves a half backup that lists as one.

The layout and the checks are in :mod:`.backup_files`; restoring is in
:mod:`.restore`.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import time
import uuid
from contextlib import closing
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from .. import __version__
from ..errors import Busy, NotFound, ValidationError
from ..locks import process_alive
from ..store import DB_FILENAME, utc_now
from .backup_files import (
    BACKUPS_FOLDER,
    INDEX_COPY_ATTEMPTS,
    INDEX_FILES,
    INDEX_FOLDER,
    METADATA_FILE,
    PARTIAL_MAX_AGE_SECONDS,
    PARTIAL_PREFIX,
    STAMP_FORMAT,
    STAMP_PATTERN,
    Check,
    _check_database,
    _check_files,
    _check_index,
    _connect,
    _describe_files,
    _mtimes,
    _schema_version,
    _stamp_order,
    table_counts,
)
from .restore import restore_backup

if TYPE_CHECKING:
    from ..engine import Engine


class Backups:
    """Backups of one engine's data directory."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.data_dir: Path = engine.data_dir
        self.root = self.data_dir / BACKUPS_FOLDER

    # ----------------------------------------------------------------- create
    def create(self, include_index: bool = False, label: str | None = None, *,
               _holding_write_lock: bool = False) -> dict:
        """Snapshot the database (and optionally the index); returns the metadata."""
        if label is not None and not isinstance(label, str):
            raise ValidationError("label must be text")
        label = (label or "").strip() or None
        if label is not None and ("\n" in label or len(label) > 200):
            raise ValidationError("label must be one line of at most 200 characters")
        if include_index:
            self._ensure_index_saved()
        self.root.mkdir(parents=True, exist_ok=True)
        self._sweep_partials()
        partial = self.root / f"{PARTIAL_PREFIX}{os.getpid()}-{uuid.uuid4().hex}"
        partial.mkdir()
        try:
            schema_version, counts = self._copy_database(partial / DB_FILENAME, _holding_write_lock)
            if include_index:
                self._copy_index_files(partial / INDEX_FOLDER)
            files = _describe_files(partial)
            meta = {
                "stamp": None,  # given by _publish
                "created_at": utc_now(),
                "app_version": __version__,
                "schema_version": schema_version,
                "include_index": bool(include_index),
                "label": label,
                "counts": counts,
                "files": files,
                "bytes": sum(f["bytes"] for f in files.values()),
            }
            meta["stamp"] = self._publish(partial, meta)
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
        if not _holding_write_lock:  # (a restore's own snapshot never prunes the backup it restores)
            self.prune()
        return {**meta, "path": str(self.root / meta["stamp"])}

    def prune(self) -> list[str]:
        """Delete the oldest backups beyond the ``backup.keep`` setting (issue
        11, item 8: repeated backups used to fill the disk); returns their stamps."""
        keep = getattr(getattr(self.engine, "settings", None), "backup", None)
        keep = keep.keep if keep is not None else 0
        if keep <= 0:
            return []
        published = [e for e in self.entries() if STAMP_PATTERN.fullmatch(e["stamp"])]
        pruned = []
        for entry in published[keep:]:
            shutil.rmtree(self.root / entry["stamp"], ignore_errors=True)
            pruned.append(entry["stamp"])
        return pruned

    def _copy_database(self, target: Path, holding_write_lock: bool = False) -> tuple[int, dict[str, int]]:
        """Online copy of the live database, in one backup step (one read
        transaction, so one consistent snapshot even while another process
        writes); the copy is switched out of WAL mode so it is one file.

        ``holding_write_lock``: a restore holds SQLite's write lock on another
        connection; this read-only copy still runs (WAL readers never wait)
        and sees exactly the state the restore replaces."""
        live = self.data_dir / DB_FILENAME
        with closing(_connect(live, read_only=holding_write_lock)) as source, \
                closing(sqlite3.connect(str(target))) as copy:
            source.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")
            return _schema_version(copy), table_counts(copy)

    def _ensure_index_saved(self) -> None:
        """An index backup copies the saved index; build one first if there is none."""
        if not all((self._live_index_dir() / name).exists() for name in INDEX_FILES):
            self.engine.vectors.ensure()
        missing = [n for n in INDEX_FILES if not (self._live_index_dir() / n).exists()]
        if missing:
            raise Busy("the index has not been saved yet (an ingestion is building it); "
                       "try again when it finishes, or back up without the index")

    def _copy_index_files(self, target: Path) -> None:
        """Copy the saved index and its sidecar as one consistent pair.

        Our own process cannot save meanwhile (we hold the index lock). Another
        process saves by replacing the vectors file, then the sidecar; so the
        pair is consistent when neither file changed during the copy and the
        sidecar is not older than the vectors file.
        """
        source = self._live_index_dir()
        target.mkdir()
        with self.engine.vectors.index.lock:
            for _ in range(INDEX_COPY_ATTEMPTS):
                before = _mtimes(source)
                for name in INDEX_FILES:
                    shutil.copyfile(source / name, target / name)
                after = _mtimes(source)
                if before == after and after[1] >= after[0]:
                    return
                time.sleep(0.2)
        raise Busy("the index kept changing while it was copied; try again, or back up without the index")

    def _publish(self, partial: Path, meta: dict) -> str:
        """Give the backup the first free stamp of this second and rename it into place."""
        base = datetime.now(UTC).strftime(STAMP_FORMAT)
        # after the newest of this second, never a gap left by a pruned one (it would sort oldest)
        taken = [_stamp_order(p.name)[1] for p in self.root.glob(base + "*") if STAMP_PATTERN.fullmatch(p.name)]
        for number in range(max(taken, default=0) + 1, 1000):
            stamp = base if number == 1 else f"{base}-{number}"
            final = self.root / stamp
            if final.exists():
                continue
            meta["stamp"] = stamp
            (partial / METADATA_FILE).write_text(json.dumps(meta, indent=2), encoding="utf-8")
            try:
                os.rename(partial, final)
            except OSError:
                if final.exists():  # another backup took this stamp a moment ago
                    continue
                raise
            return stamp
        raise Busy("too many backups in one second")

    def _sweep_partials(self) -> None:
        sweep_partials(self.data_dir)

    # ------------------------------------------------------------------- list
    def entries(self) -> list[dict]:
        """Every backup folder, newest first; unreadable ones with ``valid: False`` and why.

        ``valid`` here means the metadata is readable; :meth:`validate` checks the contents.
        """
        if not self.root.is_dir():
            return []
        entries = []
        for folder in self.root.iterdir():
            if not folder.is_dir() or folder.name.startswith("."):
                continue
            try:
                meta = self._read_metadata(folder)
            except ValueError as problem:
                entries.append({"stamp": folder.name, "path": str(folder), "valid": False,
                                "reason": str(problem)})
            else:
                entries.append({**meta, "path": str(folder), "valid": True})
        return sorted(entries, key=lambda e: _stamp_order(e["stamp"]), reverse=True)

    # --------------------------------------------------------------- validate
    def validate(self, stamp: str) -> dict:
        """Check a backup from its checksums down to the index; never changes it."""
        folder = self._folder(stamp)
        checks: list[Check] = []
        try:
            meta = self._read_metadata(folder)
            checks.append(Check("metadata", True, f"{METADATA_FILE} readable"))
        except ValueError as problem:
            meta = None
            checks.append(Check("metadata", False, str(problem)))
        if meta is not None:
            checks.extend(_check_files(folder, meta["files"]))
        db_file = folder / DB_FILENAME
        if db_file.is_file():
            checks.extend(_check_database(db_file, meta))
        else:
            checks.append(Check("database", False, f"{DB_FILENAME} is missing"))
        if meta is not None and meta.get("include_index"):
            checks.append(_check_index(folder / INDEX_FOLDER))
        return {"stamp": stamp, "exists": True, "valid": all(c.ok for c in checks),
                "checks": [asdict(c) for c in checks]}

    # ---------------------------------------------------------------- restore
    def restore(self, stamp: str) -> dict:
        """Replace the live database (and index) with a backup that validates
        (:func:`.restore.restore_backup`: one critical section against every writer)."""
        return restore_backup(self, stamp)

    # ---------------------------------------------------------------- helpers
    def _live_index_dir(self) -> Path:
        return self.engine.vectors.index.path.parent

    def _folder(self, stamp: str) -> Path:
        """The folder of a backup: a well-formed stamp (no path tricks) that exists."""
        if not isinstance(stamp, str) or not STAMP_PATTERN.fullmatch(stamp):
            raise ValidationError(f"invalid backup stamp {stamp!r}: expected YYYYMMDDTHHMMSSZ")
        folder = self.root / stamp
        if not folder.is_dir():
            raise NotFound(f"unknown backup: {stamp}")
        return folder

    @staticmethod
    def _read_metadata(folder: Path) -> dict:
        """The folder's backup.json; ValueError says what is wrong with it."""
        path = folder / METADATA_FILE
        try:
            meta = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ValueError(f"{METADATA_FILE} is missing") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"{METADATA_FILE} is unreadable ({exc})") from None
        if not isinstance(meta, dict):
            raise ValueError(f"{METADATA_FILE} is not an object")
        shapes = {"stamp": str, "created_at": str, "counts": dict, "files": dict, "include_index": bool}
        wrong = [key for key, kind in shapes.items() if not isinstance(meta.get(key), kind)]
        if wrong:
            raise ValueError(f"{METADATA_FILE} lacks or mangles: {', '.join(wrong)}")
        if meta["stamp"] != folder.name:
            raise ValueError(f"{METADATA_FILE} names stamp {meta['stamp']!r}, the folder is {folder.name!r}")
        return meta


def sweep_partials(data_dir: Path) -> list[str]:
    """Remove leftovers of backups that were interrupted: a ``.partial-<pid>-*``
    folder whose process is gone (at once: called when an engine starts, issue
    11, item 12), and any other partial folder old enough not to be in progress."""
    root = data_dir / BACKUPS_FOLDER
    swept: list[str] = []
    now = time.time()
    try:
        folders = list(root.glob(PARTIAL_PREFIX + "*"))
    except OSError:
        return swept
    for folder in folders:
        owner = folder.name[len(PARTIAL_PREFIX):].split("-", 1)[0]
        try:
            if owner.isdigit():
                dead = int(owner) != os.getpid() and not process_alive(int(owner))
            else:  # a name without the pid (an older version's): by age
                dead = now - folder.stat().st_mtime > PARTIAL_MAX_AGE_SECONDS
            if dead:
                shutil.rmtree(folder, ignore_errors=True)
                swept.append(folder.name)
        except OSError:
            pass
    return swept
