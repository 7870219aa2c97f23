"""Ingest and query benchmark on a synthetic engineering vault.

For each N (default 1000 and 10000) a fresh temporary directory gets a vault of
N generated markdown notes (see ``bench/synthetic.py``), then one engine:

* cold ingest (first run: parse, embed, write SQLite + FTS5, build and save the index)
* index rebuild alone (``Engine.vectors.rebuild``: re-embed every chunk into a new index)
* re-ingest of the unchanged vault (hash check only)
* query latency over warm queries (hybrid: FTS5 BM25 + vector + fusion), in process
* database and index sizes, peak RSS

Each N runs in its own child process so that peak RSS (``ru_maxrss``, the
process high-water mark) belongs to that N alone.

    .venv/bin/python bench/ingest_query.py                    # N = 1000 and 10000
    .venv/bin/python bench/ingest_query.py --notes 2000 --keep /tmp/bench
    .venv/bin/python bench/ingest_query.py --notes 1000 --profile   # cProfile of the cold ingest
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from synthetic import generate_vault, queries, run_environment  # noqa: E402

WARMUP_QUERIES = 5


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (Linux reports KiB)."""
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kib / 1024 if sys.platform != "darwin" else kib / 1024 / 1024


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Linear-interpolated percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    position = (len(sorted_values) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


def file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def run_one(notes: int, workdir: Path, n_queries: int, seed: int, profile: bool) -> dict:
    from atocore_tui.config import load_settings
    from atocore_tui.engine import Engine
    from atocore_tui.store import DB_FILENAME, Chunk, Document

    vault, data = workdir / "vault", workdir / "data"
    result: dict = {"notes": notes, "seed": seed, **run_environment()}

    started = time.perf_counter()
    generated = generate_vault(vault, notes, seed=seed)
    result["generate_s"] = time.perf_counter() - started
    result["vault_bytes"] = generated["bytes"]

    settings = load_settings(env={}, overrides={"data_dir": str(data), "sources.vault": str(vault)})
    started = time.perf_counter()
    engine = Engine(settings)
    result["engine_open_s"] = time.perf_counter() - started
    try:
        # Cold ingest: includes loading the model (lazy, on first use), embedding,
        # SQLite/FTS5 writes, index build and save.
        profiler = None
        if profile:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        started, cpu = time.perf_counter(), time.process_time()
        report = engine.ingest(progress=None)
        ingest_s = time.perf_counter() - started
        result["ingest_cpu_s"] = time.process_time() - cpu
        if profiler is not None:
            profiler.disable()
        summary = report.summary()
        result["ingest_s"] = ingest_s
        result["files_ingested"] = summary["ingested"]
        result["chunks"] = summary["chunks_added"]
        result["ingest_files_per_s"] = summary["ingested"] / ingest_s
        result["ingest_chunks_per_s"] = summary["chunks_added"] / ingest_s
        result["ingest_warnings"] = len(summary["warnings"])
        result["ingest_skipped"] = len(summary["skipped"])
        result["rss_after_ingest_mb"] = peak_rss_mb()
        result["avg_chunk_chars"] = (sum(len(c.content) for c in Chunk.select(Chunk.content))
                                     / max(1, summary["chunks_added"]))

        cpu = time.process_time()
        result["rebuild_s"] = engine.vectors.rebuild("bench")
        result["rebuild_cpu_s"] = time.process_time() - cpu
        result["rebuild_chunks_per_s"] = result["chunks"] / result["rebuild_s"]
        result["rss_after_rebuild_mb"] = peak_rss_mb()

        started, cpu = time.perf_counter(), time.process_time()
        again = engine.ingest(progress=None).summary()
        result["reingest_s"] = time.perf_counter() - started
        result["reingest_cpu_s"] = time.process_time() - cpu
        result["reingest_unchanged"] = again["unchanged"]
        if again["unchanged"] != notes or again["chunks_added"] or again["chunks_updated"]:
            raise SystemExit(f"re-ingest was not a no-op: {again}")

        prompts = queries(WARMUP_QUERIES + n_queries, seed=seed + 1)
        for prompt in prompts[:WARMUP_QUERIES]:
            engine.query(prompt, 10)
        latencies, hit_counts = [], []
        cpu = time.process_time()
        for prompt in prompts[WARMUP_QUERIES:]:
            started = time.perf_counter()
            hits = engine.query(prompt, 10)
            latencies.append(time.perf_counter() - started)
            hit_counts.append(len(hits))
        result["query_cpu_mean_ms"] = (time.process_time() - cpu) / len(latencies) * 1000
        latencies.sort()
        result["queries"] = len(latencies)
        result["query_p50_ms"] = percentile(latencies, 0.50) * 1000
        result["query_p95_ms"] = percentile(latencies, 0.95) * 1000
        result["query_p99_ms"] = percentile(latencies, 0.99) * 1000
        result["query_mean_ms"] = sum(latencies) / len(latencies) * 1000
        result["query_mean_hits"] = sum(hit_counts) / len(hit_counts)

        result["documents"] = Document.select().count()
        # Fold the WAL into the main file so the database size is the settled size.
        engine.db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        result["db_bytes"] = file_size(data / DB_FILENAME)
        result["wal_bytes"] = file_size(data / f"{DB_FILENAME}-wal")
        result["index_bytes"] = file_size(engine.vectors.index.path)
        result["index_dtype"] = settings.index.dtype
        exact_below = getattr(settings.index, "exact_below", 0)
        result["vector_search"] = ("exact" if result["chunks"] < exact_below else
                                   f"HNSW ef={settings.index.expansion_search}")
    finally:
        engine.close()
    result["peak_rss_mb"] = peak_rss_mb()

    if profiler is not None:
        import io
        import pstats

        stream = io.StringIO()
        stats = pstats.Stats(profiler, stream=stream).sort_stats("cumulative")
        stats.print_stats(40)
        print(stream.getvalue())
        stream = io.StringIO()
        pstats.Stats(profiler, stream=stream).sort_stats("cumulative").print_stats("atocore_tui", 25)
        print(stream.getvalue())
    return result


def mb(n: int) -> str:
    return f"{n / 1_048_576:.1f} MB"


def table(r: dict) -> str:
    rows = [
        ("notes / vault size", f"{r['notes']:,} files, {mb(r['vault_bytes'])}"),
        ("chunks (avg chars)", f"{r['chunks']:,} ({r['avg_chunk_chars']:.0f})"),
        ("generate vault", f"{r['generate_s']:.2f} s"),
        ("engine open", f"{r['engine_open_s']:.3f} s"),
        ("cold ingest", f"{r['ingest_s']:.2f} s  ({r['ingest_files_per_s']:.0f} files/s, "
                        f"{r['ingest_chunks_per_s']:.0f} chunks/s; cpu {r['ingest_cpu_s']:.2f} s)"),
        ("index rebuild alone", f"{r['rebuild_s']:.2f} s  ({r['rebuild_chunks_per_s']:.0f} chunks/s; "
                                f"cpu {r['rebuild_cpu_s']:.2f} s)"),
        ("re-ingest, unchanged", f"{r['reingest_s']:.2f} s  ({r['reingest_unchanged']:,} unchanged; "
                                 f"cpu {r['reingest_cpu_s']:.2f} s)"),
        ("query p50 / p95 / p99", f"{r['query_p50_ms']:.1f} / {r['query_p95_ms']:.1f} / "
                                  f"{r['query_p99_ms']:.1f} ms  (mean {r['query_mean_ms']:.1f} ms, "
                                  f"cpu {r['query_cpu_mean_ms']:.1f} ms; {r['queries']} queries, top_k 10)"),
        ("database (after checkpoint)", mb(r["db_bytes"])),
        (f"index ({r['index_dtype']})", mb(r["index_bytes"])),
        ("vector search at this size", r["vector_search"]),
        ("peak RSS (process)", f"{r['peak_rss_mb']:.0f} MB  (after ingest {r['rss_after_ingest_mb']:.0f}, "
                               f"after rebuild {r['rss_after_rebuild_mb']:.0f})"),
    ]
    width = max(len(name) for name, _ in rows)
    line = "-" * (width + 3 + max(len(v) for _, v in rows))
    out = [f"== N = {r['notes']:,}  (commit {r['commit']}, {r['cpus']} cpus, load {r['load1']} at start, "
           f"{r['date']}) ==", line]
    out += [f"{name:<{width}} | {value}" for name, value in rows]
    out.append(line)
    return "\n".join(out)


def compact(r: dict) -> dict:
    keys = ["commit", "date", "notes", "vault_bytes", "chunks", "generate_s", "ingest_s", "ingest_files_per_s",
            "ingest_chunks_per_s", "ingest_cpu_s", "rebuild_s", "reingest_s", "query_p50_ms", "query_p95_ms",
            "query_p99_ms", "db_bytes", "index_bytes", "index_dtype", "vector_search", "peak_rss_mb", "load1"]
    return {k: (round(r[k], 3) if isinstance(r[k], float) else r[k]) for k in keys}


def child(args) -> int:
    workdir = Path(args.child_workdir)
    result = run_one(args.child, workdir, args.queries, args.seed, args.profile)
    Path(args.child_result).write_text(json.dumps(result), encoding="utf-8")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, nargs="+", default=[1000, 10000], metavar="N",
                        help="vault sizes to run (default: 1000 10000)")
    parser.add_argument("--queries", type=int, default=200, help="timed queries per N (default 200)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--keep", metavar="DIR",
                        help="keep the vaults and data dirs under DIR (default: temp dirs, removed)")
    parser.add_argument("--profile", action="store_true", help="cProfile the cold ingest and print the top entries")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--child-workdir", help=argparse.SUPPRESS)
    parser.add_argument("--child-result", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        return child(args)

    results = []
    load_before = os.getloadavg()[0]
    for notes in args.notes:
        if args.keep:
            workdir = Path(args.keep).expanduser().resolve() / f"n{notes}"
            if workdir.exists():
                shutil.rmtree(workdir)
            workdir.mkdir(parents=True)
        else:
            workdir = Path(tempfile.mkdtemp(prefix=f"atocore-bench-n{notes}-"))
        result_file = workdir / "result.json"
        try:
            command = [sys.executable, str(Path(__file__).resolve()), "--child", str(notes),
                       "--child-workdir", str(workdir), "--child-result", str(result_file),
                       "--queries", str(args.queries), "--seed", str(args.seed)]
            if args.profile:
                command.append("--profile")
            print(f"running N = {notes:,} in {workdir} ...", flush=True)
            completed = subprocess.run(command)
            if completed.returncode != 0:
                print(f"N = {notes}: child failed with exit code {completed.returncode}", file=sys.stderr)
                return completed.returncode
            result = json.loads(result_file.read_text(encoding="utf-8"))
        finally:
            if not args.keep:
                shutil.rmtree(workdir, ignore_errors=True)
        results.append(result)
        print(table(result), flush=True)
        print(flush=True)

    print(f"# python {sys.version.split()[0]}, {os.cpu_count()} cpus, {time.strftime('%Y-%m-%d')}, "
          f"load average {load_before:.2f} before / {os.getloadavg()[0]:.2f} after "
          "(other busy processes skew the timings)")
    print("# peak RSS is ru_maxrss: the high-water mark of the whole child process for that N")
    print("# cpu = process CPU seconds (all threads); closer to wall time when the machine is otherwise idle")
    for result in results:
        print(json.dumps(compact(result), separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
