"""Retrieval quality on a BEIR-shaped collection, through the whole engine.

    .venv/bin/python bench/ir_eval.py ../shared/data/ir/cranfield [--set retrieval.fusion=rrf ...]

DATASET_DIR holds ``corpus.jsonl`` (``_id``, ``title``, ``text``),
``queries.jsonl`` (``_id``, ``text``) and ``qrels/test.tsv`` (query id, corpus
id, grade). Every document becomes a markdown note of a fresh vault (its title
as the note's heading), the engine ingests the vault as a user's would, waits
for the background pass (if any) to finish, then asks each judged query once
and keeps the first 10 distinct documents of the answer.

Prints one JSON line: nDCG@10 (graded, linear gain, as trec_eval and BEIR
compute it), recall@10, MRR@10, ingest docs/s (model load included), the
background pass's docs/s, query p50/p95 in ms and the peak RSS in MB.
``--set NAME=VALUE`` overrides any setting (``retrieval.deep=false`` ...), so
an ablation is one command line.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from atocore_tui.config import load_settings  # noqa: E402
from atocore_tui.engine import Engine  # noqa: E402

CUTOFF = 10


def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 3 or parts[0] == "query-id":
                continue
            try:
                grade = int(float(parts[2]))
            except ValueError:
                continue
            qrels.setdefault(parts[0], {})[parts[1]] = grade
    return qrels


def note_name(doc_id: str, used: set[str]) -> str:
    """A file name for a document id (ids may hold any character)."""
    base = re.sub(r"[^\w.-]+", "_", doc_id).strip("._")[:80] or "doc"
    name, n = base, 1
    while name.lower() in used:
        n += 1
        name = f"{base}_{n}"
    used.add(name.lower())
    return name + ".md"


def write_vault(corpus: list[dict], vault: Path) -> dict[str, str]:
    """One note per document; returns note path -> document id."""
    vault.mkdir(parents=True)
    used: set[str] = set()
    paths: dict[str, str] = {}
    for doc in corpus:
        name = note_name(str(doc["_id"]), used)
        title = " ".join(str(doc.get("title") or "").split())
        text = str(doc.get("text") or "").strip()
        body = f"# {title}\n\n{text}\n" if title else f"{text}\n"
        (vault / name).write_text(body, encoding="utf-8")
        paths[name] = str(doc["_id"])
    return paths


def ndcg(ranked: list[str], judged: dict[str, int]) -> float:
    gains = [max(judged.get(doc, 0), 0) for doc in ranked[:CUTOFF]]
    dcg = sum(g / math.log2(i + 2) for i, g in enumerate(gains))
    ideal = sorted((g for g in judged.values() if g > 0), reverse=True)[:CUTOFF]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall(ranked: list[str], judged: dict[str, int]) -> float:
    relevant = {doc for doc, g in judged.items() if g > 0}
    return len(relevant & set(ranked[:CUTOFF])) / len(relevant) if relevant else 0.0


def mrr(ranked: list[str], judged: dict[str, int]) -> float:
    for i, doc in enumerate(ranked[:CUTOFF]):
        if judged.get(doc, 0) > 0:
            return 1.0 / (i + 1)
    return 0.0


def parse_sets(pairs: list[str]) -> dict[str, str]:
    overrides = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise SystemExit(f"--set takes NAME=VALUE, got {pair!r}")
        overrides[name.strip()] = value
    return overrides


def run(dataset: Path, overrides: dict[str, str], max_queries: int | None = None,
        keep: Path | None = None) -> dict:
    corpus = read_jsonl(dataset / "corpus.jsonl")
    queries = {str(q["_id"]): str(q["text"]) for q in read_jsonl(dataset / "queries.jsonl")}
    qrels = read_qrels(dataset / "qrels" / "test.tsv")
    judged = [qid for qid in queries if any(g > 0 for g in qrels.get(qid, {}).values())]
    if max_queries:
        judged = judged[:max_queries]
    with tempfile.TemporaryDirectory(prefix="ir_eval_") as tmp:
        if keep is not None:
            tmp = str(keep)
        vault = Path(tmp) / "vault"
        if keep is not None and vault.is_dir():
            paths = json.loads((keep / "paths.json").read_text())
        else:
            paths = write_vault(corpus, vault)
            if keep is not None:
                (keep / "paths.json").write_text(json.dumps(paths))
        settings = load_settings(env={}, overrides={"data_dir": Path(tmp) / "data", "sources.vault": vault,
                                                    **overrides})
        engine = Engine(settings)
        started = time.perf_counter()
        engine.ingest()
        ingest_seconds = time.perf_counter() - started
        encoded = engine.semantic_pass()
        semantic_seconds = time.perf_counter() - started - ingest_seconds
        engine.query("warm up the caches", top_k=CUTOFF)
        scores = {"ndcg": [], "recall": [], "mrr": []}
        latencies = []
        for qid in judged:
            t0 = time.perf_counter()
            hits = engine.query(queries[qid], top_k=CUTOFF * 3)
            latencies.append((time.perf_counter() - t0) * 1000)
            ranked: list[str] = []
            for hit in hits:
                doc = paths.get(hit.source_file)
                if doc is not None and doc not in ranked:
                    ranked.append(doc)
            scores["ndcg"].append(ndcg(ranked, qrels[qid]))
            scores["recall"].append(recall(ranked, qrels[qid]))
            scores["mrr"].append(mrr(ranked, qrels[qid]))
        engine.close()
    latencies.sort()
    return {
        "dataset": dataset.name,
        "docs": len(corpus),
        "queries": len(judged),
        "settings": overrides,
        "ndcg@10": round(statistics.fmean(scores["ndcg"]), 4),
        "recall@10": round(statistics.fmean(scores["recall"]), 4),
        "mrr@10": round(statistics.fmean(scores["mrr"]), 4),
        "ingest_docs_per_s": round(len(corpus) / ingest_seconds, 1),
        "semantic_docs_per_s": round(len(corpus) / semantic_seconds, 1) if encoded else None,
        "query_p50_ms": round(latencies[len(latencies) // 2], 2),
        "query_p95_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.95))], 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dataset", type=Path, help="a BEIR-shaped folder")
    parser.add_argument("--set", dest="sets", action="append", default=[], metavar="NAME=VALUE",
                        help="override a setting (repeatable)")
    parser.add_argument("--max-queries", type=int, default=None, help="only the first N judged queries")
    parser.add_argument("--keep", type=Path, default=None,
                        help="keep the vault and data dir here and reuse them next time (ingest and "
                             "semantic pass then only do what is missing: quick ablations)")
    args = parser.parse_args(argv)
    for name in ("corpus.jsonl", "queries.jsonl", "qrels/test.tsv"):
        if not (args.dataset / name).is_file():
            raise SystemExit(f"{args.dataset} is not BEIR-shaped: {name} is missing")
    print(json.dumps(run(args.dataset, parse_sets(args.sets), args.max_queries, args.keep)))


if __name__ == "__main__":
    main()
