"""What a backup is on disk, and how one is checked.

The layout (``<data_dir>/backups/<stamp>/`` with ``atocore.db``, optionally
``index/``, and ``backup.json``), plain sqlite3 connections of our own, the
row counts a backup records, and the checks ``validate`` runs: checksums,
integrity, schema, counts, the full-text index and the vector index. Shared
by :mod:`.backup` (create, list, validate), :mod:`.restore` and :mod:`.doctor`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import tempfile
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from ..store import DB_FILENAME, MODELS, SCHEMA_VERSION
from ..store.db import BUSY_TIMEOUT_MS

BACKUPS_FOLDER = "backups"
METADATA_FILE = "backup.json"
INDEX_FOLDER = "index"
INDEX_FILES = ("chunks.usearch", "chunks.json")
"""The index files, in the order the index saves them (vectors, then sidecar)."""
FTS_TABLE = "chunk_fts"
STAMP_FORMAT = "%Y%m%dT%H%M%SZ"
STAMP_PATTERN = re.compile(r"\d{8}T\d{6}Z(?:-[1-9]\d{0,3})?")
PARTIAL_PREFIX = ".partial-"
PARTIAL_MAX_AGE_SECONDS = 6 * 3600
INDEX_COPY_ATTEMPTS = 5


@dataclass
class Check:
    name: str
    ok: bool
    detail: str = ""


# ------------------------------------------------------------------ SQLite
def _read_only_uri(path: Path) -> str:
    return path.resolve().as_uri() + "?mode=ro"


def _connect(path: Path, read_only: bool = False, autocommit: bool = False) -> sqlite3.Connection:
    """A plain sqlite3 connection of our own (not the engine's Peewee one).
    ``autocommit``: no implicit transactions (the caller says BEGIN)."""
    target = _read_only_uri(path) if read_only else str(path)
    if autocommit:
        return sqlite3.connect(target, uri=True, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    return sqlite3.connect(target, uri=True, timeout=BUSY_TIMEOUT_MS / 1000)


def table_names() -> list[str]:
    """Every table a backup counts: each model's table and the full-text index."""
    return [model._meta.table_name for model in MODELS] + [FTS_TABLE]


def table_counts(connection: sqlite3.Connection) -> dict[str, int]:
    return {table: connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
            for table in table_names()}


def _schema_version(connection: sqlite3.Connection) -> int:
    row = connection.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    return int(row[0]) if row else 0


def _check_database(db_file: Path, meta: dict | None) -> list[Check]:
    """Integrity, schema, every table readable with the recorded counts, FTS5 consistency."""
    checks = []
    try:
        with closing(_connect(db_file, read_only=True)) as connection:
            rows = [r[0] for r in connection.execute("PRAGMA integrity_check").fetchall()]
            checks.append(Check("integrity_check", rows == ["ok"], "; ".join(rows[:5])))
            version = _schema_version(connection)
            checks.append(Check("schema_version", 0 < version <= SCHEMA_VERSION,
                                f"backup schema {version}, this version knows up to {SCHEMA_VERSION}"))
            checks.append(_check_counts(connection, meta))
    except sqlite3.Error as exc:
        checks.append(Check("database", False, f"cannot read {DB_FILENAME}: {exc}"))
        return checks
    checks.append(_check_fts(db_file))
    return checks


def _check_counts(connection: sqlite3.Connection, meta: dict | None) -> Check:
    try:
        counts = table_counts(connection)
    except sqlite3.Error as exc:
        return Check("tables", False, f"a table is unreadable: {exc}")
    if meta is None:
        return Check("tables", True, f"{len(counts)} tables readable (no metadata to compare counts)")
    recorded = meta["counts"]
    differ = [f"{t}: {counts.get(t)} in the file, {recorded.get(t)} recorded"
              for t in sorted(set(counts) | set(recorded)) if counts.get(t) != recorded.get(t)]
    if differ:
        return Check("tables", False, "; ".join(differ))
    return Check("tables", True, f"{len(counts)} tables readable, counts match the metadata")


def _check_fts(db_file: Path) -> Check:
    """FTS5's integrity-check is an INSERT, so it runs on a scratch copy: the
    backup itself is only ever opened read-only."""
    with tempfile.TemporaryDirectory(prefix=".check-", dir=db_file.parent.parent) as scratch:
        copy = Path(scratch) / DB_FILENAME
        shutil.copyfile(db_file, copy)
        try:
            with closing(_connect(copy)) as connection:
                connection.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rank) VALUES ('integrity-check', 1)")
        except sqlite3.Error as exc:
            return Check("fts", False, f"full-text index inconsistent: {exc}")
    return Check("fts", True, "full-text index consistent with the chunks")


# ------------------------------------------------------------------- files
def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _describe_files(folder: Path) -> dict[str, dict]:
    """Size and sha256 of every file of a backup (except its metadata), by relative path."""
    return {path.relative_to(folder).as_posix(): {"bytes": path.stat().st_size, "sha256": _sha256(path)}
            for path in sorted(folder.rglob("*")) if path.is_file() and path.name != METADATA_FILE}


def _check_files(folder: Path, recorded: dict) -> list[Check]:
    checks = [] if DB_FILENAME in recorded else [Check("files", False, f"the metadata lists no {DB_FILENAME}")]
    return checks + [_check_file(folder, name, expected) for name, expected in sorted(recorded.items())]


def _check_file(folder: Path, name: str, expected) -> Check:
    """One file of the backup is where the metadata says and has its checksum."""
    path = folder / name
    check = f"file {name}"
    try:
        if not path.resolve().is_relative_to(folder.resolve()):
            return Check(check, False, "the path leaves the backup folder")
        if not path.is_file():
            return Check(check, False, "missing")
        if not isinstance(expected, dict) or _sha256(path) != expected.get("sha256"):
            return Check(check, False, "sha256 differs from the metadata")
    except OSError as exc:
        return Check(check, False, f"unreadable ({exc})")
    return Check(check, True, "sha256 matches")


def _mtimes(folder: Path) -> tuple[int, int]:
    return tuple(os.stat(folder / name).st_mtime_ns for name in INDEX_FILES)  # type: ignore[return-value]


def _check_index(folder: Path) -> Check:
    """The backed-up index loads with usearch and holds as many vectors as its sidecar says."""
    from usearch.index import Index

    vectors, sidecar = (folder / name for name in INDEX_FILES)
    try:
        expected = json.loads(sidecar.read_text(encoding="utf-8"))["count"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return Check("index", False, f"index sidecar unreadable ({exc})")
    try:
        index = Index.restore(str(vectors))
    except (RuntimeError, ValueError, OSError) as exc:
        return Check("index", False, f"index does not load ({exc})")
    if index is None:
        return Check("index", False, "index does not load (no usearch header)")
    if len(index) != expected:
        return Check("index", False, f"index holds {len(index)} vectors, its sidecar says {expected}")
    return Check("index", True, f"index loads with {len(index)} vectors")


def _stamp_order(stamp: str) -> tuple:
    """Sort key: by time, then by the same-second suffix numerically; odd names last."""
    if not STAMP_PATTERN.fullmatch(stamp):
        return ("", 0, stamp)
    base, _, number = stamp.partition("-")
    return (base, int(number or 1), stamp)
