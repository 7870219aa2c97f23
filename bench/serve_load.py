"""Load on the HTTP face: N concurrent clients for a fixed time against a big data dir.

A synthetic vault (``bench/synthetic.py``) sized to about ``--chunks`` chunks
is generated and ingested once (kept under ``--keep`` between runs), then
``atocore-tui --serve --workers W`` runs as its own process(es) and N client
threads on loopback send a mix of /context/build, /query, /memory (list and
create) and /interactions (record and list) over keep-alive connections for
``--duration`` seconds. Prints requests/s, latency p50/p95/p99 per route and
overall, errors (anything but a 200), which must be 0, and the resident memory
of the server's processes before and after the load.

``--workers 1 2`` runs the same load against one worker, then two, in one run,
and prints the throughput of each relative to the first (timings drift
between runs on a shared machine; ratios within a run are steadier).

    .venv/bin/python bench/serve_load.py --chunks 10000 --clients 8
    .venv/bin/python bench/serve_load.py --chunks 100000 --workers 1 2
    .venv/bin/python bench/serve_load.py --chunks 100000 --keep /tmp/atocore-serve-load
    .venv/bin/python bench/serve_load.py --duration 600 --rss-every 10 --reads-only   # memory over 10 min
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from synthetic import PROJECTS, generate_vault, queries  # noqa: E402

CHUNKS_PER_NOTE = 5.76
"""Measured on the generator (bench/ingest_query.py: 57,641 chunks from 10,000 notes)."""
MIX = [  # (weight, name)
    (25, "context"), (35, "query"), (15, "memory_list"), (5, "memory_create"),
    (15, "interaction_record"), (5, "interaction_list"),
]
WRITES = ("memory_create", "interaction_record")
"""Left out with ``--reads-only``: the data dir stays as it is, so whatever the
server's memory does over a long run is the server's, not the data's growth."""


def prepare(workdir: Path, chunks: int, seed: int) -> tuple[Path, Path, dict]:
    """The vault and an ingested data dir, reused when already there."""
    vault, data = workdir / "vault", workdir / "data"
    stamp = workdir / "prepared.json"
    if stamp.is_file():
        return vault, data, json.loads(stamp.read_text())
    notes = max(10, round(chunks / CHUNKS_PER_NOTE))
    started = time.perf_counter()
    generate_vault(vault, notes, seed=seed)
    generated = time.perf_counter() - started
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "atocore_tui.cli", "--data-dir", str(data), "--vault", str(vault),
                    "ingest", "--json"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    info = {"notes": notes, "generate_s": round(generated, 1), "ingest_s": round(time.perf_counter() - started, 1)}
    stamp.write_text(json.dumps(info))
    return vault, data, info


def start_server(vault: Path, data: Path, port: int, workers: int = 1) -> subprocess.Popen:
    """The server, once every worker has started (each loads the model and the
    index first: connections made earlier would all land on the first one)."""
    process = subprocess.Popen([sys.executable, "-m", "atocore_tui.cli", "--data-dir", str(data), "--vault",
                                str(vault), "--serve", "--port", str(port), "--workers", str(workers)], cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    log: list[str] = []
    threading.Thread(target=lambda: log.extend(process.stderr), daemon=True).start()
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and process.poll() is None:
        if sum("Application startup complete" in line for line in log) >= workers:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/health")
                if conn.getresponse().status == 200:
                    return process
            except OSError:
                pass
        time.sleep(0.1)
    process.kill()
    raise SystemExit("server did not start: " + "".join(log)[-2000:])


def server_pids(pid: int) -> list[int]:
    """The server process and its worker processes (Linux /proc)."""
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return pids
    for child in map(int, children):
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if b"resource_tracker" not in command:
            pids.append(child)
    return pids


def rss_mb(pids: list[int], field: str = "VmRSS") -> float:
    """Resident MB of these processes (``field``: VmRSS, or RssAnon for the heap
    alone, without mapped files such as the database, the index and libraries)."""
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith(field + ":"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def threads(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("Threads:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes so far."""
    import os

    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return total / ticks


def sample_rss(pid: int, stop: float, every: float, out: list) -> None:
    """(seconds into the load, MB, heap MB, threads) of the server's processes every ``every`` seconds."""
    started = time.monotonic()
    while every and time.monotonic() < stop:
        pids = server_pids(pid)
        out.append((time.monotonic() - started, rss_mb(pids), rss_mb(pids, "RssAnon"), threads(pids)))
        time.sleep(every)


def request_for(name: str, rng: random.Random, prompts: list[str]) -> tuple[str, str, dict | None]:
    project = rng.choice(list(PROJECTS))
    prompt = rng.choice(prompts)
    if name == "context":
        return "POST", "/context/build", {"prompt": prompt, "project": project, "budget": 6000}
    if name == "query":
        return "POST", "/query", {"prompt": prompt, "top_k": 10, "project": project}
    if name == "memory_list":
        return "GET", "/memory?limit=50", None
    if name == "memory_create":
        return "POST", "/memory", {"memory_type": "knowledge", "content": f"load note {rng.random():.12f}: {prompt}",
                                   "confidence": 0.6}
    if name == "interaction_record":
        return "POST", "/interactions", {"prompt": prompt, "response": "ok", "project": project,
                                         "client": "serve_load", "session_id": f"s{rng.randrange(20)}"}
    return "GET", "/interactions?client=serve_load&limit=50", None


def client(port: int, seed: int, stop: float, prompts: list[str], out: list, fresh: bool = False,
           reads_only: bool = False) -> None:
    """One client: requests back to back over a keep-alive connection, or with
    ``fresh`` a new connection per request (as a hook running curl would)."""
    rng = random.Random(seed)
    names = [name for weight, name in MIX for _ in range(weight) if not (reads_only and name in WRITES)]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    while time.monotonic() < stop:
        name = rng.choice(names)
        method, path, body = request_for(name, rng, prompts)
        data = json.dumps(body).encode() if body is not None else None
        started = time.perf_counter()
        try:
            conn.request(method, path, body=data, headers={"Content-Type": "application/json"})
            answer = conn.getresponse()
            answer.read()
            status = answer.status
            if fresh:
                conn.close()
        except (OSError, http.client.HTTPException) as error:
            status = repr(error)
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        out.append((name, time.perf_counter() - started, status))
    conn.close()


def pct(values: list[float], q: float) -> float:
    if len(values) <= 1:
        return values[0] * 1000
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000


def run_load(vault: Path, data: Path, args, workers: int) -> dict:
    from atocore_tui.server.background import free_port

    port = args.port or free_port()
    server = start_server(vault, data, port, workers)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        conn.request("GET", "/health")
        health = json.loads(conn.getresponse().read())
        conn.request("POST", "/query", body=json.dumps({"prompt": "warm up"}),
                     headers={"Content-Type": "application/json"})
        conn.getresponse().read()  # each worker loads the model and the index before it serves
        conn.close()
        pids = server_pids(server.pid)
        rss_before = rss_mb(pids)
        cpu_before = {pid: cpu_seconds([pid]) for pid in pids}
        prompts = queries(500, seed=args.seed)
        results: list = []
        stop = time.monotonic() + args.duration
        threads = [threading.Thread(target=client, args=(port, args.seed + i, stop, prompts, results,
                                                         args.fresh_connections, args.reads_only))
                   for i in range(args.clients)]
        started, client_cpu = time.perf_counter(), time.process_time()
        samples: list[tuple[float, float]] = []
        sampler = threading.Thread(target=sample_rss, args=(server.pid, stop, args.rss_every, samples),
                                   daemon=True)
        for t in threads:
            t.start()
        if args.rss_every:
            sampler.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - started
        client_cpu = time.process_time() - client_cpu
        rss_after = rss_mb(server_pids(server.pid))
        per_process = [cpu_seconds([pid]) - cpu_before[pid] for pid in pids]
        cpu = sum(per_process)
    finally:
        server.terminate()
        server.wait(30)
    return {"workers": workers, "health": health, "results": results, "elapsed": elapsed,
            "processes": len(pids), "rss_before": rss_before, "rss_after": rss_after, "cpu": cpu,
            "cpu_per_process": per_process, "client_cpu": client_cpu, "rss_samples": samples}


def report(run: dict, args, base: dict | None) -> int:
    results, elapsed = run["results"], run["elapsed"]
    errors = [r for r in results if r[2] != 200]
    rate = len(results) / elapsed
    ratio = f" ({rate / (len(base['results']) / base['elapsed']):.2f}x one run of {base['workers']})" if base else ""
    print(f"== workers {run['workers']}: {args.clients} clients"
          f"{' (a new connection per request)' if args.fresh_connections else ''}, {elapsed:.1f} s, "
          f"{len(results):,} requests, "
          f"{rate:.1f} req/s{ratio}, errors {len(errors)}; server CPU {run['cpu']:.1f} s "
          f"({len(results) / max(run['cpu'], 1e-9):.0f} requests per CPU-second; per process "
          f"{', '.join(f'{c:.1f}' for c in run['cpu_per_process'])} s; the clients {run['client_cpu']:.1f} s); "
          f"server RSS {run['rss_before']:.0f} -> "
          f"{run['rss_after']:.0f} MB over {run['processes']} process(es)")
    print(f"{'route':<20}{'n':>7}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}")
    for name in [n for _, n in MIX] + ["all"]:
        times = [r[1] for r in results if name in ("all", r[0])]
        if times:
            print(f"{name:<20}{len(times):>7}{pct(times, 50):>10.1f}{pct(times, 95):>10.1f}{pct(times, 99):>10.1f}")
    if run["rss_samples"]:
        minutes: dict[int, list[float]] = {}
        for t, mb, _, _ in run["rss_samples"]:
            minutes.setdefault(int(t // 60), []).append(mb)
        print("server RSS per minute, lowest-highest sample: "
              + ", ".join(f"{m}: {min(v):.0f}-{max(v):.0f}" for m, v in sorted(minutes.items())))
        print("server RSS over the run (heap, threads): "
              + ", ".join(f"{t:.0f} s {mb:.0f} MB ({anon:.0f}, {n})" for t, mb, anon, n in run["rss_samples"]))
    for sample in errors[:5]:
        print("error", sample)
    return len(errors)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chunks", type=int, default=100_000, help="approximate chunks in the data dir")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of load")
    parser.add_argument("--workers", type=int, nargs="+", default=[1],
                        help="server worker processes; several values run one after the other (e.g. 1 2)")
    parser.add_argument("--rss-every", type=float, default=0.0, metavar="S",
                        help="sample the server's RSS every S seconds of the load (watch it stay flat)")
    parser.add_argument("--reads-only", action="store_true",
                        help="leave out the routes that write (memory_create, interaction_record)")
    parser.add_argument("--fresh-connections", action="store_true",
                        help="a new connection per request instead of one keep-alive connection per client "
                             "(workers share connections, not requests: with keep-alive and few clients "
                             "one worker may get most of them)")
    parser.add_argument("--keep", type=Path, default=None,
                        help="cache folder for the generated data dir (default /tmp/atocore-serve-load-<chunks>)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT / "bench"))
    from synthetic import run_environment

    workdir = args.keep or Path(f"/tmp/atocore-serve-load-{args.chunks}")
    vault, data, info = prepare(workdir, args.chunks, args.seed)
    env = run_environment()
    runs = [run_load(vault, data, args, workers) for workers in args.workers]
    health = runs[0]["health"]
    print(f"data dir   {data}  ({health['documents']:,} notes, {health['chunks']:,} chunks; prepared: {info})")
    print(f"commit {env['commit']}, {env['cpus']} cpus, load {env['load1']} at start, {env['date']}")
    errors = 0
    for run in runs:
        errors += report(run, args, runs[0] if run is not runs[0] else None)
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
