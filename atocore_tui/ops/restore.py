"""Restoring a backup over the live data directory (``engine.backups.restore``).

Restore copies the backup's rows into the live database inside one SQLite
write transaction that also covers the pre-restore snapshot: other
connections (threads, a server process) see the old database or the new one,
never a mix, and no write can fall between the snapshot and the copy.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import Busy, ValidationError
from ..locks import ingest_lock
from ..store import DB_FILENAME, SCHEMA_VERSION
from ..store.db import FTS_SCHEMA
from .backup_files import FTS_TABLE, INDEX_FILES, INDEX_FOLDER, _connect, _read_only_uri, table_counts

if TYPE_CHECKING:
    from .backup import Backups


def restore_backup(backups: Backups, stamp: str) -> dict:
    """Replace the live database (and index) with a backup that validates.

    One critical section against every writer (issue 11, item 3): a
    connection takes SQLite's write lock (``BEGIN IMMEDIATE``); while it
    holds it the current state is backed up (label ``pre-restore``, read
    through WAL by a second connection) and the backup's rows replace the
    live ones; then it commits. Any other writer, in any process, waits on
    the busy timeout (or is refused) and so lands either in the
    pre-restore backup or after the restore, never in between. The
    ingestion lock is held as well so the index is not saved meanwhile.
    """
    result = backups.validate(stamp)
    if not result["valid"]:
        failed = "; ".join(f"{c['name']}: {c['detail']}" for c in result["checks"] if not c["ok"])
        raise ValidationError(f"backup {stamp} does not validate, refusing to restore it ({failed})")
    folder = backups.root / stamp
    meta = backups._read_metadata(folder)
    engine = backups.engine
    with ingest_lock(backups.data_dir, engine.settings.ingest.lock_timeout, purpose="restore"):
        with engine.vectors.index.lock:
            with closing(_connect(backups.data_dir / DB_FILENAME, autocommit=True)) as live:
                live.execute("ATTACH DATABASE ? AS restored", (_read_only_uri(folder / DB_FILENAME),))
                try:
                    live.execute("BEGIN IMMEDIATE")
                except sqlite3.OperationalError as exc:
                    raise Busy(f"the database stayed busy, so nothing was restored ({exc}); "
                               "try again") from None
                try:
                    before = backups.create(label="pre-restore", _holding_write_lock=True)
                    version = replace_contents(live)
                    live.execute("COMMIT")
                except BaseException:
                    live.execute("ROLLBACK")
                    raise
                live.execute("DETACH DATABASE restored")
            _restore_index(backups, folder / INDEX_FOLDER if meta["include_index"] else None, version)
    counts = table_counts(engine.db.connection())
    return {"restored": stamp, "pre_restore_backup": before["stamp"], "counts": counts}


def _restore_index(backups: Backups, backup_index: Path | None, version: tuple[int, int] | None = None) -> None:
    """Put the backup's index in place, or delete the live one (it is derived
    data, rebuilt from the restored database on next use); either way the
    in-memory index is dropped so the next query reloads it.

    ``version``: (the backup's chunks version, the new one the restore
    gave the store). A backed-up index that reflected the backup's chunks
    is relabelled with the new version; any other stays as it was and is
    found stale (and rebuilt) on next use."""
    restore_index_files(backups.engine.vectors.index.path.parent, backup_index, version)
    backups.engine.vectors.reset()


FTS_TRIGGERS = [statement for statement in FTS_SCHEMA if "CREATE TRIGGER" in statement]


def replace_contents(live: sqlite3.Connection) -> tuple[int, int]:
    """Inside the caller's write transaction, replace every row of the live
    database with the rows of the attached database ``restored``.

    The live schema stays (it is this version's; a backup's older schema has
    a subset of its columns, and migrations only add columns with defaults).
    The full-text index is rebuilt from the restored chunks, and the chunk
    version becomes newer than both the live and the backup one, so no index
    built from either state is taken for current. Returns (the backup's chunk
    version, the new one).
    """
    def version(schema: str) -> int:
        row = live.execute(f"SELECT value FROM {schema}.meta WHERE key = 'chunks_version'").fetchone()
        return int(row[0]) if row else 0

    live_version, backup_version = version("main"), version("restored")
    restored_tables = {r[0] for r in live.execute(
        "SELECT name FROM restored.sqlite_master WHERE type = 'table'")}
    tables = [r[0] for r in live.execute(
        "SELECT name FROM main.sqlite_master WHERE type = 'table' AND sql NOT LIKE 'CREATE VIRTUAL%' "
        "AND name NOT LIKE 'sqlite_%' AND name NOT LIKE ? ORDER BY name", (f"{FTS_TABLE}%",))]
    for statement in FTS_TRIGGERS:  # re-created below; the FTS index is rebuilt in one pass instead
        name = statement.split("IF NOT EXISTS", 1)[1].split()[0]
        live.execute(f"DROP TRIGGER IF EXISTS main.{name}")
    for table in tables:
        live.execute(f'DELETE FROM main."{table}"')
        if table not in restored_tables:
            continue
        ours = [r[1] for r in live.execute(f'PRAGMA main.table_info("{table}")')]
        theirs = {r[1] for r in live.execute(f'PRAGMA restored.table_info("{table}")')}
        columns = ", ".join(f'"{c}"' for c in ours if c in theirs)
        live.execute(f'INSERT INTO main."{table}" ({columns}) SELECT {columns} FROM restored."{table}"')
    live.execute(f"INSERT INTO main.{FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")
    for statement in FTS_TRIGGERS:
        live.execute(statement)
    live.execute("REPLACE INTO main.meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
    new_version = max(live_version, backup_version) + 1
    live.execute("REPLACE INTO main.meta (key, value) VALUES ('chunks_version', ?)", (str(new_version),))
    return backup_version, new_version


def restore_index_files(live: Path, backup_index: Path | None, version: tuple[int, int] | None) -> None:
    """Put a backup's index files in place (vectors first, sidecar last, as
    the index saves), or delete the live ones."""
    if backup_index is None:
        for name in reversed(INDEX_FILES):
            (live / name).unlink(missing_ok=True)
        return
    live.mkdir(parents=True, exist_ok=True)
    for name in INDEX_FILES:
        tmp = live / f"{name}.restore{os.getpid()}"
        try:
            shutil.copyfile(backup_index / name, tmp)
            if name == INDEX_FILES[1] and version is not None:
                sidecar = json.loads(tmp.read_text(encoding="utf-8"))
                if sidecar.get("version") == version[0]:
                    sidecar["version"] = version[1]
                    tmp.write_text(json.dumps(sidecar, indent=2), encoding="utf-8")
            os.replace(tmp, live / name)
        finally:
            tmp.unlink(missing_ok=True)
