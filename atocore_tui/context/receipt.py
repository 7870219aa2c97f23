"""The receipt of a context pack: what every tier considered, took and left out.

Every candidate a tier considered appears once, included or with the reason it
was left out, so ``included + excluded == considered`` per tier by
construction. The receipt is what the budget bars, the HTTP ``chunks`` field,
``/debug/context`` and replay read.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Why an item was left out.
OVER_BUDGET = "over budget"
TRIMMED = "trimmed: pack over budget"
BELOW_CONFIDENCE = "below confidence"
NOT_RELEVANT = "not relevant"
DUPLICATE = "duplicate"
SUPERSEDED = "superseded"
LOWER_MATCH = "a better-matching entity was chosen"
LOST_CONFLICT = "lost a resolved conflict"
CONTESTED_REASON = "in an open conflict: the decision about it was chosen"
NEEDS_ENTITY = "its entity did not fit"


@dataclass
class PackItem:
    kind: str
    """state | memory | entity | conflict | relationship | gaps | chunk"""
    ref: str
    """The item's id (state entry, memory, entity, relationship, chunk)."""
    label: str
    score: float
    text: str = ""
    included: bool = False
    reason: str | None = None
    data: dict = field(default_factory=dict)
    """What a face may want to show (e.g. a chunk's source file)."""

    @property
    def chars(self) -> int:
        return len(self.text) + 1 if self.text else 0

    def to_dict(self) -> dict:
        return {"kind": self.kind, "ref": self.ref, "label": self.label, "score": round(self.score, 4),
                "included": self.included, "reason": self.reason, "data": dict(self.data),
                "chars": self.chars}


@dataclass
class TierReceipt:
    number: int
    key: str
    title: str
    share: float | None
    share_chars: int
    allowance: int
    used: int = 0
    items: list[PackItem] = field(default_factory=list)
    not_considered: int = 0
    """Lower-ranked candidates not listed item by item."""

    @property
    def included(self) -> list[PackItem]:
        return [i for i in self.items if i.included]

    @property
    def excluded(self) -> list[PackItem]:
        return [i for i in self.items if not i.included]

    def to_dict(self) -> dict:
        return {
            "tier": self.number, "key": self.key, "title": self.title, "share": self.share,
            "share_chars": self.share_chars, "allowance": self.allowance, "used": self.used,
            "considered": len(self.items), "included": len(self.included),
            "excluded": len(self.excluded), "not_considered": self.not_considered,
            "items": [i.to_dict() for i in self.items],
        }


@dataclass
class ContextPack:
    prompt: str
    project: str | None
    budget: int
    formatted_context: str
    full_prompt: str
    tiers: list[TierReceipt]
    duration_ms: float
    built_at: str
    project_choice: dict | None = None
    """How the project was chosen: ``{project, source: given | inferred | none, reason}``."""
    project_hint: str = ""
    """The project name the caller gave, as given (``project`` is its canonical id)."""
    warnings: list[str] = field(default_factory=list)

    @property
    def total_chars(self) -> int:
        return len(self.formatted_context)

    @property
    def budget_remaining(self) -> int:
        return self.budget - self.total_chars

    def included(self, kind: str) -> list[PackItem]:
        return [i for t in self.tiers for i in t.included if i.kind == kind]

    @property
    def chunks(self) -> list[dict]:
        return [{"chunk_id": i.ref, "score": round(i.score, 4), **i.data} for i in self.included("chunk")]

    @property
    def memories_used(self) -> list[str]:
        return [i.ref for i in self.included("memory")]

    def to_dict(self) -> dict:
        """The HTTP ``/context/build`` answer plus the receipt."""
        return {
            "prompt": self.prompt,
            "project": self.project,
            "project_choice": self.project_choice,
            "formatted_context": self.formatted_context,
            "full_prompt": self.full_prompt,
            "chunks_used": len(self.chunks),
            "total_chars": self.total_chars,
            "budget": self.budget,
            "budget_remaining": self.budget_remaining,
            "duration_ms": round(self.duration_ms, 2),
            "built_at": self.built_at,
            "chunks": self.chunks,
            "memories_used": self.memories_used,
            "tiers": [t.to_dict() for t in self.tiers],
            "project_hint": self.project_hint,
            "warnings": list(self.warnings),
        }


def included_refs(pack: dict) -> dict[str, list[tuple[str, str]]]:
    """(kind, ref) of every included item per tier key, from a pack's dict form."""
    return {tier["key"]: [(i["kind"], i["ref"]) for i in tier["items"] if i["included"]]
            for tier in pack.get("tiers", [])}


def diff_packs(old: dict, new: dict) -> list[dict]:
    """Per tier: the items a rebuilt pack added and removed."""
    before, after = included_refs(old), included_refs(new)
    labels = {(i["kind"], i["ref"]): i["label"] for p in (old, new) for t in p.get("tiers", [])
              for i in t["items"]}
    changes = []
    for key in dict.fromkeys([*before, *after]):
        was, now = before.get(key, []), after.get(key, [])
        added = [x for x in now if x not in was]
        removed = [x for x in was if x not in now]
        changes.append({
            "tier": key,
            "added": [{"kind": k, "ref": r, "label": labels.get((k, r), "")} for k, r in added],
            "removed": [{"kind": k, "ref": r, "label": labels.get((k, r), "")} for k, r in removed],
            "kept": len([x for x in now if x in was]),
        })
    return changes
