"""Context-pack build latency on a big data dir.

Builds (or reuses, with --keep) a data dir with a synthetic vault of about
100k chunks, 5,000 memories, 500 project-state entries and 50,000 entities
(with relationships), then times ``engine.context.build`` warm, in process,
over a set of realistic prompts, and prints p50/p95/p99 and where the time
goes per tier-gathering step.

    .venv/bin/python bench/context_bench.py                 # ~17k notes -> ~100k chunks
    .venv/bin/python bench/context_bench.py --notes 2000    # a quick run
    .venv/bin/python bench/context_bench.py --keep /tmp/ctx # keep and reuse the data dir

The knowledge rows are bulk-inserted with Peewee (the services' per-row audit
would take minutes at this size and is not what is measured here).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from synthetic import MATERIALS, PARTS, PROJECTS, generate_vault, queries, run_environment  # noqa: E402

from atocore_tui.config import load_settings  # noqa: E402
from atocore_tui.engine import Engine  # noqa: E402
from atocore_tui.graph.vocab import ENTITY_TYPES, RELATIONSHIP_TYPES  # noqa: E402
from atocore_tui.memory.service import MEMORY_TYPES  # noqa: E402
from atocore_tui.projects.state import CATEGORIES  # noqa: E402
from atocore_tui.store.models import Entity, Memory, ProjectState, Relationship, utc_now  # noqa: E402


def populate(engine: Engine, rng: random.Random, memories: int, state: int, entities: int,
             relationships: int) -> None:
    projects = list(PROJECTS)
    now = utc_now()

    def text() -> str:
        return (f"The {rng.choice(PARTS)} uses {rng.choice(MATERIALS)}; "
                f"{rng.choice(['we decided', 'test showed', 'remember that', 'the spec says'])} "
                f"margin {rng.randint(2, 60)} % at {rng.randint(-60, 120)} C")

    with engine.db.atomic():
        rows = [dict(id=uuid.uuid4().hex, memory_type=rng.choice(MEMORY_TYPES), content=text(),
                     project=rng.choice(projects + [""]), confidence=round(rng.uniform(0.3, 1.0), 2),
                     status=rng.choice(["active"] * 8 + ["candidate", "superseded"]),
                     created_at=now, updated_at=now) for _ in range(memories)]
        for i in range(0, len(rows), 500):
            Memory.insert_many(rows[i:i + 500]).execute()
        rows = [dict(id=uuid.uuid4().hex, project=rng.choice(projects), category=rng.choice(CATEGORIES),
                     key=f"{rng.choice(PARTS)} {i}", value=text(), status="active",
                     created_at=now, updated_at=now) for i in range(state)]
        ProjectState.insert_many(rows).execute()
        ids = []
        rows = []
        for i in range(entities):
            eid = uuid.uuid4().hex
            ids.append(eid)
            rows.append(dict(id=eid, project=rng.choice(projects), entity_type=rng.choice(ENTITY_TYPES),
                             name=f"{rng.choice(PARTS)} {i}", description=text(), status="active",
                             confidence=1.0, source_refs=[], created_at=now, updated_at=now))
        for i in range(0, len(rows), 500):
            Entity.insert_many(rows[i:i + 500]).execute()
        rows = [dict(id=uuid.uuid4().hex, source=rng.choice(ids), target=rng.choice(ids),
                     relationship_type=rng.choice(RELATIONSHIP_TYPES), confidence=1.0, source_refs=[],
                     created_at=now) for _ in range(relationships)]
        for i in range(0, len(rows), 500):
            Relationship.insert_many(rows[i:i + 500]).execute()


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=17_000, help="synthetic notes (~6 chunks each)")
    parser.add_argument("--memories", type=int, default=5_000)
    parser.add_argument("--state", type=int, default=500)
    parser.add_argument("--entities", type=int, default=50_000)
    parser.add_argument("--relationships", type=int, default=100_000)
    parser.add_argument("--prompts", type=int, default=100)
    parser.add_argument("--budget", type=int, default=3000)
    parser.add_argument("--keep", type=Path, help="build here once and reuse on later runs")
    parser.add_argument("--profile", action="store_true", help="print the top cumulative hotspots")
    parser.add_argument("--max-postings", type=int, help="override retrieval.max_postings")
    args = parser.parse_args()

    work = args.keep or Path(tempfile.mkdtemp(prefix="atocore-context-bench-"))
    vault, data = work / "vault", work / "data"
    settings = load_settings(env={}, overrides={"data_dir": data, "sources.vault": vault,
                                                "retrieval.max_postings": args.max_postings})
    fresh = not (data / "atocore.db").exists()
    if fresh:
        started = time.perf_counter()
        made = generate_vault(vault, args.notes)
        print(f"generated {made['files']:,} notes in {time.perf_counter() - started:.1f} s", flush=True)
    engine = Engine(settings)
    if fresh:
        started = time.perf_counter()
        report = engine.ingest()
        print(f"ingested {report.chunks_added:,} chunks in {time.perf_counter() - started:.1f} s", flush=True)
        started = time.perf_counter()
        populate(engine, random.Random(5), args.memories, args.state, args.entities, args.relationships)
        print(f"inserted knowledge rows in {time.perf_counter() - started:.1f} s", flush=True)
    status = engine.status()
    counts = {"chunks": status["chunks"], "memories": Memory.select().count(),
              "state": ProjectState.select().count(), "entities": Entity.select().count(),
              "relationships": Relationship.select().count()}
    print("data dir:", data, counts)

    prompts = queries(args.prompts, seed=11)
    projects = list(PROJECTS) + [None]
    started = time.perf_counter()
    engine.context.build(prompts[0], projects[0], args.budget)
    print(f"first (cold) build: {(time.perf_counter() - started) * 1000:.0f} ms")
    for prompt in prompts[:10]:  # warm caches (vectors of memories, state, entities)
        for project in projects:
            engine.context.build(prompt, project, args.budget)

    timings = []
    profiler = cProfile.Profile() if args.profile else None
    for i, prompt in enumerate(prompts):
        project = projects[i % len(projects)]
        if profiler:
            profiler.enable()
        started = time.perf_counter()
        engine.context.build(prompt, project, args.budget)
        timings.append((time.perf_counter() - started) * 1000)
        if profiler:
            profiler.disable()
    print(f"warm pack build over {len(timings)} prompts (budget {args.budget}): "
          f"p50 {statistics.median(timings):.1f} ms, p95 {percentile(timings, 0.95):.1f} ms, "
          f"p99 {percentile(timings, 0.99):.1f} ms, max {max(timings):.1f} ms")
    env = run_environment()
    print({**counts, "p50_ms": round(statistics.median(timings), 2),
           "p95_ms": round(percentile(timings, 0.95), 2), **env})
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats("atocore_tui", 25)
    engine.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
