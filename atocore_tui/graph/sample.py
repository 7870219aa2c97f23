"""The sample engineering graph that ships with the sample vault.

``<vault>/.atocore/graph.yaml`` (a hidden folder: the ingester never reads
it) lists entities with readable ids and relationships as ``"SOURCE TYPE
TARGET"`` lines. It is loaded through the service's own create / relate /
promote / supersede calls, so it is validated, audited and conflict-checked
like anything a user enters. Provenance points at notes as
``note:<document path>`` because chunk ids change when a note is re-chunked.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from ..errors import ConfigError, NotFound
from ..store.models import Entity
from . import vocab

SAMPLE_FILE = Path(".atocore") / "graph.yaml"
ACTOR = "sample"


def find_sample(settings) -> Path | None:
    """The first configured source that carries a sample graph file."""
    for root in settings.configured_sources().values():
        candidate = Path(root) / SAMPLE_FILE
        if candidate.is_file():
            return candidate
    return None


def read_sample(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        raise ConfigError(f"invalid YAML: {getattr(error, 'problem', error)}", str(path),
                          mark.line + 1 if mark else None) from None
    if not isinstance(data, dict) or not isinstance(data.get("entities"), list):
        raise ConfigError("a sample graph needs an 'entities' list", str(path))
    return data


def load_if_empty(service, path: str | Path | None = None) -> dict:
    """Load the sample when no entity exists yet and its projects are known.

    Returns ``{"loaded": bool, ...}`` — a reason when nothing was loaded,
    counts and the conflicts raised when it was.
    """
    if Entity.select().exists():
        return {"loaded": False, "reason": "the graph already has entities"}
    file = Path(path) if path else find_sample(service.engine.settings)
    if file is None or not file.is_file():
        return {"loaded": False, "reason": "no sample graph file"}
    data = read_sample(file)
    entities = data["entities"]
    for project in sorted({str(e.get("project", "")) for e in entities}):
        try:
            service.engine.resolve_project(project)
        except NotFound:
            return {"loaded": False, "reason": f"project {project!r} is not known (ingest its notes first)"}
    return {"loaded": True, "path": str(file), **load(service, data)}


def load(service, data: dict) -> dict:
    """Create every entity as a candidate, relate them, then promote / supersede (one transaction)."""
    relationships = [_parse_relationship(line) for line in data.get("relationships") or []]
    conflicts: list[dict] = []
    with service.db.atomic():
        for item in data["entities"]:
            service.create_entity(item["project"], item["type"], item["name"], item.get("description", ""),
                                  confidence=item.get("confidence", 1.0), source_refs=item.get("refs"),
                                  entity_id=item["id"], actor=ACTOR)
        for source, rel_type, target, confidence in relationships:
            service.relate(source, rel_type, target, confidence=confidence, actor=ACTOR)
        for item in data["entities"]:
            status = vocab.entity_status(item.get("status", vocab.ACTIVE))
            if status == vocab.ACTIVE:
                conflicts.extend(service.promote(item["id"], actor=ACTOR)["conflicts"])
            elif status == vocab.SUPERSEDED:
                service.supersede(item["id"], actor=ACTOR)
    return {"entities": len(data["entities"]), "relationships": len(relationships), "conflicts": conflicts}


def _parse_relationship(line) -> tuple[str, str, str, float]:
    """``"SOURCE TYPE TARGET [confidence]"``."""
    parts = str(line).split()
    if len(parts) not in (3, 4):
        raise ConfigError(f"relationship {line!r}: write 'SOURCE TYPE TARGET [confidence]'")
    confidence = float(parts[3]) if len(parts) == 4 else 1.0
    return parts[0], parts[1], parts[2], confidence
