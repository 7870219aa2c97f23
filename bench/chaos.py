"""Chaos: kill -9, full disks and read-only folders against a synthetic vault.

Each scenario runs the real command-line program (or the real server) as a
child process, hurts it, then recovers the way a user would and checks:

- attempts      how many times the operation was started (and hurt);
- acknowledged  writes a client was told succeeded (HTTP 200 with an id, a
                completed ingestion's notes);
- lost          acknowledged writes not found afterwards (must be 0);
- integrity     ``PRAGMA integrity_check`` of the live database afterwards;
- index         after the next use: vectors == chunks and the index's
                version == the store's (``status`` says current);
- lied          times ``status`` called a stale index current (must be 0);
- tracebacks    Python tracebacks on any child's stderr (must be 0).

Scenarios (``--only`` picks some): ingest, http, backup, rebuild, restore
(kill -9 loops), diskfull (a small tmpfs), readonly (a read-only bind mount).
The last two need root for ``mount``; without it they say so and skip.

    .venv/bin/python bench/chaos.py                    # every scenario, ~3 min on 2 cores
    .venv/bin/python bench/chaos.py --only ingest,restore --rounds 10
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from synthetic import generate_vault  # noqa: E402

ENV = {**os.environ, "ATOCORE_CONFIG": os.devnull, "ATOCORE_INGEST_LOCK_TIMEOUT": "20"}


# ------------------------------------------------------------------ helpers
class Tally:
    def __init__(self, name: str):
        self.name = name
        self.attempts = 0
        self.acknowledged = 0
        self.lost = 0
        self.lied = 0
        self.tracebacks = 0
        self.integrity = "?"
        self.index = "?"
        self.note = ""

    def row(self) -> str:
        return (f"{self.name:<9} {self.attempts:>8} {self.acknowledged:>12} {self.lost:>5} "
                f"{self.integrity:<9} {self.index:<28} {self.lied:>4} {self.tracebacks:>10}  {self.note}")


HEADER = (f"{'scenario':<9} {'attempts':>8} {'acknowledged':>12} {'lost':>5} {'integrity':<9} "
          f"{'index (after next use)':<28} {'lied':>4} {'tracebacks':>10}")


def cli(data: Path, vault: Path, *args: str, tally: Tally | None = None,
        check: bool = False) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "atocore_tui.cli", "--data-dir", str(data),
                             "--vault", str(vault), *args], capture_output=True, text=True, cwd=ROOT, env=ENV)
    if tally is not None and "Traceback" in result.stderr:
        tally.tracebacks += 1
        print(result.stderr[-2000:], file=sys.stderr)
    if check and result.returncode != 0:
        raise RuntimeError(f"{args} failed: {result.stderr.strip()}")
    return result


def spawn(data: Path, vault: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "atocore_tui.cli", "--data-dir", str(data),
                             "--vault", str(vault), *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, cwd=ROOT, env=ENV)


def kill9(process: subprocess.Popen, tally: Tally) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
    _, err = process.communicate()
    if err and "Traceback" in err:
        tally.tracebacks += 1
        print(err[-2000:], file=sys.stderr)


def integrity(data: Path) -> str:
    uri = (data / "atocore.db").resolve().as_uri() + "?mode=ro"
    if not os.access(data, os.W_OK):
        uri += "&immutable=1"
    with sqlite3.connect(uri, uri=True) as connection:
        return connection.execute("PRAGMA integrity_check").fetchone()[0]


def status(data: Path, vault: Path, tally: Tally) -> dict:
    return json.loads(cli(data, vault, "status", "--json", tally=tally, check=True).stdout)


def claimed_honestly(data: Path, vault: Path, tally: Tally) -> None:
    """A stale index must never be called current (checked against the files)."""
    state = status(data, vault, tally)
    index = state["index"]
    sidecar = data / "index" / "chunks.json"
    try:
        meta = json.loads(sidecar.read_text())
    except (OSError, ValueError):
        meta = None
    uri = (data / "atocore.db").resolve().as_uri() + "?mode=ro"
    with sqlite3.connect(uri, uri=True) as connection:
        row = connection.execute("SELECT value FROM meta WHERE key = 'chunks_version'").fetchone()
        version = int(row[0]) if row else 0
    truly = meta is not None and meta["version"] == version and meta["count"] == state["chunks"]
    if index["current"] and not truly:
        tally.lied += 1


def index_after_use(data: Path, vault: Path, tally: Tally) -> str:
    """What a user gets on the next query: consistent, or not."""
    claimed_honestly(data, vault, tally)
    cli(data, vault, "query", "gearbox bearing", "--json", tally=tally)
    state = status(data, vault, tally)
    index = state["index"]
    ok = index["current"] and index["vectors"] == state["chunks"]
    return f"{'ok' if ok else 'BAD'} {index['vectors']}/{state['chunks']}"


def documents_match_vault(data: Path, vault: Path) -> int:
    """Notes on disk whose stored content hash differs from the file (lost writes)."""
    import hashlib

    uri = (data / "atocore.db").resolve().as_uri() + "?mode=ro"
    with sqlite3.connect(uri, uri=True) as connection:
        stored = dict(connection.execute("SELECT path, content_hash FROM document").fetchall())
    lost = 0
    for path in vault.rglob("*.md"):
        relative = path.relative_to(vault).as_posix()
        if stored.get(relative) != hashlib.sha256(path.read_bytes()).hexdigest():
            lost += 1
    return lost


def touch_notes(vault: Path, rng: random.Random, share: float = 0.2) -> None:
    notes = sorted(vault.rglob("*.md"))
    for path in rng.sample(notes, max(1, int(len(notes) * share))):
        with path.open("a", encoding="utf-8") as handle:
            handle.write(f"\nA revision line {rng.random():.6f} about the gearbox bearing preload.\n")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    def __init__(self, data: Path, vault: Path, tally: Tally):
        self.port = free_port()
        self.process = spawn(data, vault, "--serve", "--port", str(self.port))
        self.tally = tally
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2):
                    return
            except (OSError, urllib.error.URLError):
                time.sleep(0.1)
        raise RuntimeError("the server did not start")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def kill(self) -> None:
        kill9(self.process, self.tally)


class Writer(threading.Thread):
    """Posts memories one after another; remembers the ones acknowledged."""

    def __init__(self, url: str, prefix: str):
        super().__init__(daemon=True)
        self.url, self.prefix = url, prefix
        self.acknowledged: list[str] = []
        self.stop = threading.Event()
        self.number = 0

    def run(self) -> None:
        while not self.stop.is_set():
            self.number += 1
            content = f"{self.prefix} chaos fact number {self.number}"
            body = json.dumps({"memory_type": "knowledge", "content": content}).encode()
            request = urllib.request.Request(f"{self.url}/memory", data=body, method="POST",
                                             headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(request, timeout=30) as answer:
                    if answer.status == 200 and json.loads(answer.read()).get("id"):
                        self.acknowledged.append(content)
            except (OSError, urllib.error.URLError, ValueError):
                time.sleep(0.05)  # refused, busy or the server died: not acknowledged


def memories_in(db_file: Path) -> set[str]:
    uri = db_file.resolve().as_uri() + "?mode=ro"
    try:
        with sqlite3.connect(uri, uri=True) as connection:
            return {r[0] for r in connection.execute("SELECT content FROM memory")}
    except sqlite3.Error:
        return set()


# ---------------------------------------------------------------- scenarios
def scenario_ingest(work: Path, vault: Path, rounds: int, rng: random.Random) -> Tally:
    tally = Tally("ingest")
    data = work / "ingest"
    for _ in range(rounds):
        touch_notes(vault, rng)
        process = spawn(data, vault, "ingest")
        time.sleep(rng.uniform(0.5, 4.0))
        tally.attempts += 1
        kill9(process, tally)
    claimed_honestly(data, vault, tally)
    cli(data, vault, "ingest", tally=tally, check=True)  # the user's next run
    claimed_honestly(data, vault, tally)  # an ingestion after a crash must not save a stale index as current
    tally.acknowledged = len(list(vault.rglob("*.md")))
    tally.lost = documents_match_vault(data, vault)
    tally.integrity = integrity(data)
    tally.index = index_after_use(data, vault, tally)
    return tally


def scenario_http(work: Path, vault: Path, rounds: int, rng: random.Random) -> Tally:
    tally = Tally("http")
    data = work / "http"
    cli(data, vault, "ingest", tally=tally, check=True)
    acknowledged: list[str] = []
    for number in range(rounds):
        server = Server(data, vault, tally)
        writer = Writer(server.url, f"http-{number}")
        writer.start()
        time.sleep(rng.uniform(0.5, 2.5))
        tally.attempts += 1
        server.kill()
        writer.stop.set()
        writer.join()
        acknowledged.extend(writer.acknowledged)
    stored = memories_in(data / "atocore.db")
    tally.acknowledged = len(acknowledged)
    tally.lost = sum(1 for c in acknowledged if c not in stored)
    tally.integrity = integrity(data)
    tally.index = index_after_use(data, vault, tally)
    return tally


def scenario_backup(work: Path, vault: Path, rounds: int, rng: random.Random) -> Tally:
    tally = Tally("backup")
    data = work / "backup"
    cli(data, vault, "ingest", tally=tally, check=True)
    for _ in range(rounds):
        process = spawn(data, vault, "backup", "create", "--include-index")
        time.sleep(rng.uniform(0.3, 2.0))
        tally.attempts += 1
        kill9(process, tally)
    listed = json.loads(cli(data, vault, "backup", "list", "--json", tally=tally, check=True).stdout)["backups"]
    invalid = [b["stamp"] for b in listed
               if cli(data, vault, "backup", "validate", b["stamp"], tally=tally).returncode != 0]
    partials = list((data / "backups").glob(".partial-*"))
    tally.acknowledged = len(listed)
    tally.lost = len(invalid)  # a listed backup that does not validate is a lie
    tally.integrity = integrity(data)
    tally.index = index_after_use(data, vault, tally)
    tally.note = f"{len(listed)} complete, {len(invalid)} invalid, {len(partials)} partial folders left after a start"
    return tally


def scenario_rebuild(work: Path, vault: Path, rounds: int, rng: random.Random) -> Tally:
    tally = Tally("rebuild")
    data = work / "rebuild"
    cli(data, vault, "ingest", tally=tally, check=True)
    for _ in range(rounds):
        process = spawn(data, vault, "index", "rebuild")
        time.sleep(rng.uniform(0.3, 3.0))
        tally.attempts += 1
        kill9(process, tally)
        claimed_honestly(data, vault, tally)
    leftovers = [p.name for p in (data / "index").iterdir() if ".tmp" in p.name]
    tally.integrity = integrity(data)
    tally.index = index_after_use(data, vault, tally)
    tally.note = f"{len(leftovers)} temporary index files left by killed writers"
    return tally


def scenario_restore(work: Path, vault: Path, rounds: int, rng: random.Random) -> Tally:
    """A server takes writes while restores run (some killed, some complete)."""
    tally = Tally("restore")
    data = work / "restore"
    cli(data, vault, "ingest", tally=tally, check=True)
    base = json.loads(cli(data, vault, "backup", "create", "--json", tally=tally, check=True).stdout)["stamp"]
    server = Server(data, vault, tally)
    writer = Writer(server.url, "restore")
    writer.start()
    try:
        for number in range(rounds):
            process = spawn(data, vault, "backup", "restore", base, "--yes")
            if number % 2:
                time.sleep(rng.uniform(0.2, 1.5))
                kill9(process, tally)
            else:
                _, err = process.communicate()
                if "Traceback" in err:
                    tally.tracebacks += 1
            tally.attempts += 1
    finally:
        writer.stop.set()
        writer.join()
        server.kill()
    seen = memories_in(data / "atocore.db")
    for folder in (data / "backups").iterdir():
        seen |= memories_in(folder / "atocore.db")
    tally.acknowledged = len(writer.acknowledged)
    tally.lost = sum(1 for c in writer.acknowledged if c not in seen)
    tally.integrity = integrity(data)
    tally.index = index_after_use(data, vault, tally)
    tally.note = "every acknowledged write is in the live store or a pre-restore backup"
    return tally


def _mount(*args: str) -> bool:
    return subprocess.run(["mount", *args], capture_output=True).returncode == 0


def scenario_diskfull(work: Path, vault: Path, rounds: int, rng: random.Random) -> Tally:
    tally = Tally("diskfull")
    disk = work / "disk"
    disk.mkdir()
    if os.geteuid() != 0 or not _mount("-t", "tmpfs", "-o", "size=8m", "tmpfs", str(disk)):
        tally.note = "skipped: cannot mount a tmpfs (needs root)"
        return tally
    try:
        data = disk / "data"
        result = cli(data, vault, "ingest", tally=tally)
        tally.attempts += 1
        full_message = "error: the disk is full" in result.stderr and "Traceback" not in result.stderr
        server = Server(data, vault, tally) if (data / "atocore.db").exists() else None
        acknowledged: list[str] = []
        if server is not None:
            writer = Writer(server.url, "full")
            writer.start()
            time.sleep(3)
            writer.stop.set()
            writer.join()
            server.kill()
            acknowledged = writer.acknowledged
            tally.attempts += 1
        orphans = [p.name for p in (data / "index").iterdir() if ".tmp" in p.name] \
            if (data / "index").exists() else []
        _mount("-o", "remount,size=256m", str(disk))  # space freed
        cli(data, vault, "ingest", tally=tally, check=True)
        claimed_honestly(data, vault, tally)
        stored = memories_in(data / "atocore.db")
        tally.acknowledged = len(acknowledged) + len(list(vault.rglob("*.md")))
        tally.lost = sum(1 for c in acknowledged if c not in stored) + documents_match_vault(data, vault)
        tally.integrity = integrity(data)
        tally.index = index_after_use(data, vault, tally)
        tally.note = (f"tmpfs 8 MB; clear 'disk is full' message: {full_message}; "
                      f"orphan index files: {len(orphans)}")
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)
    return tally


def scenario_readonly(work: Path, vault: Path, rounds: int, rng: random.Random) -> Tally:
    tally = Tally("readonly")
    data = work / "ro-source"
    cli(data, vault, "ingest", tally=tally, check=True)
    view = work / "ro"
    view.mkdir()
    if os.geteuid() != 0 or not _mount("--bind", str(data), str(view)):
        tally.note = "skipped: cannot bind-mount (needs root)"
        return tally
    try:
        _mount("-o", "remount,bind,ro", str(view))
        reads = [["status"], ["query", "gearbox"], ["memory", "list"], ["backup", "list"], ["doctor"]]
        writes = [["memory", "add", "knowledge", "x"], ["ingest"], ["backup", "create"]]
        read_ok = sum(cli(view, vault, *a, tally=tally).returncode == 0 for a in reads)
        write_clear = sum("read-only" in cli(view, vault, *a, tally=tally).stderr.lower() for a in writes)
        tally.attempts = len(reads) + len(writes)
        tally.integrity = integrity(view)
        tally.index = "n/a (nothing may be written)"
        tally.note = (f"read-only bind mount; reads that worked {read_ok}/{len(reads)}, "
                      f"writes refused with a clear word {write_clear}/{len(writes)}")
    finally:
        subprocess.run(["umount", "-l", str(view)], capture_output=True)
    return tally


SCENARIOS = {
    "ingest": scenario_ingest, "http": scenario_http, "backup": scenario_backup,
    "rebuild": scenario_rebuild, "restore": scenario_restore, "diskfull": scenario_diskfull,
    "readonly": scenario_readonly,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--notes", type=int, default=300, help="notes in the synthetic vault")
    parser.add_argument("--rounds", type=int, default=5, help="kill -9 rounds per scenario")
    parser.add_argument("--only", default=",".join(SCENARIOS), help="comma-separated scenarios")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(unknown)}")
    work = Path(tempfile.mkdtemp(prefix="atocore-chaos-"))
    try:
        print(f"chaos: {args.notes} synthetic notes, {args.rounds} rounds, seed {args.seed}, in {work}")
        print(HEADER)
        failed = False
        for name in names:
            vault = work / f"vault-{name}"
            generate_vault(vault, args.notes)
            started = time.perf_counter()
            tally = SCENARIOS[name](work, vault, args.rounds, rng)
            tally.note = (tally.note + f" ({time.perf_counter() - started:.0f} s)").strip()
            print(tally.row(), flush=True)
            skipped = tally.note.startswith("skipped")
            failed |= (tally.lost > 0 or tally.lied > 0 or tally.tracebacks > 0
                       or (not skipped and tally.integrity != "ok")
                       or (not skipped and tally.index.startswith("BAD")))
        print("all zeros lost" if not failed else "FAILURES above")
        return 1 if failed else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
