"""``atocore-tui state``: trusted project facts (get, set, invalidate, history)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ..projects.state import CATEGORIES
from .common import console, print_json

if TYPE_CHECKING:
    from ..engine import Engine


def register(commands) -> None:
    json_flag = argparse.ArgumentParser(add_help=False)
    json_flag.add_argument("--json", action="store_true", help="print JSON")
    parser = commands.add_parser("state", help="trusted per-project facts by category and key")
    sub = parser.add_subparsers(dest="state_command", metavar="ACTION", required=True)

    get = sub.add_parser("get", parents=[json_flag], help="a project's active entries")
    get.add_argument("project", help="id or alias")
    get.add_argument("--category", help=f"one of {', '.join(CATEGORIES)}")
    get.add_argument("--all", action="store_true", dest="include_superseded", help="include superseded entries")
    get.set_defaults(handler=get_state)

    put = sub.add_parser("set", parents=[json_flag], help="set a fact (an existing key is superseded)")
    put.add_argument("project", help="id or alias")
    put.add_argument("category", help=f"one of {', '.join(CATEGORIES)}")
    put.add_argument("key")
    put.add_argument("value")
    put.add_argument("--source", default="", help="where the fact comes from")
    put.add_argument("--confidence", default="1.0", help="0 to 1 (default 1)")
    put.set_defaults(handler=set_state)

    for name, handler, text in (("invalidate", invalidate_state, "mark the active entry superseded"),
                                ("history", state_history, "every value a key has had, newest first")):
        command = sub.add_parser(name, parents=[json_flag], help=text)
        command.add_argument("project", help="id or alias")
        command.add_argument("category")
        command.add_argument("key")
        command.set_defaults(handler=handler)


def get_state(engine: Engine, args) -> int:
    result = engine.state.get(args.project, args.category, include_superseded=args.include_superseded)
    if args.json:
        print_json(result)
        return 0
    if not result["entries"]:
        console().print(f"no state for {result['project']}"
                        + (f" in category {args.category}" if args.category else ""))
        return 0
    _table(f"state of {result['project']}", result["entries"], with_category=True)
    return 0


def set_state(engine: Engine, args) -> int:
    result = engine.state.set(args.project, args.category, args.key, args.value,
                              source=args.source, confidence=args.confidence)
    if args.json:
        print_json(result)
    else:
        console().print(f"{result['status']} {result['category']}/{result['key']} ({result['id']})")
    return 0


def invalidate_state(engine: Engine, args) -> int:
    result = engine.state.invalidate(args.project, args.category, args.key)
    if args.json:
        print_json(result)
    else:
        console().print(f"invalidated {result['category']}/{result['key']} of {result['project']}")
    return 0


def state_history(engine: Engine, args) -> int:
    result = engine.state.history(args.project, args.category, args.key)
    if args.json:
        print_json(result)
        return 0
    _table(f"{result['project']} {result['category']}/{result['key']}", result["entries"], with_category=False)
    return 0


def _table(title: str, entries: list[dict], *, with_category: bool) -> None:
    from rich.table import Table

    table = Table(title=title, title_justify="left", box=None, header_style="bold", pad_edge=False)
    columns = (["category"] if with_category else []) + ["key", "value", "conf", "source", "status", "updated"]
    for column in columns:
        table.add_column(column, overflow="fold")
    for entry in entries:
        row = ([entry["category"]] if with_category else []) + [
            entry["key"], entry["value"], f"{entry['confidence']:.2f}", entry["source"] or "—",
            entry["status"], entry["updated_at"]]
        table.add_row(*row, style="dim" if entry["status"] != "active" else None)
    console().print(table)
