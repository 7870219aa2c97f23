"""Retrieval quality on the sample vault: each side alone, and fused.

Runs every question of tests/data/sample_queries.yaml and
bench/paraphrase_queries.yaml against a fresh ingest of sample_vault (with
the semantic pass run to the end) and prints hit@1, hit@5 and MRR@10 for
BM25, the static model, the semantic model, the fusion before the semantic
pass (BM25 + static) and after it, per lexical weight. The expected notes are the ones the questions were
written for; a hit is a chunk from one of them.

    .venv/bin/python bench/retrieval_eval.py
"""

from __future__ import annotations

import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from atocore_tui.config import load_settings  # noqa: E402
from atocore_tui.engine import Engine  # noqa: E402
from atocore_tui.search.retrieval import RetrievalRequest, Retriever  # noqa: E402


def evaluate(engine: Engine, retriever: Retriever, cases, lexical=True, vector=True, semantic=None):
    hit1 = hit5 = 0
    reciprocal = 0.0
    for case in cases:
        project = engine.resolve_project(case.get("project"))
        request = RetrievalRequest(prompt=case["query"], top_k=10, project=project,
                                   project_names=engine.project_names(project) if project else ())
        files = [h.source_file for h in retriever.retrieve(request, lexical=lexical, vector=vector,
                                                           semantic=semantic)]
        ranks = [i for i, f in enumerate(files, 1) if f in case["expect"]]
        if ranks:
            hit1 += ranks[0] == 1
            hit5 += ranks[0] <= 5
            reciprocal += 1.0 / ranks[0]
    n = len(cases)
    return hit1 / n, hit5 / n, reciprocal / n


QUESTION_SETS = {
    "sample questions (tests/data/sample_queries.yaml)": ROOT / "tests" / "data" / "sample_queries.yaml",
    "paraphrases (bench/paraphrase_queries.yaml)": ROOT / "bench" / "paraphrase_queries.yaml",
}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(env={}, overrides={"data_dir": Path(tmp),
                                                    "sources.vault": ROOT / "sample_vault"})
        engine = Engine(settings)
        engine.ingest()
        engine.semantic_pass()
        for title, path in QUESTION_SETS.items():
            cases = yaml.safe_load(path.read_text())
            print(f"\n{title}: {len(cases)} questions, {engine.status()['chunks']} chunks")
            print(f"{'mode':<22}{'hit@1':>8}{'hit@5':>8}{'MRR@10':>9}")
            rows = [("BM25 only", dict(lexical=True, vector=False, semantic=False)),
                    ("static only", dict(lexical=False, vector=True, semantic=False)),
                    ("semantic only", dict(lexical=False, vector=False, semantic=True)),
                    ("BM25 + static", dict(lexical=True, vector=True, semantic=False))]
            for label, flags in rows:
                h1, h5, mrr = evaluate(engine, engine.retriever, cases, **flags)
                print(f"{label:<22}{h1:>8.3f}{h5:>8.3f}{mrr:>9.3f}")
            for weight in (0.2, 0.3, 0.35, 0.4, 0.5, 0.6):
                retriever = Retriever(engine.db, engine.vectors, replace(settings.retrieval, lexical_weight=weight),
                                      engine.semantic)
                h1, h5, mrr = evaluate(engine, retriever, cases)
                marker = "  <- default" if weight == settings.retrieval.lexical_weight else ""
                print(f"{f'all, BM25 {weight}':<22}{h1:>8.3f}{h5:>8.3f}{mrr:>9.3f}{marker}")
        engine.close()


if __name__ == "__main__":
    main()
