"""Engineering-graph bench: gaps and impact on a synthetic 50k-entity / 200k-edge graph.

Builds a deterministic synthetic graph (10 projects; realistic type mix;
typed edges: PART_OF trees, USES_MATERIAL, SATISFIES, DEPENDS_ON, BASED_ON,
SUPPORTS, …) with Peewee ``insert_many`` in chunks inside one transaction,
then times, each as the median (p50) of several runs:

* ``gaps(project)`` for one project (orphan requirements, risky decisions,
  unsupported claims);
* a depth-4 ``impact`` walk from materials (the widest fan-out: every
  component that uses one, and all that depends on those);
* a depth-4 ``evidence`` walk and a project's ``system_map`` for reference.

Run: ``.venv/bin/python bench/graph_bench.py [--entities 50000 --relationships 200000]``
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TYPE_WEIGHTS = {
    "system": 1, "subsystem": 8, "component": 30, "interface": 4, "requirement": 15, "constraint": 3,
    "decision": 6, "material": 2, "parameter": 6, "analysis": 5, "result": 7, "validation_claim": 5,
    "test": 3, "risk": 3, "vendor": 2,
}
# (relationship type, source types, target types, weight)
EDGE_RULES = [
    ("PART_OF", ("component", "interface", "subsystem"), ("subsystem", "system", "component"), 16),
    ("USES_MATERIAL", ("component",), ("material",), 10),
    ("SATISFIES", ("component", "subsystem", "system", "interface"), ("requirement", "constraint"), 14),
    ("CONSTRAINED_BY", ("component", "subsystem"), ("constraint",), 4),
    ("DEPENDS_ON", ("component", "subsystem", "parameter", "analysis"), ("component", "parameter", "vendor"), 14),
    ("AFFECTS", ("risk", "decision"), ("component", "requirement", "subsystem"), 8),
    ("BASED_ON", ("decision",), ("analysis", "result", "validation_claim", "parameter"), 8),
    ("SUPPORTS", ("result", "analysis", "test"), ("validation_claim",), 7),
    ("VALIDATES", ("test",), ("requirement", "validation_claim"), 6),
    ("SUPERSEDES", ("decision", "requirement"), ("decision", "requirement"), 1),
    ("DERIVED_FROM", ("result", "parameter"), ("test", "analysis", "decision"), 8),
]
PROJECTS = 10


def build(entities: int, relationships: int, seed: int = 7) -> tuple[list[dict], list[dict]]:
    rng = random.Random(seed)
    types, weights = zip(*TYPE_WEIGHTS.items(), strict=True)
    rows: list[dict] = []
    by_project_type: dict[tuple[int, str], list[str]] = {}
    now = "2026-05-01 12:00:00"
    for i in range(entities):
        project = i % PROJECTS
        etype = rng.choices(types, weights)[0]
        status = rng.choices(("active", "candidate", "superseded"), (90, 7, 3))[0]
        eid = f"e{i:06d}"
        rows.append({"id": eid, "project": f"proj-{project}", "entity_type": etype,
                     "name": f"{etype} {i}", "description": "", "status": status,
                     "confidence": round(rng.uniform(0.3, 1.0), 2), "source_refs": "[]",
                     "created_at": now, "updated_at": now})
        by_project_type.setdefault((project, etype), []).append(eid)
    rules = [r[:3] for r in EDGE_RULES]
    rule_weights = [r[3] for r in EDGE_RULES]
    edges: list[dict] = []
    seen: set[tuple[str, str, str]] = set()
    while len(edges) < relationships:
        rel_type, sources, targets = rng.choices(rules, rule_weights)[0]
        project = rng.randrange(PROJECTS)
        source_pool = by_project_type.get((project, rng.choice(sources)))
        target_pool = by_project_type.get((project, rng.choice(targets)))
        if not source_pool or not target_pool:
            continue
        source, target = rng.choice(source_pool), rng.choice(target_pool)
        key = (source, rel_type, target)
        if source == target or key in seen:
            continue
        seen.add(key)
        edges.append({"id": f"r{len(edges):07d}", "source": source, "target": target,
                      "relationship_type": rel_type, "confidence": 1.0, "source_refs": "[]", "created_at": now})
    return rows, edges


def insert(db, model, rows: list[dict], chunk: int = 2000) -> None:
    with db.atomic():
        for start in range(0, len(rows), chunk):
            model.insert_many(rows[start:start + chunk]).execute()


def p50(fn, runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=50_000)
    parser.add_argument("--relationships", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)

    from atocore_tui.config import load_settings
    from atocore_tui.engine import Engine
    from atocore_tui.store.models import Entity, Project, Relationship

    with tempfile.TemporaryDirectory() as work:
        engine = Engine(load_settings(env={}, overrides={"data_dir": str(Path(work) / "data")}))
        try:
            start = time.perf_counter()
            entities, edges = build(args.entities, args.relationships)
            generated = time.perf_counter() - start
            start = time.perf_counter()
            Project.insert_many([{"id": f"proj-{p}"} for p in range(PROJECTS)]).execute()
            insert(engine.db, Entity, entities)
            insert(engine.db, Relationship, edges)
            engine.db.execute_sql("ANALYZE")
            loaded = time.perf_counter() - start
            print(f"graph: {Entity.select().count():,} entities, {Relationship.select().count():,} relationships "
                  f"(generated {generated:.1f} s, inserted {loaded:.1f} s)")

            graph = engine.graph
            ms, gaps = p50(lambda: graph.gaps("proj-3"), args.runs)
            print(f"gaps(proj-3): p50 {ms:.1f} ms over {args.runs} runs — "
                  + ", ".join(f"{k} {v}" for k, v in gaps["counts"].items()))

            materials = [e.id for e in Entity.select().where(
                (Entity.project == "proj-3") & (Entity.entity_type == "material") & (Entity.status == "active"))
                .order_by(Entity.id).limit(args.runs)]
            times, reached = [], []
            for material in materials:
                ms_one, result = p50(lambda material=material: graph.impact(material, depth=4), 1)
                times.append(ms_one)
                reached.append(result["count"])
            print(f"impact depth 4 from {len(materials)} materials: p50 {statistics.median(times):.1f} ms, "
                  f"max {max(times):.1f} ms; reached {min(reached)}–{max(reached)} entities")
            ms, _ = p50(lambda: graph.impact(materials[0], depth=4), args.runs)
            print(f"impact depth 4 from {materials[0]} repeated: p50 {ms:.1f} ms over {args.runs} runs")

            decision = Entity.select().where((Entity.project == "proj-3") & (Entity.entity_type == "decision")
                                             & (Entity.status == "active")).order_by(Entity.id).first()
            ms, result = p50(lambda: graph.evidence(decision.id, depth=4), args.runs)
            print(f"evidence depth 4 from a decision: p50 {ms:.1f} ms, {result['count']} supporters")
            ms, result = p50(lambda: graph.system_map("proj-3"), args.runs)
            print(f"system_map(proj-3): p50 {ms:.1f} ms, {result['nodes']} nodes, {len(result['cycles'])} cycles")
        finally:
            engine.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
