"""``doctor``: what is wrong with a data directory, and the two ways back.

Everything here works without an :class:`~atocore_tui.engine.Engine`, because
the engine cannot open a damaged database (it refuses with
:class:`~atocore_tui.store.db.DatabaseDamaged`):

- :func:`diagnose` reads the database file directly (header, ``PRAGMA
  integrity_check``, schema version, every table), the index files, leftover
  partial backups, and which backups validate;
- :func:`restore_latest` / :func:`restore_offline` put a valid backup in place
  of a database that cannot be opened;
- :func:`salvage` copies every row that can still be read into a fresh
  database (rows on damaged pages are lost; it says how many tables it could
  not read whole).

A replaced database file is never deleted: it is kept beside the new one as
``atocore.db.damaged-<stamp>`` for forensics.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import tempfile
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, cast

from ..errors import NotFound, ValidationError
from ..store.db import DB_FILENAME, SCHEMA_VERSION, open_database
from .backup import Backups
from .backup_files import BACKUPS_FOLDER, INDEX_FILES, INDEX_FOLDER, PARTIAL_PREFIX
from .restore import restore_index_files

if TYPE_CHECKING:
    from ..engine import Engine

SQLITE_HEADER = b"SQLite format 3\x00"
INTEGRITY_LINES = 20
SIDE_FILES = ("-wal", "-shm", "-journal")
SALVAGE_PROBES = 20_000
"""Failed range reads per table before the rest of it is given up (a damaged
root page makes every range fail)."""


def _backups(data_dir: Path) -> Backups:
    """The backup operations that need only the data directory (list, validate)."""
    return Backups(cast("Engine", SimpleNamespace(data_dir=data_dir)))  # they read engine.data_dir only


def _ro(path: Path) -> sqlite3.Connection:
    """Read-only; on a folder that cannot be written (no -shm file can be
    made) the file is read as immutable."""
    immutable = "" if os.access(path.parent, os.W_OK) else "&immutable=1"
    return sqlite3.connect(path.resolve().as_uri() + "?mode=ro" + immutable, uri=True, timeout=10)


def check_database(path: Path) -> dict:
    """The state of one database file: ``ok`` and a list of ``problems``."""
    problems: list[str] = []
    info: dict = {"path": str(path), "exists": path.exists(), "bytes": 0}
    if not path.exists():
        return {**info, "ok": True, "problems": [], "note": "no database yet (a new data directory)"}
    info["bytes"] = path.stat().st_size
    if info["bytes"] == 0:
        return {**info, "ok": False, "problems": ["the file is empty (0 bytes)"]}
    with path.open("rb") as handle:
        if handle.read(16) != SQLITE_HEADER:
            return {**info, "ok": False, "problems": ["the header is not SQLite's (file is not a database)"]}
    try:
        with closing(_ro(path)) as connection:
            rows = [r[0] for r in connection.execute(f"PRAGMA integrity_check({INTEGRITY_LINES})")]
            if rows != ["ok"]:
                problems.extend(f"integrity: {r}" for r in rows)
            try:
                row = connection.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
                info["schema_version"] = int(row[0]) if row else 0
            except sqlite3.Error as exc:
                problems.append(f"meta table unreadable: {exc}")
            unreadable = []
            for (table,) in connection.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
                    " AND sql NOT LIKE 'CREATE VIRTUAL%'").fetchall():
                try:
                    for _ in connection.execute(f'SELECT * FROM "{table}"'):
                        pass  # read every row, keep none
                except sqlite3.Error as exc:
                    unreadable.append(f"{table} ({exc})")
            if unreadable:
                problems.append("tables not readable whole: " + ", ".join(unreadable))
    except sqlite3.Error as exc:
        problems.append(f"cannot read the database: {exc}")
    return {**info, "ok": not problems, "problems": problems}


def check_index(data_dir: Path, chunks: int | None, version: int | None) -> dict:
    folder = data_dir / INDEX_FOLDER
    vectors, sidecar = (folder / name for name in INDEX_FILES)
    info: dict = {"path": str(vectors)}
    if folder.exists() and not folder.is_dir():
        return {**info, "ok": False, "problems": [f"{folder} is not a folder"]}
    if not vectors.exists():
        return {**info, "ok": True, "problems": [], "note": "no index saved (built on next use)"}
    try:
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return {**info, "ok": False, "problems": [f"index sidecar unreadable ({exc}); rebuilt on next use"]}
    problems = []
    if version is not None and meta.get("version") != version:
        problems.append(f"index reflects store version {meta.get('version')}, store is at {version} "
                        "(rebuilt on next use)")
    if chunks is not None and meta.get("count") != chunks:
        problems.append(f"index holds {meta.get('count')} vectors for {chunks} chunks (rebuilt on next use)")
    return {**info, "vectors": meta.get("count"), "ok": not problems, "problems": problems}


def diagnose(data_dir: Path) -> dict:
    """Everything doctor looks at; ``healthy`` when nothing needs doing."""
    db_path = data_dir / DB_FILENAME
    database = check_database(db_path)
    chunks = version = None
    if database["ok"] and database["exists"]:
        try:
            with closing(_ro(db_path)) as connection:
                chunks = connection.execute("SELECT count(*) FROM chunk").fetchone()[0]
                row = connection.execute("SELECT value FROM meta WHERE key = 'chunks_version'").fetchone()
                version = int(row[0]) if row else 0
        except sqlite3.Error:
            pass
    index = check_index(data_dir, chunks, version)
    partials = sorted(str(p) for p in (data_dir / BACKUPS_FOLDER).glob(PARTIAL_PREFIX + "*"))
    newest = newest_valid_backup(data_dir)
    advice = []
    if not database["ok"]:
        advice.append("atocore-tui doctor --restore-latest" if newest else "atocore-tui doctor --salvage")
        if newest:
            advice.append(f"(or `atocore-tui doctor --salvage` to keep what is readable of changes made "
                          f"since backup {newest})")
    elif not index["ok"]:
        advice.append("atocore-tui index rebuild (or any query: it rebuilds a stale index)")
    return {
        "data_dir": str(data_dir),
        "healthy": database["ok"] and index["ok"],
        "database": database,
        "index": index,
        "partial_backups": partials,
        "newest_valid_backup": newest,
        "next_steps": advice,
    }


def newest_valid_backup(data_dir: Path) -> str | None:
    backups = _backups(data_dir)
    for entry in backups.entries():
        if entry.get("valid") and backups.validate(entry["stamp"])["valid"]:
            return entry["stamp"]
    return None


def _set_aside(db_path: Path) -> Path | None:
    """Move a damaged database (and its WAL/SHM files) out of the way, kept."""
    if not db_path.exists():
        return None
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    kept = db_path.with_name(f"{db_path.name}.damaged-{stamp}")
    number = 1
    while kept.exists():
        number += 1
        kept = db_path.with_name(f"{db_path.name}.damaged-{stamp}-{number}")
    os.replace(db_path, kept)
    for suffix in SIDE_FILES:
        side = db_path.with_name(db_path.name + suffix)
        if side.exists():
            os.replace(side, kept.with_name(kept.name + suffix))
    return kept


def _put_in_place(new_db: Path, db_path: Path) -> Path | None:
    """The new database file replaces the live one (which is kept aside)."""
    tmp = db_path.with_name(f".{db_path.name}.incoming{os.getpid()}")
    try:
        shutil.copyfile(new_db, tmp)
        with tmp.open("rb+") as handle:
            os.fsync(handle.fileno())
        kept = _set_aside(db_path)
        os.replace(tmp, db_path)
    finally:
        tmp.unlink(missing_ok=True)
    return kept


def _drop_index(data_dir: Path) -> None:
    restore_index_files(data_dir / INDEX_FOLDER, None, None)


def restore_offline(data_dir: Path, stamp: str) -> dict:
    """Restore a backup over a database that cannot be opened (no engine, no
    other process can be using it): the damaged file is set aside and the
    backup's file put in its place, then opened (and migrated) once."""
    backups = _backups(data_dir)
    result = backups.validate(stamp)
    if not result["valid"]:
        failed = "; ".join(f"{c['name']}: {c['detail']}" for c in result["checks"] if not c["ok"])
        raise ValidationError(f"backup {stamp} does not validate, refusing to restore it ({failed})")
    folder = backups.root / stamp
    meta = backups._read_metadata(folder)
    db_path = data_dir / DB_FILENAME
    kept = _put_in_place(folder / DB_FILENAME, db_path)
    if meta.get("include_index"):
        restore_index_files(data_dir / INDEX_FOLDER, folder / INDEX_FOLDER, None)
    else:
        _drop_index(data_dir)
    db = open_database(data_dir)  # migrates an older backup; proves it opens
    db.close()
    return {"restored": stamp, "damaged_file_kept": str(kept) if kept else None}


def restore_latest(data_dir: Path) -> dict:
    stamp = newest_valid_backup(data_dir)
    if stamp is None:
        raise NotFound("no backup validates; try `atocore-tui doctor --salvage`")
    return restore_offline(data_dir, stamp)


def salvage(data_dir: Path) -> dict:
    """Copy every readable row of the damaged database into a fresh one and
    put that in place. Rows on unreadable pages are lost; rows whose parent
    row was lost (a chunk without its document) are dropped so the store is
    consistent; the index is dropped (rebuilt on next use) and the full-text
    index rebuilt from the salvaged chunks."""
    db_path = data_dir / DB_FILENAME
    if not db_path.exists() or db_path.stat().st_size == 0:
        raise NotFound(f"nothing to salvage: {db_path} is missing or empty; "
                       "`atocore-tui doctor --restore-latest` or delete it to start a new store")
    report: dict = {"tables": {}, "unreadable": []}
    with tempfile.TemporaryDirectory(prefix=".salvage-", dir=data_dir) as scratch:
        fresh_dir = Path(scratch)
        open_database(fresh_dir).close()
        fresh = fresh_dir / DB_FILENAME
        with closing(sqlite3.connect(str(fresh), isolation_level=None)) as out:
            try:
                old = _ro(db_path)
                old.execute("SELECT count(*) FROM sqlite_master").fetchone()
            except sqlite3.Error as exc:
                raise ValidationError(f"nothing can be salvaged: {exc}. Restore a backup instead "
                                      "(`atocore-tui doctor --restore-latest`)") from None
            with closing(old):
                out.execute("BEGIN")
                tables = [r[0] for r in out.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
                    " AND sql NOT LIKE 'CREATE VIRTUAL%' AND name NOT LIKE 'chunk_fts%'")]
                for table in tables:
                    copied, lost = _salvage_table(old, out, table)
                    report["tables"][table] = copied
                    if lost:
                        report["unreadable"].append(table)
                out.execute("REPLACE INTO meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
                # orphans (e.g. chunks whose document row was on a lost page)
                dropped = 0
                while True:
                    orphans = out.execute("PRAGMA foreign_key_check").fetchall()
                    if not orphans:
                        break
                    for table, rowid, *_ in orphans:
                        out.execute(f'DELETE FROM "{table}" WHERE rowid = ?', (rowid,))
                        dropped += 1
                report["orphans_dropped"] = dropped
                row = out.execute("SELECT value FROM meta WHERE key = 'chunks_version'").fetchone()
                out.execute("REPLACE INTO meta (key, value) VALUES ('chunks_version', ?)",
                            (str((int(row[0]) if row else 0) + 1),))
                out.execute("INSERT INTO chunk_fts(chunk_fts) VALUES ('rebuild')")
                out.execute("COMMIT")
            check = out.execute("PRAGMA integrity_check").fetchone()[0]
            if check != "ok":
                raise ValidationError(f"the salvaged database does not pass its integrity check ({check}); "
                                      "nothing was replaced")
            out.execute("PRAGMA journal_mode=DELETE")
        kept = _put_in_place(fresh, db_path)
    _drop_index(data_dir)
    open_database(data_dir).close()
    report["damaged_file_kept"] = str(kept) if kept else None
    return report


def _salvage_table(old: sqlite3.Connection, out: sqlite3.Connection, table: str) -> tuple[int, bool]:
    """Copy a table's readable rows; (rows copied, whether some could not be read).

    Reads by rowid range; a range that fails is split in two until the
    unreadable rows are isolated (a damaged page costs only its own rows).
    """
    try:
        theirs = {r[1] for r in old.execute(f'PRAGMA table_info("{table}")')}
    except sqlite3.Error:
        return 0, True
    if not theirs:
        return 0, False  # the damaged database has no such table (an older schema)
    ours = [r[1] for r in out.execute(f'PRAGMA main.table_info("{table}")')]
    columns = [c for c in ours if c in theirs]
    names = ", ".join(f'"{c}"' for c in columns)
    insert = f'INSERT OR REPLACE INTO "{table}" ({names}) VALUES ({", ".join("?" * len(columns))})'
    select = f'SELECT {names} FROM "{table}" WHERE rowid BETWEEN ? AND ?'
    copied, lost, failures = 0, False, 0
    stack = [(-(2 ** 63), 2 ** 63 - 1)]
    while stack:
        low, high = stack.pop()
        try:
            rows = old.execute(select, (low, high)).fetchall()
        except sqlite3.Error:
            failures += 1
            if low >= high or failures > SALVAGE_PROBES:
                lost = True
                continue
            middle = (low + high) // 2
            stack.extend([(middle + 1, high), (low, middle)])
            continue
        out.executemany(insert, rows)
        copied += len(rows)
    return copied, lost
