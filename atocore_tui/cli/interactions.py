"""``atocore-tui interactions``: record, list and show LLM round-trips; extract candidates."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from ..errors import ValidationError
from .common import console, print_json

if TYPE_CHECKING:
    from ..engine import Engine


def register(commands) -> None:
    json_flag = argparse.ArgumentParser(add_help=False)
    json_flag.add_argument("--json", action="store_true", help="print JSON")
    parser = commands.add_parser("interactions", help="the log of LLM round-trips; extraction of candidates")
    sub = parser.add_subparsers(dest="interactions_command", metavar="ACTION", required=True)

    record = sub.add_parser("record", parents=[json_flag],
                            help="record one round-trip (reinforces used memories, extracts candidates)")
    record.add_argument("--prompt", required=True, help="the prompt; '-' reads it from stdin")
    record.add_argument("--response", default="", help="the response; '-' reads it from stdin")
    record.add_argument("--summary", dest="response_summary", default="", help="a short summary of the response")
    record.add_argument("--project", default="", help="project id or alias")
    record.add_argument("--client", default="", help="the client that made the call (e.g. claude-code)")
    record.add_argument("--session", dest="session_id", default="", help="session id")
    record.add_argument("--memory-used", dest="memories_used", action="extend", nargs="+", default=[], metavar="ID",
                        help="ids of memories the context pack carried")
    record.add_argument("--chunk-used", dest="chunks_used", action="extend", nargs="+", default=[], metavar="ID",
                        help="ids of chunks the context pack carried")
    record.set_defaults(handler=record_interaction)

    listing = sub.add_parser("list", parents=[json_flag], help="newest first, with filters")
    listing.add_argument("--project", help="project id or alias")
    listing.add_argument("--session", dest="session_id", help="session id")
    listing.add_argument("--client", help="client name")
    listing.add_argument("--since", help="inclusive: 2026-04-22, '2026-04-22 13:05:00' or 2026-04-22T13:05:00Z")
    listing.add_argument("--limit", type=int, default=50, help="1 to 500 (default 50; more is capped at 500)")
    listing.set_defaults(handler=list_interactions)

    show = sub.add_parser("show", parents=[json_flag], help="one interaction in full")
    show.add_argument("id", help="the id, or a unique prefix of at least 6 characters")
    show.set_defaults(handler=show_interaction)

    extract = sub.add_parser("extract", parents=[json_flag],
                             help="propose candidate memories from one interaction or from all (--all)")
    extract.add_argument("id", nargs="?", help="the interaction")
    extract.add_argument("--all", action="store_true", help="every interaction (safe to re-run)")
    extract.add_argument("--since", help="with --all: only interactions from this time on (inclusive)")
    extract.add_argument("--project", help="with --all: only this project's interactions")
    extract.set_defaults(handler=extract_candidates)


def _read(value: str) -> str:
    """'-' reads standard input."""
    return sys.stdin.read() if value == "-" else value


def record_interaction(engine: Engine, args) -> int:
    if args.prompt == "-" and args.response == "-":
        raise ValidationError("only one of --prompt and --response can read stdin ('-')")
    result = engine.interactions.record(
        prompt=_read(args.prompt), response=_read(args.response),
        response_summary=args.response_summary, project=args.project, client=args.client,
        session_id=args.session_id, memories_used=args.memories_used, chunks_used=args.chunks_used)
    if args.json:
        print_json(result)
        return 0
    out = console()
    out.print(f"recorded {result['id']} at {result['created_at']}")
    if result["reinforced"]:
        out.print(f"reinforced {len(result['reinforced'])} memories: {', '.join(result['reinforced'])}")
    if result["candidates"]:
        out.print(f"{len(result['candidates'])} candidate memories for review: {', '.join(result['candidates'])}")
    if "extraction_error" in result:
        console(stderr=True).print(f"[yellow]extraction failed:[/] {result['extraction_error']}")
    return 0


def list_interactions(engine: Engine, args) -> int:
    result = engine.interactions.entries(project=args.project, session_id=args.session_id, client=args.client,
                                      since=args.since, limit=args.limit)
    if args.json:
        print_json(result)
        return 0
    if not result["interactions"]:
        console().print("no interactions")
        return 0
    from rich.table import Table

    table = Table(box=None, header_style="bold", pad_edge=False, expand=True)
    rows = [(item["created_at"], item["id"][:8], item["project"] or "—", item["client"] or "—",
             item["session_id"] or "—", " ".join(item["prompt"].split())) for item in result["interactions"]]
    headers = ("created (UTC)", "id", "project", "client", "session", "prompt")
    for n, header in enumerate(headers):
        if header == "prompt":
            table.add_column(header, overflow="ellipsis", no_wrap=True, ratio=1, min_width=20)
        else:  # every other column at its full width; the prompt gets the rest
            width = max(len(header), *(len(row[n]) for row in rows))
            table.add_column(header, no_wrap=True, min_width=width, max_width=max(width, 24))
    for row in rows:
        table.add_row(*row)
    console().print(table)
    console().print(f"[dim]{result['count']} shown[/]")
    return 0


def show_interaction(engine: Engine, args) -> int:
    item = engine.interactions.get(args.id)
    if args.json:
        print_json(item)
        return 0
    from rich.rule import Rule

    out = console()
    out.print(f"[bold]{item['id']}[/]  {item['created_at']} UTC")
    out.print(f"project {item['project'] or '—'}   client {item['client'] or '—'}   "
              f"session {item['session_id'] or '—'}")
    for title, text in (("prompt", item["prompt"]), ("response", item["response"]),
                        ("summary", item["response_summary"])):
        if text:
            out.print(Rule(title, align="left"))
            out.print(text, markup=False, highlight=False)
    out.print(Rule(align="left"))
    out.print(f"memories used: {', '.join(item['memories_used']) or '—'}")
    out.print(f"chunks used:   {', '.join(item['chunks_used']) or '—'}")
    out.print(f"context pack:  {'kept' if item['context_pack'] is not None else '—'}")
    return 0


def extract_candidates(engine: Engine, args) -> int:
    if bool(args.id) == bool(args.all):
        raise ValidationError("give an interaction id or --all (not both)")
    if args.id and (args.since or args.project):
        raise ValidationError("--since and --project go with --all")
    if args.id:
        result = {"interaction": args.id, "candidates": engine.interactions.extract(args.id)}
        result["created"] = len(result["candidates"])
    else:
        result = engine.interactions.extract_all(since=args.since, project=args.project)
    if args.json:
        print_json(result)
        return 1 if result.get("errors") else 0
    out = console()
    scanned = f" from {result['interactions']} interactions" if "interactions" in result else ""
    out.print(f"{result['created']} new candidate memories{scanned}"
              + (": " + ", ".join(result["candidates"]) if result["candidates"] else ""))
    for error in result.get("errors", []):
        console(stderr=True).print(f"[yellow]{error['interaction']}:[/] {error['error']}")
    if result["created"]:
        out.print("review them with [bold]atocore-tui memory review[/]")
    return 1 if result.get("errors") else 0
