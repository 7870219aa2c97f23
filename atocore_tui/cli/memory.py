"""``atocore-tui memory …``: memories, their audit trail and undo, the review queue."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ..memory.service import (
    DUPLICATE_THRESHOLD,
    MEMORY_STATUSES,
    MEMORY_TYPES,
    MemoryRecord,
    invalidated_answer,
    list_answer,
    stored_answer,
    updated_answer,
)
from .common import console, print_json

if TYPE_CHECKING:
    from ..engine import Engine

SHORT_ID = 8
"""Human output shows id prefixes; every command accepts a unique prefix back."""


def register(commands) -> None:
    parser = commands.add_parser("memory", help="memories: add, list, change, audit, undo, review queue")
    actions = parser.add_subparsers(dest="memory_action", metavar="ACTION", required=True)

    def action(name: str, handler, help_text: str) -> argparse.ArgumentParser:
        sub = actions.add_parser(name, help=help_text)
        sub.add_argument("--json", action="store_true", help="print JSON")
        sub.set_defaults(handler=handler)
        return sub

    add = action("add", add_memory, "add a memory (active, or a candidate for review)")
    add.add_argument("type", metavar="TYPE", help=", ".join(MEMORY_TYPES))
    add.add_argument("content", metavar="CONTENT")
    add.add_argument("--project", default="", help="project id or alias (default: cross-project)")
    add.add_argument("--confidence", type=float, default=1.0, help="0..1 (default 1.0)")
    add.add_argument("--candidate", action="store_true", help="add to the review queue instead")

    listing = action("list", list_memories, "list memories, most recently changed first")
    listing.add_argument("--type", dest="memory_type", help=", ".join(MEMORY_TYPES))
    listing.add_argument("--project", help="project id or alias; '' for cross-project only")
    listing.add_argument("--all", action="store_true", help="every status, not only active")
    listing.add_argument("--status", help=", ".join(MEMORY_STATUSES))
    listing.add_argument("--min-confidence", type=float, default=0.0)
    listing.add_argument("--limit", type=int, default=50, help="1..500 (default 50)")

    show = action("show", show_memory, "one memory with its audit trail")
    show.add_argument("id", metavar="ID")

    update = action("update", update_memory, "change content, confidence or status")
    update.add_argument("id", metavar="ID")
    update.add_argument("--content")
    update.add_argument("--confidence", type=float)
    update.add_argument("--status", help=", ".join(MEMORY_STATUSES))

    invalidate = action("invalidate", invalidate_memory, "mark a memory wrong")
    invalidate.add_argument("id", metavar="ID")

    supersede = action("supersede", supersede_memory, "replace an active memory by new content or another memory")
    supersede.add_argument("old", metavar="OLD")
    supersede.add_argument("content", metavar="NEW_CONTENT", nargs="?")
    supersede.add_argument("--by", metavar="ID", help="an existing memory (e.g. a candidate) that replaces OLD")

    audit = action("audit", audit_memory, "the audit trail of a memory, oldest first")
    audit.add_argument("id", metavar="ID")

    undo = action("undo", undo_memory, "undo the last action on a memory (again: the one before)")
    undo.add_argument("id", metavar="ID")

    review = action("review", review_queue, "the candidates waiting for review")
    review.add_argument("--order", choices=("oldest", "evidence"), default="oldest")
    review.add_argument("--project", help="project id or alias; '' for cross-project only")
    review.add_argument("--limit", type=int, default=50)

    promote = action("promote", promote_candidate, "promote a candidate (optionally edited first)")
    promote.add_argument("id", metavar="ID")
    promote.add_argument("--content")
    promote.add_argument("--type", dest="memory_type")
    promote.add_argument("--confidence", type=float)

    reject = action("reject", reject_candidate, "reject a candidate")
    reject.add_argument("id", metavar="ID")

    merge = action("merge", merge_candidate, "merge a candidate into an existing memory")
    merge.add_argument("id", metavar="ID")
    merge.add_argument("into", metavar="INTO")
    merge.add_argument("--content", help="new content for the merged memory (default: keep INTO's)")

    duplicates = action("duplicates", find_duplicates, "active and candidate memories nearest to a text")
    duplicates.add_argument("content", metavar="CONTENT")
    duplicates.add_argument("--project")
    duplicates.add_argument("--limit", type=int, default=5)


# ------------------------------------------------------------------ handlers
def add_memory(engine: Engine, args) -> int:
    record = engine.memories.create(args.type, args.content, project=args.project, confidence=args.confidence,
                                    status="candidate" if args.candidate else "active")
    return _done(args, stored_answer(record), record, "added")


def list_memories(engine: Engine, args) -> int:
    records = engine.memories.list(memory_type=args.memory_type, project=args.project,
                                   active_only=not args.all, min_confidence=args.min_confidence,
                                   limit=args.limit, status=args.status)
    if args.json:
        print_json(list_answer(records))
        return 0
    out = console()
    if not records:
        out.print("no memories")
    for record in records:
        out.print(_line(record), soft_wrap=True)
    return 0


def show_memory(engine: Engine, args) -> int:
    record = engine.memories.get(args.id)
    trail = engine.memories.audit(record.id)
    if args.json:
        print_json({"memory": record.to_dict(), "audit": [entry.to_dict() for entry in trail]})
        return 0
    out = console()
    for name, value in record.to_dict().items():
        out.print(f"[bold]{name:<20}[/]{_escape(value)}", soft_wrap=True)
    out.print()
    _print_audit(trail)
    return 0


def update_memory(engine: Engine, args) -> int:
    record = engine.memories.update(args.id, content=args.content, confidence=args.confidence, status=args.status)
    return _done(args, updated_answer(record), record, "updated")


def invalidate_memory(engine: Engine, args) -> int:
    record = engine.memories.invalidate(args.id)
    return _done(args, invalidated_answer(record), record, "invalidated")


def supersede_memory(engine: Engine, args) -> int:
    record = engine.memories.supersede(args.old, args.content, replacement_id=args.by)
    return _done(args, {"status": "superseded", "id": args.old, "replacement": record.id}, record,
                 "superseded by")


def audit_memory(engine: Engine, args) -> int:
    record = engine.memories.get(args.id)
    trail = engine.memories.audit(record.id)
    if args.json:
        print_json({"id": record.id, "audit": [entry.to_dict() for entry in trail]})
        return 0
    _print_audit(trail)
    return 0


def undo_memory(engine: Engine, args) -> int:
    record = engine.memories.undo(args.id)
    return _done(args, {"status": "undone", "id": record.id}, record, "undone; now")


def review_queue(engine: Engine, args) -> int:
    items = engine.review.list(order=args.order, project=args.project, limit=args.limit)
    if args.json:
        print_json({"count": engine.review.count(args.project), "order": args.order,
                    "candidates": [item.to_dict() for item in items]})
        return 0
    out = console()
    if not items:
        out.print("the review queue is empty")
    for item in items:
        out.print(_line(item.memory) + f"  [dim]evidence {item.evidence_score}[/]", soft_wrap=True)
        if item.evidence and item.evidence.quote:
            out.print(f"    [dim]from {item.evidence.quote_from} {item.evidence.interaction_id[:SHORT_ID]} "
                      f"({item.evidence.created_at}):[/] {_escape(item.evidence.quote)}", soft_wrap=True)
        for neighbour in item.neighbours:
            flag = "[yellow]likely duplicate[/] " if neighbour.likely_duplicate else ""
            out.print(f"    {flag}[dim]{neighbour.score:.2f}[/] {_line(neighbour.memory)}", soft_wrap=True)
    return 0


def promote_candidate(engine: Engine, args) -> int:
    edits = {"content": args.content, "memory_type": args.memory_type, "confidence": args.confidence}
    if any(value is not None for value in edits.values()):
        record = engine.review.edit_and_promote(args.id, **edits)
    else:
        record = engine.review.promote(args.id)
    return _done(args, {"status": "promoted", "id": record.id}, record, "promoted")


def reject_candidate(engine: Engine, args) -> int:
    record = engine.review.reject(args.id)
    return _done(args, {"status": "rejected", "id": record.id}, record, "rejected")


def merge_candidate(engine: Engine, args) -> int:
    record = engine.review.merge(args.id, args.into, content=args.content)
    return _done(args, {"status": "merged", "id": args.id, "into": record.id}, record, "merged into")


def find_duplicates(engine: Engine, args) -> int:
    found = engine.memories.near_duplicates(args.content, project=args.project, limit=args.limit)
    if args.json:
        print_json({"threshold": DUPLICATE_THRESHOLD,
                    "duplicates": [{"memory": record.to_dict(), "score": score,
                                    "likely_duplicate": score >= DUPLICATE_THRESHOLD}
                                   for record, score in found]})
        return 0
    out = console()
    if not found:
        out.print("no memories to compare with")
    for record, score in found:
        flag = "[yellow]likely duplicate[/] " if score >= DUPLICATE_THRESHOLD else ""
        out.print(f"{flag}[dim]{score:.2f}[/] {_line(record)}", soft_wrap=True)
    return 0


# ------------------------------------------------------------------ output
def _done(args, answer: dict, record: MemoryRecord, verb: str) -> int:
    if args.json:
        print_json({**answer, "memory": record.to_dict()})
    else:
        console().print(f"{verb} {_line(record)}", soft_wrap=True)
    return 0


def _line(record: MemoryRecord) -> str:
    content = " ".join(record.content.split())
    content = content[:100] + ("…" if len(content) > 100 else "")
    project = record.project or "—"
    return (f"[bold]{record.id[:SHORT_ID]}[/] {record.memory_type:<10} {record.status:<10} "
            f"{record.confidence:.2f} [cyan]{_escape(project)}[/]  {_escape(content)}")


def _print_audit(trail) -> None:
    out = console()
    for entry in trail:
        changed = _changes(entry.before, entry.after)
        link = entry.link or {}
        note = ", ".join(f"{k} {str(v)[:SHORT_ID] if k == 'partner' else v}"
                         for k, v in link.items() if k != "op")
        out.print(f"{entry.at}  [bold]{entry.action:<17}[/] {_escape(entry.actor):<14} "
                  f"{_escape(changed)}" + (f"  [dim]({_escape(note)})[/]" if note else ""), soft_wrap=True)


def _changes(before: dict | None, after: dict | None) -> str:
    if before is None:
        return "created"
    after = after or {}
    parts = [f"{name}: {_short(before.get(name))} → {_short(after.get(name))}"
             for name in after if before.get(name) != after.get(name)]
    return "; ".join(parts) or "no field changed"


def _short(value) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= 40 else text[:39] + "…"


def _escape(value) -> str:
    from rich.markup import escape

    return escape(str(value))
