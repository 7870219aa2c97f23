"""Interaction log benchmark: record N interactions, then time ``list`` with each filter.

A fresh temporary data dir gets three projects, 40 active memories (so that
reinforcement has something to match) and N recorded interactions (default
10,000) with responses, spread over 20 sessions and 3 clients; one prompt in
ten carries an extraction cue. ``created_at`` advances one minute per record
(a synthetic clock: about a week of heavy use), so that ``since`` filters
select a real share of the log. Then each list query runs repeatedly and its
latency percentiles are printed with SQLite's query plan.

    .venv/bin/python bench/interactions_bench.py                 # N = 10000, extraction on record
    .venv/bin/python bench/interactions_bench.py --no-extract     # record + reinforcement only
    .venv/bin/python bench/interactions_bench.py -n 2000 --repeat 50
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from atocore_tui.config import load_settings  # noqa: E402
from atocore_tui.engine import Engine  # noqa: E402
from atocore_tui.interactions import log as log_module  # noqa: E402
from atocore_tui.interactions.log import InteractionLog  # noqa: E402
from atocore_tui.store.models import TIMESTAMP_FORMAT, Interaction, Memory, Project  # noqa: E402

PROJECTS = ("orion-drive", "coldplate", "lab-tools")
CLIENTS = ("claude-code", "chat", "mcp")
SESSIONS = [f"session-{n:02d}" for n in range(20)]
START = datetime(2026, 4, 1, 8, 0, 0)

TOPICS = {
    "orion-drive": ["the 48:1 planetary gearbox", "Braycote 601EF grease", "the 7075-T6 housing",
                    "the crossed-roller bearing", "the PTFE dust seal", "the EM-1 TVAC test"],
    "coldplate": ["the brazed 3003 plate", "the U-flow channels", "the 50/50 glycol loop",
                  "the 5 °C delta-T requirement", "the helium leak test", "the CFD pressure drop"],
    "lab-tools": ["the torque wrench calibration", "the data logger", "the thermal chamber",
                  "the Keyence microscope", "the leak detector", "the shaker table"],
}
CUES = ["We decided to keep {t} as it is.", "Remember that {t} was reviewed last week.",
        "I prefer short bullet answers about {t}.", "From now on, cite the test report for {t}."]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


class Clock:
    """One minute per call: the synthetic ``utc_now`` of the log."""

    def __init__(self):
        self.moment = START

    def __call__(self) -> str:
        self.moment += timedelta(minutes=1)
        return self.moment.strftime(TIMESTAMP_FORMAT)


def seed(engine: Engine, rng: random.Random) -> list[str]:
    for project in PROJECTS:
        Project.create(id=project)
    ids = []
    for n in range(40):
        project = PROJECTS[n % 3]
        topic = TOPICS[project][n % 6]
        ids.append(engine.memories.create("project", f"Fact {n} about {topic}: value {rng.randint(1, 99)}.",
                                          project=project).id)
    return ids


def record_all(log: InteractionLog, count: int, memory_ids: list[str], rng: random.Random) -> float:
    started = time.perf_counter()
    for n in range(count):
        project = PROJECTS[n % 3]
        topic = rng.choice(TOPICS[project])
        prompt = f"Question {n}: what is the current status of {topic}? Give the numbers."
        if n % 10 == 0:
            prompt = rng.choice(CUES).format(t=topic) + " " + prompt
        response = (f"The status of {topic}: last reviewed in session {n % 20}; "
                    f"numbers {rng.randint(1, 999)} and {rng.randint(1, 999)} come from the vault notes.")
        log.record(prompt, response=response, response_summary=f"status of {topic}", project=project,
                   client=CLIENTS[n % 3], session_id=SESSIONS[n % 20],
                   memories_used=rng.sample(memory_ids, 2), chunks_used=[f"chunk-{n % 500}"])
    return time.perf_counter() - started


def time_lists(engine: Engine, repeat: int, midpoint: str) -> list[tuple[str, float, float, int, str]]:
    log = engine.interactions
    cases = [
        ("no filter", {}),
        ("project", {"project": "coldplate"}),
        ("session", {"session_id": "session-07"}),
        ("client", {"client": "mcp"}),
        ("since (last half)", {"since": midpoint}),
        ("project + since", {"project": "orion-drive", "since": midpoint}),
        ("session + client", {"session_id": "session-07", "client": "mcp"}),
        ("session, limit 500", {"session_id": "session-07", "limit": 500}),
        ("no filter, limit 500", {"limit": 500}),
    ]
    rows = []
    for name, kwargs in cases:
        log.list(**kwargs)  # warm
        timings = []
        for _ in range(repeat):
            started = time.perf_counter()
            result = log.list(**kwargs)
            timings.append((time.perf_counter() - started) * 1000)
        rows.append((name, percentile(timings, 0.5), percentile(timings, 0.95), result["count"],
                     query_plan(kwargs)))
    return rows


def query_plan(kwargs: dict) -> str:
    """How SQLite runs the list query's WHERE + ORDER BY (index use, temp sort)."""
    where = []
    for column, key in (("project", "project"), ("session_id", "session_id"), ("client", "client")):
        if key in kwargs:
            where.append(f"{column} = '{kwargs[key]}'")
    if "since" in kwargs:
        where.append(f"created_at >= '{kwargs['since']}'")
    sql = ("EXPLAIN QUERY PLAN SELECT id FROM interaction"
           + (" WHERE " + " AND ".join(where) if where else "")
           + f" ORDER BY created_at DESC, rowid DESC LIMIT {kwargs.get('limit', 50)}")
    return "; ".join(row[-1] for row in Interaction._meta.database.execute_sql(sql).fetchall())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--count", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=200, help="runs of each list query")
    parser.add_argument("--no-extract", action="store_true", help="record without extraction")
    parser.add_argument("--keep", type=Path, help="keep the data dir here instead of a temp dir")
    args = parser.parse_args()

    data = args.keep or Path(tempfile.mkdtemp(prefix="atocore-interactions-bench-"))
    settings = load_settings(env={}, overrides={"data_dir": data})
    engine = Engine(settings)
    rng = random.Random(7)
    try:
        memory_ids = seed(engine, rng)
        engine.memories.near_duplicates("warm up the embedding model")
        log_module.utc_now = Clock()
        log = InteractionLog(engine, extract_on_record=not args.no_extract)
        elapsed = record_all(log, args.count, memory_ids, rng)
        midpoint = (START + timedelta(minutes=args.count // 2)).strftime(TIMESTAMP_FORMAT)
        candidates = Memory.select().where(Memory.status == "candidate").count()
        reinforced = Memory.select().where(Memory.reference_count > 0).count()
        print(f"recorded {args.count} interactions in {elapsed:.2f} s: {args.count / elapsed:,.0f} records/s "
              f"({elapsed / args.count * 1000:.2f} ms each; extraction on record: {not args.no_extract}; "
              f"{candidates} candidates, {reinforced} memories reinforced)")
        print(f"\nlist latency over {args.repeat} runs each (limit 50 unless stated):")
        print(f"{'filter':<22} {'p50 ms':>8} {'p95 ms':>8} {'rows':>5}  plan")
        for name, p50, p95, rows, plan in time_lists(engine, args.repeat, midpoint):
            print(f"{name:<22} {p50:>8.2f} {p95:>8.2f} {rows:>5}  {plan}")
    finally:
        engine.close()
        if args.keep is None:
            shutil.rmtree(data, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
