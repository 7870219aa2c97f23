"""The engine against bm25s on the same short passages, in one run.

Timings drift from run to run on a shared machine, so the engine's figures are
given as ratios to a reference measured in the same run: ``bm25s`` (Lucene
BM25 k1 1.5 b 0.75, English stop words, Snowball stemmer via PyStemmer), in
process. Install it with ``pip install -e '.[bench]'``.

Passages: ``--passages`` (default 5,000) sentences sampled with a fixed seed
from the Cranfield abstracts in ``shared/data/ir/cranfield/corpus.jsonl``
(8,052 sentences of four words or more, about 160 characters each); with
``--source synthetic``, or when the Cranfield file is not there, sentences
from ``bench/synthetic.py`` instead. Queries: the 225 Cranfield queries (or
synthetic prompts), 5 warm-up queries, then ``--queries`` timed ones.

Each side runs in its own child process, so peak RSS (``ru_maxrss``) is its
own. Imports happen before the clock starts on both sides. Ingest time is
from there to a searchable, saved index:

* bm25s: stemmer construction, tokenising, indexing;
* engine: ``Engine(settings)`` on an empty data dir, then ``engine.ingest()``
  of a vault holding one ``.md`` file per passage (written before the clock):
  walk, read, hash, parse, model load, embed, SQLite + FTS5, vector index
  build and save.

Query: one prompt at a time, top 10: ``retriever.retrieve`` with the query
tokenised the same way vs ``engine.query(prompt, 10)`` (hybrid: FTS5 BM25 +
vectors + fusion).

    .venv/bin/python bench/vs_bm25.py
    .venv/bin/python bench/vs_bm25.py --passages 5000 --queries 500 --source synthetic
    .venv/bin/python bench/vs_bm25.py --set retrieval.top_k=10     # any engine setting
    .venv/bin/python bench/vs_bm25.py --repeat 5     # medians of five alternating runs per side
"""

from __future__ import annotations

import argparse
import json
import random
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from synthetic import queries as synthetic_queries  # noqa: E402
from synthetic import run_environment, sentences  # noqa: E402

CRANFIELD = ROOT.parent / "shared" / "data" / "ir" / "cranfield"
if not CRANFIELD.is_dir():
    CRANFIELD = Path("/work/shared/data/ir/cranfield")
SEED = 12
WARMUP = 5


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_data(source: str, count: int) -> tuple[str, list[str], list[str]]:
    """(what was used, passages, queries): the same on both sides."""
    corpus = CRANFIELD / "corpus.jsonl"
    if source == "cranfield" and corpus.is_file():
        pool: list[str] = []
        with corpus.open(encoding="utf-8") as handle:
            for line in handle:
                text = json.loads(line)["text"]
                pool += [s for s in re.split(r"(?<= \.) ", text) if len(s.split()) >= 4]
        if count > len(pool):
            raise SystemExit(f"only {len(pool)} Cranfield sentences; ask for fewer passages")
        passages = random.Random(SEED).sample(pool, count)
        with (CRANFIELD / "queries.jsonl").open(encoding="utf-8") as handle:
            prompts = [json.loads(line)["text"] for line in handle]
        return f"cranfield sentences (seed {SEED})", passages, prompts
    return "synthetic sentences (seed 7)", sentences(count, seed=7), synthetic_queries(500, seed=99)


def timed_queries(run_one, prompts: list[str], n: int) -> dict:
    cycle = [prompts[i % len(prompts)] for i in range(WARMUP + n)]
    for prompt in cycle[:WARMUP]:
        run_one(prompt)
    latencies, cpu = [], []
    for prompt in cycle[WARMUP:]:
        started, cpu_started = time.perf_counter(), time.process_time()
        run_one(prompt)
        latencies.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
    latencies.sort()
    cpu.sort()
    return {"query_p50_ms": latencies[len(latencies) // 2] * 1000,
            "query_p95_ms": latencies[int(len(latencies) * 0.95)] * 1000,
            "query_cpu_p50_ms": cpu[len(cpu) // 2] * 1000,
            "queries": len(latencies)}


def side_bm25s(passages: list[str], prompts: list[str], n_queries: int) -> dict:
    import bm25s
    import Stemmer

    started, cpu = time.perf_counter(), time.process_time()
    stemmer = Stemmer.Stemmer("english")
    tokens = bm25s.tokenize(passages, stopwords="en", stemmer=stemmer, show_progress=False)
    retriever = bm25s.BM25(k1=1.5, b=0.75, method="lucene")
    retriever.index(tokens, show_progress=False)
    ingest_s, ingest_cpu = time.perf_counter() - started, time.process_time() - cpu
    result = {"version": bm25s.__version__, "ingest_s": ingest_s, "ingest_cpu_s": ingest_cpu,
              "rss_after_ingest_mb": peak_rss_mb()}
    k = min(10, len(passages))

    def run_one(prompt: str):
        query = bm25s.tokenize([prompt], stopwords="en", stemmer=stemmer, show_progress=False,
                               return_ids=False)
        return retriever.retrieve(query, k=k, show_progress=False)  # n_threads 0: no pool

    result.update(timed_queries(run_one, prompts, n_queries))
    return result


def side_engine(passages: list[str], prompts: list[str], n_queries: int,
                overrides: dict | None = None, semantic: bool = False) -> dict:
    from atocore_tui.config import load_settings
    from atocore_tui.engine import Engine

    with tempfile.TemporaryDirectory(prefix="atocore-vs-bm25-") as tmp:
        vault, data = Path(tmp) / "vault", Path(tmp) / "data"
        for i, text in enumerate(passages):
            folder = vault / f"p{i // 500:02d}"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"passage-{i:05d}.md").write_text(text + "\n", encoding="utf-8")
        settings = load_settings(env={}, overrides={"data_dir": str(data), "sources.vault": str(vault),
                                                    **(overrides or {})})
        started, cpu = time.perf_counter(), time.process_time()
        engine = Engine(settings)
        report = engine.ingest()
        ingest_s, ingest_cpu = time.perf_counter() - started, time.process_time() - cpu
        try:
            summary = report.summary()
            if summary["ingested"] != len(passages):
                raise SystemExit(f"engine ingested {summary['ingested']} of {len(passages)}: {summary}")
            result = {"ingest_s": ingest_s, "ingest_cpu_s": ingest_cpu,
                      "chunks": summary["chunks_added"], "rss_after_ingest_mb": peak_rss_mb(),
                      "index_current": engine.status()["index"]["current"]}
            result.update(timed_queries(lambda prompt: engine.query(prompt, 10), prompts, n_queries))
            result["peak_rss_fast_mb"] = peak_rss_mb()
            if semantic:
                started = time.perf_counter()
                encoded = engine.semantic_pass()
                result["semantic_docs_per_s"] = encoded / (time.perf_counter() - started)
                every = timed_queries(lambda prompt: engine.query(prompt, 10), prompts, n_queries)
                result.update({f"all_{key}": value for key, value in every.items()})
        finally:
            engine.close()
    return result


def median_run(found: list[dict]) -> dict:
    """One side's figures: the median of each number over its runs."""
    merged = dict(found[0])
    for key, value in found[0].items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            merged[key] = statistics.median(run[key] for run in found)
    return merged


def child(args) -> int:
    _, passages, prompts = load_data(args.source, args.passages)
    if args.side == "bm25s":
        result = side_bm25s(passages, prompts, args.queries)
    else:
        result = side_engine(passages, prompts, args.queries, dict(pair.split("=", 1) for pair in args.set),
                             semantic=args.semantic)
    result["peak_rss_mb"] = peak_rss_mb()
    result["docs_per_s"] = len(passages) / result["ingest_s"]
    print(json.dumps(result))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--passages", type=int, default=5000)
    parser.add_argument("--queries", type=int, default=200, help="timed queries per side")
    parser.add_argument("--source", choices=["cranfield", "synthetic"], default="cranfield")
    parser.add_argument("--side", choices=["bm25s", "engine"], help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--repeat", type=int, default=1, metavar="N",
                        help="run each side N times, alternating, and report the medians")
    parser.add_argument("--semantic", action="store_true",
                        help="then run the semantic pass and time the queries again with every side on")
    parser.add_argument("--set", action="append", default=[], metavar="SETTING=VALUE",
                        help="an engine setting for the run (repeatable), e.g. to time one retrieval path")
    args = parser.parse_args()
    if args.side:
        return child(args)

    bad = [pair for pair in args.set if "=" not in pair]
    if bad:
        raise SystemExit(f"--set wants SETTING=VALUE, got {bad[0]!r}")
    used, passages, _ = load_data(args.source, args.passages)
    env = run_environment()
    runs: dict[str, list[dict]] = {"bm25s": [], "engine": []}
    for _ in range(args.repeat):  # the sides alternate, so a noisy minute hits both
        for side in ("bm25s", "engine"):
            done = subprocess.run([sys.executable, __file__, "--side", side, "--passages", str(args.passages),
                                   "--queries", str(args.queries), "--source", args.source,
                                   *(["--semantic"] if args.semantic else []),
                                   *(f"--set={pair}" for pair in args.set)],
                                  cwd=ROOT, capture_output=True, text=True)
            if done.returncode != 0:
                print(done.stdout, done.stderr, file=sys.stderr)
                raise SystemExit(f"the {side} side failed")
            runs[side].append(json.loads(done.stdout.strip().splitlines()[-1]))
    sides = {side: median_run(found) for side, found in runs.items()}
    ref, eng = sides["bm25s"], sides["engine"]
    if args.json:
        print(json.dumps({"environment": env, "passages": used, **sides,
                          **({"runs": runs} if args.repeat > 1 else {})}))
        return 0
    mean_chars = sum(map(len, passages)) / len(passages)
    print(f"{len(passages):,} passages: {used}, {mean_chars:.0f} chars on average; "
          f"bm25s {ref['version']}; commit {env['commit']}, {env['cpus']} cpus, "
          f"load {env['load1']}, {env['date']}" + (f"; engine settings {', '.join(args.set)}" if args.set else ""))
    rows = [
        ("ingest, docs/s (model load included)", ref["docs_per_s"], eng["docs_per_s"],
         eng["docs_per_s"] / ref["docs_per_s"], "x", ">= 0.10x", "{:,.0f}"),
        ("ingest wall s (cpu s)", ref["ingest_s"], eng["ingest_s"], None, "", "",
         None),
        ("warm query p50, ms", ref["query_p50_ms"], eng["query_p50_ms"],
         eng["query_p50_ms"] / ref["query_p50_ms"], "x", "<= 10x", "{:.2f}"),
        ("warm query p50, cpu ms", ref["query_cpu_p50_ms"], eng["query_cpu_p50_ms"],
         eng["query_cpu_p50_ms"] / ref["query_cpu_p50_ms"], "x", "", "{:.2f}"),
        ("warm query p95, ms", ref["query_p95_ms"], eng["query_p95_ms"],
         eng["query_p95_ms"] / ref["query_p95_ms"], "x", "", "{:.2f}"),
        ("peak RSS, MB", ref["peak_rss_mb"], eng["peak_rss_mb"],
         eng["peak_rss_mb"] / ref["peak_rss_mb"], "x", "<= 1.5x", "{:.0f}"),
    ]
    print("| figure | bm25s | engine | ratio | target |")
    print("|---|---|---|---|---|")
    for name, a, b, ratio, unit, target, fmt in rows:
        if fmt is None:
            print(f"| {name} | {ref['ingest_s']:.2f} ({ref['ingest_cpu_s']:.2f}) | "
                  f"{eng['ingest_s']:.2f} ({eng['ingest_cpu_s']:.2f}) | | |")
            continue
        print(f"| {name} | {fmt.format(a)} | {fmt.format(b)} | {ratio:.2f}{unit} | {target} |")
    if "all_query_p50_ms" in eng:
        print(f"| with the semantic side: warm query p50 / p95, ms | | {eng['all_query_p50_ms']:.2f} / "
              f"{eng['all_query_p95_ms']:.2f} | {eng['all_query_p50_ms'] / ref['query_p50_ms']:.2f}x | <= 8 ms |")
        print(f"| semantic pass, chunks/s (after the ingest) | | {eng['semantic_docs_per_s']:,.0f} | | |")
        print(f"| peak RSS before the semantic pass, MB | {ref['peak_rss_mb']:.0f} | {eng['peak_rss_fast_mb']:.0f} "
              f"| {eng['peak_rss_fast_mb'] / ref['peak_rss_mb']:.2f}x | |")
    if args.repeat > 1:
        def spread(key: str) -> str:
            ratios = sorted(e[key] / r[key] for r, e in zip(runs["bm25s"], runs["engine"], strict=True))
            return f"{ratios[0]:.2f}x to {ratios[-1]:.2f}x"
        print(f"medians of {args.repeat} runs per side, alternating; the ratios of single pairs: ingest "
              f"{spread('docs_per_s')}, query p50 {spread('query_p50_ms')}, "
              f"peak RSS {spread('peak_rss_mb')}")
    print(f"engine: {eng['chunks']:,} chunks, index current after ingest: {eng['index_current']}; "
          f"{eng['queries']} timed queries per side after {WARMUP} warm-up")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
