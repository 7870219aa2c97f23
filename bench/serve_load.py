"""Load on the HTTP face: N concurrent clients for a fixed time against a big data dir.

A synthetic vault (``bench/synthetic.py``) sized to about ``--chunks`` chunks
is generated and ingested once (kept under ``--keep`` between runs), then
``atocore-tui --serve`` runs as its own process and N client threads on
loopback send a mix of /context/build, /query, /memory (list and create) and
/interactions (record and list) over keep-alive connections for
``--duration`` seconds. Prints requests/s, latency p50/p95/p99 per route and
overall, and errors (anything but a 200), which must be 0.

    .venv/bin/python bench/serve_load.py --chunks 10000 --clients 8
    .venv/bin/python bench/serve_load.py --chunks 100000 --keep /tmp/atocore-serve-load
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


def start_server(vault: Path, data: Path, port: int) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-m", "atocore_tui.cli", "--data-dir", str(data), "--vault",
                                str(vault), "--serve", "--port", str(port)], cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/health")
            if conn.getresponse().status == 200:
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("server did not start: " + process.stderr.read().decode()[-2000:])


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


def client(port: int, seed: int, stop: float, prompts: list[str], out: list) -> None:
    rng = random.Random(seed)
    names = [name for weight, name in MIX for _ in range(weight)]
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
        except (OSError, http.client.HTTPException) as error:
            status = repr(error)
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        out.append((name, time.perf_counter() - started, status))
    conn.close()


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000 if len(values) > 1 else values[0] * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chunks", type=int, default=100_000, help="approximate chunks in the data dir")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of load")
    parser.add_argument("--keep", type=Path, default=None,
                        help="cache folder for the generated data dir (default /tmp/atocore-serve-load-<chunks>)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()

    from atocore_tui.server.background import free_port

    workdir = args.keep or Path(f"/tmp/atocore-serve-load-{args.chunks}")
    vault, data, info = prepare(workdir, args.chunks, args.seed)
    port = args.port or free_port()
    server = start_server(vault, data, port)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        conn.request("GET", "/health")
        health = json.loads(conn.getresponse().read())
        conn.request("POST", "/query", body=json.dumps({"prompt": "warm up"}), headers={"Content-Type": "application/json"})
        conn.getresponse().read()  # loads the model and the index before the clock starts
        conn.close()
        prompts = queries(500, seed=args.seed)
        results: list = []
        stop = time.monotonic() + args.duration
        threads = [threading.Thread(target=client, args=(port, args.seed + i, stop, prompts, results))
                   for i in range(args.clients)]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(20)

    errors = [r for r in results if r[2] != 200]
    print(f"data dir   {data}  ({health['documents']:,} notes, {health['chunks']:,} chunks; "
          f"prepared: {info})")
    print(f"load       {args.clients} clients, {elapsed:.1f} s, {len(results):,} requests, "
          f"{len(results) / elapsed:.1f} req/s, errors {len(errors)}")
    print(f"{'route':<20}{'n':>7}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}")
    for name in [n for _, n in MIX] + ["all"]:
        times = [r[1] for r in results if name in ("all", r[0])]
        if times:
            print(f"{name:<20}{len(times):>7}{pct(times, 50):>10.1f}{pct(times, 95):>10.1f}{pct(times, 99):>10.1f}")
    for sample in errors[:5]:
        print("error", sample)
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
