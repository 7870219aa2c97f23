"""Backups of a data directory: create, list, validate, restore.

A backup is a folder ``<data_dir>/backups/<stamp>/`` holding ``atocore.db`` (a
consistent online copy made with SQLite's backup API, so it can be taken while
another process ingests), optionally ``index/`` (the usearch file and its
sidecar), and ``backup.json`` (stamp, counts per table, size and sha256 of
every file). It is assembled in a hidden ``.partial-*`` folder and renamed into
place last, so a crash never leaves a half backup that lists as one.

Restore copies the backup's rows into the live database inside one SQLite
write transaction that also covers the pre-restore snapshot: other
connections (threads, a server process) see the old database or the new one,
never a mix, and no write can fall between the snapshot and the copy.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import tempfile
import time
import uuid
from contextlib import closing
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from .. import __version__
from ..errors import Busy, NotFound, ValidationError
from ..locks import ingest_lock
from ..store import DB_FILENAME, MODELS, SCHEMA_VERSION, utc_now
from ..store.db import BUSY_TIMEOUT_MS, FTS_SCHEMA

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


class Backups:
    """Backups of one engine's data directory."""

    def __init__(self, engine):
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
        result = self.validate(stamp)
        if not result["valid"]:
            failed = "; ".join(f"{c['name']}: {c['detail']}" for c in result["checks"] if not c["ok"])
            raise ValidationError(f"backup {stamp} does not validate, refusing to restore it ({failed})")
        folder = self.root / stamp
        meta = self._read_metadata(folder)
        engine = self.engine
        with ingest_lock(self.data_dir, engine.settings.ingest.lock_timeout, purpose="restore"):
            with engine.vectors.index.lock:
                with closing(_connect(self.data_dir / DB_FILENAME, autocommit=True)) as live:
                    live.execute("ATTACH DATABASE ? AS restored", (_read_only_uri(folder / DB_FILENAME),))
                    try:
                        live.execute("BEGIN IMMEDIATE")
                    except sqlite3.OperationalError as exc:
                        raise Busy(f"the database stayed busy, so nothing was restored ({exc}); "
                                   "try again") from None
                    try:
                        before = self.create(label="pre-restore", _holding_write_lock=True)
                        version = replace_contents(live)
                        live.execute("COMMIT")
                    except BaseException:
                        live.execute("ROLLBACK")
                        raise
                    live.execute("DETACH DATABASE restored")
                self._restore_index(folder / INDEX_FOLDER if meta["include_index"] else None, version)
        counts = table_counts(engine.db.connection())
        return {"restored": stamp, "pre_restore_backup": before["stamp"], "counts": counts}

    def _restore_index(self, backup_index: Path | None, version: tuple[int, int] | None = None) -> None:
        """Put the backup's index in place, or delete the live one (it is derived
        data, rebuilt from the restored database on next use); either way the
        in-memory index is dropped so the next query reloads it.

        ``version``: (the backup's chunks version, the new one the restore
        gave the store). A backed-up index that reflected the backup's chunks
        is relabelled with the new version; any other stays as it was and is
        found stale (and rebuilt) on next use."""
        restore_index_files(self._live_index_dir(), backup_index, version)
        self.engine.vectors.reset()

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
    swept = []
    now = time.time()
    try:
        folders = list(root.glob(PARTIAL_PREFIX + "*"))
    except OSError:
        return swept
    for folder in folders:
        owner = folder.name[len(PARTIAL_PREFIX):].split("-", 1)[0]
        try:
            if owner.isdigit():
                dead = int(owner) != os.getpid() and not _alive(int(owner))
            else:  # a name without the pid (an older version's): by age
                dead = now - folder.stat().st_mtime > PARTIAL_MAX_AGE_SECONDS
            if dead:
                shutil.rmtree(folder, ignore_errors=True)
                swept.append(folder.name)
        except OSError:
            pass
    return swept


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# ------------------------------------------------------------------ SQLite
def _read_only_uri(path: Path) -> str:
    return path.resolve().as_uri() + "?mode=ro"


def _connect(path: Path, read_only: bool = False, autocommit: bool = False) -> sqlite3.Connection:
    """A plain sqlite3 connection of our own (not the engine's Peewee one).
    ``autocommit``: no implicit transactions (the caller says BEGIN)."""
    extra = {"isolation_level": None} if autocommit else {}
    if read_only:
        return sqlite3.connect(_read_only_uri(path), uri=True, timeout=BUSY_TIMEOUT_MS / 1000, **extra)
    return sqlite3.connect(str(path), uri=True, timeout=BUSY_TIMEOUT_MS / 1000, **extra)


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
