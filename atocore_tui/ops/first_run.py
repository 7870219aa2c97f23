"""First run on an empty data dir: ingest the sources and load what the vault
ships beside its notes (``.atocore/``: project registry, seed memories and
state, an engineering graph), so every pane and command has something real to
show. Everything goes through the same engine calls a user makes, so every
row has its audit trail; nothing is loaded into a data dir that already holds
knowledge of that kind.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from ..errors import ValidationError
from ..store.models import Document, Memory, ProjectState

if TYPE_CHECKING:
    from ..engine import Engine

SEED_FILE = Path(".atocore") / "seed.yaml"
SEED_ACTOR = "seed"


def needs_first_run(engine: Engine) -> bool:
    return Document.select().count() == 0 and bool(engine.settings.configured_sources())


def first_run(engine: Engine, progress: Callable[[int, int, str], None] | None = None) -> dict:
    """Ingest every source, then load each source's seed and sample graph."""
    report = engine.ingest(progress=progress)
    seeded = {"memories": 0, "state": 0}
    for root in engine.settings.configured_sources().values():
        counts = load_seed(engine, root / SEED_FILE)
        seeded = {k: seeded[k] + counts[k] for k in seeded}
    graph = engine.graph.load_sample_if_empty()
    return {"ingest": report.summary(), "seeded": seeded, "graph": graph}


def load_seed(engine: Engine, path: Path) -> dict:
    """Load a seed file's memories and state into a data dir that has none."""
    counts = {"memories": 0, "state": 0}
    if not path.is_file():
        return counts
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise ValidationError(f"{path}{line}: invalid seed file: {exc}") from None
    if not isinstance(data, dict):
        raise ValidationError(f"{path}: a seed file is a mapping with 'memories' and 'state'")
    if Memory.select().count() == 0:
        for item in data.get("memories") or []:
            engine.memories.create(
                item.get("type", ""), item.get("content", ""), project=item.get("project", ""),
                confidence=item.get("confidence", 1.0), status=item.get("status", "active"),
                actor=SEED_ACTOR)
            counts["memories"] += 1
    if ProjectState.select().count() == 0:
        for project, categories in (data.get("state") or {}).items():
            for category, entries in (categories or {}).items():
                for key, value in (entries or {}).items():
                    engine.state.set(project, category, key, str(value), source=f"seed:{path.name}")
                    counts["state"] += 1
    return counts
