"""Graduation: a memory becomes an engineering entity.

1. :func:`propose` reads a memory and proposes an entity type, a short name
   and a description by simple rules on its text (nothing is written; the
   user edits the proposal).
2. The service creates the *candidate* entity with ``source_refs`` =
   ``memory:<id>`` and a creation audit row whose actor is ``graduation``.
3. When that entity is promoted, :func:`mark_graduated` — in the promotion's
   transaction — marks the memory ``graduated`` with ``graduated_to_entity``
   pointing at the entity, and writes an audit row on both sides. This is the
   one place where the graph writes a memory.
"""

from __future__ import annotations

import re

from peewee import fn

from ..errors import NotFound, ValidationError
from ..store.models import Entity, EntityAudit, Memory, MemoryAudit, utc_now
from .records import audit

ACTOR = "graduation"
GRADUATABLE = ("active", "candidate")

MATERIAL_RE = re.compile(
    r"\b(\d{4}-T\d+|\d{4}-O|Ti-6Al-4V|17-4\s?PH|17-7\s?PH|15-5\s?PH|A286|440C|316L|304L|Inconel\s?\d+|"
    r"Invar\s?\d*|PEEK(?:\s?CF\d+)?|PTFE|FKM|NBR|Viton|Vespel|Delrin|16MnCr5|42CrMo4|100Cr6|Braycote\s?\w+|"
    r"Krytox\s?\w+|(?:aluminium|aluminum|titanium|stainless steel|copper|brass)(?: alloy)?)\b",
    re.IGNORECASE)

# Ordered: the first rule whose pattern matches decides the type.
TYPE_RULES: tuple[tuple[str, re.Pattern], ...] = (
    ("decision", re.compile(r"\b(decided|decide|decision|chose|chosen|selected|we will use|we go with)\b", re.I)),
    ("requirement", re.compile(r"\b(shall|must|is required to|requirement)\b", re.I)),
    ("risk", re.compile(r"\b(risk|might fail|could fail|hazard|concern)\b", re.I)),
    ("result", re.compile(r"\b(measured|result(?:s|ed)?|achieved|came out at)\b", re.I)),
    ("test", re.compile(r"\b(test(?:s|ed|ing)?|tvac|shaker|qualification)\b", re.I)),
    ("analysis", re.compile(r"\b(analysis|fea|cfd|simulation|calculated|model predicts)\b", re.I)),
    ("vendor", re.compile(r"\b(supplier|vendor|quote)\b", re.I)),
    ("constraint", re.compile(r"\b(limit(?:ed)? to|no more than|at most|envelope|not allowed)\b", re.I)),
)

_LEADING = re.compile(
    r"^(?:(?:we|i|the team)\s+(?:have\s+)?(?:decided|chose|selected)\s+(?:to\s+(?:use|go with)\s+|on\s+|that\s+)?|"
    r"remember(?:\s+that)?\s+|note(?:\s+that)?:?\s+|fyi:?\s+|decision:?\s+|"
    r"there is a\s+|(?:the\s+)?risk\s+(?:is\s+)?(?:that\s+)?)", re.I)
_ID_RE = re.compile(r"\b[A-Z]{1,5}(?:-[A-Z0-9]{1,6})*-\d{2,4}[a-z]?\b")
_STOP_TAIL = {"the", "a", "an", "of", "to", "for", "and", "or", "in", "on", "at", "with", "is", "be", "by"}
NAME_WORDS = 8


def get_memory(memory_id) -> Memory:
    memory = Memory.get_or_none(Memory.id == str(memory_id or "").strip())
    if memory is None:
        raise NotFound(f"unknown memory: {memory_id}")
    return memory


def propose(memory_id) -> dict:
    """An editable entity proposal for a memory; nothing is written."""
    memory = get_memory(memory_id)
    _check_graduatable(memory)
    text = " ".join(memory.content.split())
    kind = propose_type(text)
    return {"memory_id": memory.id, "project": memory.project or None, "entity_type": kind,
            "name": propose_name(text, kind), "description": text,
            "confidence": memory.confidence, "source_refs": [f"memory:{memory.id}"]}


def _check_graduatable(memory: Memory) -> None:
    if memory.status not in GRADUATABLE:
        raise ValidationError(f"memory {memory.id} is {memory.status}: only active or candidate memories graduate")


def propose_type(text: str) -> str:
    for kind, pattern in TYPE_RULES:
        if pattern.search(text):
            return kind
    if MATERIAL_RE.search(text):
        return "material"
    return "parameter" if re.search(r"\d", text) else "component"


def propose_name(text: str, kind: str) -> str:
    """A short noun phrase: an id if the text has one, the material for materials,
    the subject of a requirement, otherwise the first words of the first sentence."""
    sentence = re.split(r"(?<=[.!?;])\s", text, maxsplit=1)[0].rstrip(".!?;")
    ident = _ID_RE.search(sentence)
    if kind == "material" and (material := MATERIAL_RE.search(sentence)):
        return material.group(0)
    body = _LEADING.sub("", sentence).strip()
    if kind == "requirement":
        body = re.split(r"\b(?:shall|must|is required to)\b", body, maxsplit=1, flags=re.I)[0] or body
    if kind == "decision":
        body = re.split(r"\b(?:because|since|as|so that)\b", body, maxsplit=1, flags=re.I)[0] or body
    words = [w for w in body.split() if w]
    if ident and ident.group(0) not in words[:NAME_WORDS]:
        words = [ident.group(0), *[w for w in words if w != ident.group(0)]]
    words = words[:NAME_WORDS]
    while words and words[-1].lower().strip(",:") in _STOP_TAIL:
        words.pop()
    name = " ".join(words).strip(" ,:;-") or sentence[:60]
    return name[:1].upper() + name[1:]


def graduated_from(entity_id: str) -> str | None:
    """The memory an entity was proposed from, if graduation created it."""
    row = (EntityAudit.select().where((EntityAudit.entity == entity_id) & (EntityAudit.action == "created")
                                      & (EntityAudit.actor == ACTOR)).first())
    return (row.after or {}).get("graduated_from") if row else None


def mark_graduated(entity) -> dict | None:
    """On promotion: the memory becomes ``graduated`` with a pointer to the entity,
    audited on both sides. Runs inside the promotion's transaction."""
    memory_id = graduated_from(entity.id)
    if memory_id is None:
        return None
    memory = Memory.get_or_none(Memory.id == memory_id)
    if memory is None or memory.status not in GRADUATABLE:
        return None  # deleted or already changed meanwhile: the entity still stands on its own
    before = {"status": memory.status, "graduated_to_entity": memory.graduated_to_entity}
    after = {"status": "graduated", "graduated_to_entity": entity.id}
    memory.status, memory.graduated_to_entity, memory.updated_at = "graduated", entity.id, utc_now()
    memory.save()
    MemoryAudit.create(memory=memory, action="graduated", before=before, after=after, actor=ACTOR, at=utc_now())
    audit(entity, "memory_graduated", None, {"memory": memory.id}, ACTOR)
    return {"memory_id": memory.id, **after}


def creation_note(memory: Memory) -> dict:
    """What the creation audit of a graduated entity records."""
    _check_graduatable(memory)
    return {"graduated_from": memory.id}


def stats(project: str | None = None) -> dict:
    """Graduation so far: memories graduated, still graduatable, entities
    proposed from memories (and how many of those are still candidates)."""
    memories = Memory.select(Memory.status, fn.COUNT(Memory.id)).group_by(Memory.status)
    if project:
        memories = memories.where(Memory.project == project)
    by_status = dict(memories.tuples())
    graduated = by_status.get("graduated", 0)
    graduatable = sum(by_status.get(s, 0) for s in GRADUATABLE)
    proposed = (EntityAudit.select(Entity.status).join(Entity)
                .where((EntityAudit.action == "created") & (EntityAudit.actor == ACTOR)))
    if project:
        proposed = proposed.where(Entity.project == project)
    statuses = [row[0] for row in proposed.tuples()]
    pending = statuses.count("candidate")
    considered = graduated + graduatable
    return {"project": project, "graduated": graduated, "graduatable": graduatable,
            "proposed": len(statuses), "pending_candidates": pending,
            "graduation_rate": round(graduated / considered, 4) if considered else 0.0,
            "memories_by_status": by_status}
