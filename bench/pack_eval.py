"""Context-pack relevance on the sample vault: the share of needed facts a pack holds.

Builds a fresh data dir from sample_vault (the first run: notes, seed memories
and state, the sample graph), then for every prompt of
tests/data/pack_prompts.yaml (a prompt, the project the user chose or none,
and the exact strings a person needs to answer it) builds a context pack at
each budget and counts the facts that appear in the formatted pack. Prints the
share per budget, for all prompts and for the ones asked without a project,
and with --misses every fact a pack left out. tests/test_context_eval.py holds
the 3,000-character figure to a floor.

    .venv/bin/python bench/pack_eval.py
    .venv/bin/python bench/pack_eval.py --budgets 3000 --misses
    .venv/bin/python bench/pack_eval.py --json
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from atocore_tui.config import load_settings  # noqa: E402
from atocore_tui.engine import Engine  # noqa: E402

PROMPTS = ROOT / "tests" / "data" / "pack_prompts.yaml"
BUDGETS = (1500, 3000, 6000)


def load_cases(path: Path = PROMPTS) -> list[dict]:
    cases = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    for case in cases:
        if not case.get("prompt") or not case.get("facts"):
            raise ValueError(f"{path}: every entry needs a prompt and facts: {case!r}")
    return cases


def evaluate(engine: Engine, cases: list[dict], budget: int) -> dict:
    """Facts present per case at one budget, and the shares over all cases."""
    results = []
    times = []
    for case in cases:
        started = time.perf_counter()
        pack = engine.context.build(case["prompt"], case.get("project"), budget, keep=False)
        times.append((time.perf_counter() - started) * 1000)
        text = pack.formatted_context
        missing = [fact for fact in case["facts"] if fact not in text]
        results.append({"prompt": case["prompt"], "project": case.get("project"),
                        "pack_project": pack.project, "facts": len(case["facts"]),
                        "missing": missing})

    def share(rows):
        total = sum(r["facts"] for r in rows)
        return (total - sum(len(r["missing"]) for r in rows)) / total if total else 0.0

    without = [r for r in results if not r["project"]]
    times.sort()
    return {"budget": budget, "share": round(share(results), 4),
            "share_without_project": round(share(without), 4), "pack_p50_ms": round(times[len(times) // 2], 1),
            "cases": results}


def sample_engine(work: Path, semantic: bool = True) -> Engine:
    """The sample vault after a first run and, as the workstation would have
    it a minute later, its semantic pass (``semantic=False``: before it)."""
    from atocore_tui.ops.first_run import first_run

    engine = Engine(load_settings(env={}, overrides={"data_dir": work / "data",
                                                     "sources.vault": ROOT / "sample_vault"}))
    first_run(engine)
    if semantic:
        engine.semantic_pass()
    return engine


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budgets", type=int, nargs="+", default=list(BUDGETS))
    parser.add_argument("--misses", action="store_true", help="list every fact a pack left out")
    parser.add_argument("--json", action="store_true", help="one JSON object per budget")
    parser.add_argument("--no-semantic", action="store_true",
                        help="before the semantic pass (full text and the static model only)")
    args = parser.parse_args()
    cases = load_cases()
    with tempfile.TemporaryDirectory(prefix="atocore-pack-eval-") as tmp:
        engine = sample_engine(Path(tmp), semantic=not args.no_semantic)
        try:
            for budget in args.budgets:
                result = evaluate(engine, cases, budget)
                if args.json:
                    print(json.dumps(result, ensure_ascii=False))
                    continue
                facts = sum(r["facts"] for r in result["cases"])
                print(f"budget {budget:>6,}: {result['share']:.1%} of {facts} facts "
                      f"({len(cases)} prompts); without a project: {result['share_without_project']:.1%}; "
                      f"pack p50 {result['pack_p50_ms']} ms")
                if args.misses:
                    for row in result["cases"]:
                        if row["missing"]:
                            print(f"    {row['prompt']!r} [{row['project'] or '-'} -> "
                                  f"{row['pack_project'] or '-'}]: missing {row['missing']}")
        finally:
            engine.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
