"""Recall of the approximate usearch index against exact cosine search, per dtype.

Embeds ~20k synthetic engineering sentences and ~500 search prompts (vocabulary
from ``bench/synthetic.py``) with the bundled model2vec model, computes the
exact top-k by brute force (float32 dot products of the normalised vectors),
then builds the engine's own index (``atocore_tui.search.index.VectorIndex``
with the defaults of ``IndexSettings``: cos, connectivity 16, expansion_add 128,
expansion_search 64) once per dtype and compares.

    .venv/bin/python bench/index_recall.py
    .venv/bin/python bench/index_recall.py --base 50000 --queries 1000 --dtypes f16 i8

recall@k is |approximate top-k ∩ exact top-k| / k averaged over the queries;
"tie-aware" also counts a returned vector whose exact similarity equals the
k-th exact similarity (within 1e-6), so exact ties at the cut are not misses.
recall@10 in top-60 is the share of the exact top-10 found among 60 returned
candidates: what retrieval sees, since it asks the index for 60 candidates.
A second table sweeps expansion_search on the engine's dtype (f16), to show
what a larger search beam would buy, and times usearch's exact (brute-force)
search, which the engine uses below ``index.exact_below`` vectors.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from synthetic import queries, run_environment, sentences  # noqa: E402


def exact_top(base: np.ndarray, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(indices best first, similarity matrix) of the exact top-k per query."""
    sims = query @ base.T
    part = np.argpartition(-sims, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(sims, part, axis=1), axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1), sims


def measure(index, query: np.ndarray, exact10: np.ndarray, sims: np.ndarray, kth: np.ndarray):
    """Search every query with k=10, then (a separate pass, so caches do not favour
    either) with k=60; returns per-query recalls and latencies."""
    strict, tie_aware, in_pool, latency10, latency60 = [], [], [], [], []
    found10 = []
    for row in query:
        t = time.perf_counter()
        found10.append(index.search(row, 10))
        latency10.append(time.perf_counter() - t)
    found60 = []
    for row in query:
        t = time.perf_counter()
        found60.append(index.search(row, 60))
        latency60.append(time.perf_counter() - t)
    for qi in range(len(query)):
        truth = set(exact10[qi].tolist())
        got = [key for key, _ in found10[qi]]
        strict.append(len(truth.intersection(got)) / 10)
        tie_aware.append(sum(1 for key in got if sims[qi, key] >= kth[qi] - 1e-6) / 10)
        in_pool.append(len(truth.intersection(key for key, _ in found60[qi])) / 10)
    return strict, tie_aware, in_pool, latency10, latency60


def percentile_ms(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=int, default=20_000, help="indexed sentences (default 20000)")
    parser.add_argument("--queries", type=int, default=500, help="query prompts (default 500)")
    parser.add_argument("--dtypes", nargs="+", default=["f16", "f32", "i8"])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--sweep", type=int, nargs="*", default=[32, 64, 128, 256],
                        help="expansion_search values to try on --sweep-dtype (default 32 64 128 256)")
    parser.add_argument("--sweep-dtype", default="f16", help="dtype for the sweep (default f16, the engine's)")
    args = parser.parse_args(argv)

    from atocore_tui.config import IndexSettings
    from atocore_tui.search.embedding import Embedder
    from atocore_tui.search.index import VectorIndex

    settings = IndexSettings()
    env = run_environment()
    print(f"commit {env['commit']}, python {env['python']}, {env['cpus']} cpus, load {env['load1']}, {env['date']}")
    embedder = Embedder()
    embedder.load()

    base_texts = sentences(args.base, seed=args.seed)
    query_texts = list(dict.fromkeys(queries(args.queries * 2, seed=args.seed + 1)))[:args.queries]
    started = time.perf_counter()
    base = embedder.encode(base_texts)
    embed_s = time.perf_counter() - started
    query = embedder.encode(query_texts)
    ndim = base.shape[1]
    print(f"{len(base_texts):,} sentences, {len(query_texts)} queries, dim {ndim}; "
          f"embedding {embed_s:.2f} s ({len(base_texts) / embed_s:,.0f} sentences/s)")
    print(f"load average {os.getloadavg()[0]:.2f} (other busy processes skew the timings)")
    print(f"index: metric cos, connectivity {settings.connectivity}, expansion_add {settings.expansion_add}, "
          f"expansion_search {settings.expansion_search}")

    started = time.perf_counter()
    exact10, sims = exact_top(base, query, 10)
    exact_s = time.perf_counter() - started
    kth = np.take_along_axis(sims, exact10[:, -1:], axis=1)[:, 0]
    # Brute force per query, as a single-query latency reference.
    brute = []
    for row in query[:100]:
        t = time.perf_counter()
        s = base @ row
        np.argpartition(-s, 9)[:10]
        brute.append(time.perf_counter() - t)
    print(f"exact search: {exact_s:.2f} s for all queries batched; single query brute force "
          f"p50 {percentile_ms(brute, 50):.2f} ms")

    keys = np.arange(len(base), dtype=np.uint64)
    results, sweep = [], []
    with tempfile.TemporaryDirectory(prefix="atocore-recall-") as folder:
        for dtype in args.dtypes:
            index = VectorIndex(Path(folder), f"bench-{dtype}", dtype=dtype,
                                connectivity=settings.connectivity, expansion_add=settings.expansion_add,
                                expansion_search=settings.expansion_search, exact_below=0)
            index.reset("bench", "bench", ndim)
            started = time.perf_counter()
            index.add(keys, base)
            build_s = time.perf_counter() - started
            index.save(0)
            size = os.path.getsize(index.path)

            strict, tie_aware, in_pool, latency10, latency60 = measure(index, query, exact10, sims, kth)
            result = {
                "dtype": dtype, "vectors": len(base), "queries": len(query),
                "recall_at_10": float(np.mean(strict)), "recall_at_10_tie_aware": float(np.mean(tie_aware)),
                "recall_10_in_60": float(np.mean(in_pool)),
                "search10_p50_ms": percentile_ms(latency10, 50), "search10_p99_ms": percentile_ms(latency10, 99),
                "search60_p50_ms": percentile_ms(latency60, 50), "search60_p99_ms": percentile_ms(latency60, 99),
                "build_s": build_s, "index_bytes": size,
            }
            results.append(result)
            print(f"  {dtype}: built in {build_s:.2f} s", flush=True)
            if dtype == args.sweep_dtype:
                for ef in args.sweep:
                    index.index.expansion_search = ef
                    s10, _, s60, l10, _ = measure(index, query, exact10, sims, kth)
                    sweep.append({"dtype": dtype, "expansion_search": ef, "recall_at_10": float(np.mean(s10)),
                                  "recall_10_in_60": float(np.mean(s60)),
                                  "search10_p50_ms": percentile_ms(l10, 50),
                                  "search10_p99_ms": percentile_ms(l10, 99)})
                index.index.expansion_search = settings.expansion_search
                # Brute force inside usearch: what the engine does below index.exact_below vectors.
                index.exact_below = len(base) + 1
                s10, _, s60, l10, _ = measure(index, query, exact10, sims, kth)
                index.exact_below = 0
                sweep.append({"dtype": dtype, "expansion_search": "exact", "recall_at_10": float(np.mean(s10)),
                              "recall_10_in_60": float(np.mean(s60)),
                              "search10_p50_ms": percentile_ms(l10, 50),
                              "search10_p99_ms": percentile_ms(l10, 99)})

    header = ("dtype", "recall@10", "tie-aware", "top-10 in 60", "k=10 p50/p99 ms", "k=60 p50/p99 ms",
              "build s", "index bytes")
    rows = [(r["dtype"], f"{r['recall_at_10']:.4f}", f"{r['recall_at_10_tie_aware']:.4f}",
             f"{r['recall_10_in_60']:.4f}", f"{r['search10_p50_ms']:.3f} / {r['search10_p99_ms']:.3f}",
             f"{r['search60_p50_ms']:.3f} / {r['search60_p99_ms']:.3f}", f"{r['build_s']:.2f}",
             f"{r['index_bytes']:,}") for r in results]
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(header)]
    print()
    print(" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("-|-".join("-" * w for w in widths))
    for row in rows:
        print(" | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    if sweep:
        print()
        print(f"expansion_search sweep ({args.sweep_dtype}; the engine uses {settings.expansion_search}, and exact "
              f"search below {getattr(settings, 'exact_below', 0):,} vectors):")
        print("expansion_search | recall@10 | top-10 in 60 | k=10 p50/p99 ms")
        print("-----------------|-----------|--------------|----------------")
        for r in sweep:
            print(f"{str(r['expansion_search']):<16} | {r['recall_at_10']:.4f}    | {r['recall_10_in_60']:.4f}       "
                  f"| {r['search10_p50_ms']:.3f} / {r['search10_p99_ms']:.3f}")
    print()
    for r in results + sweep:
        print(json.dumps({k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()},
                         separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
