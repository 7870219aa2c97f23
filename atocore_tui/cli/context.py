"""``atocore-tui context``: build a context pack and show how it was filled."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from .common import console, print_json

if TYPE_CHECKING:
    from ..engine import Engine


def register(commands) -> None:
    parser = commands.add_parser("context", help="build the context pack for a prompt")
    parser.add_argument("prompt", help="the prompt; '-' reads it from stdin")
    parser.add_argument("--project", help="project id or alias")
    parser.add_argument("--budget", type=int, default=None, help="characters (default from settings)")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="the pack and its receipt as JSON")
    output.add_argument("--prompt-only", action="store_true",
                        help="print only the full prompt (to pipe into an LLM CLI)")
    output.add_argument("--context-only", action="store_true", help="print only the formatted context")
    parser.add_argument("--replay", metavar="INTERACTION_ID",
                        help="rebuild an interaction's recorded pack and show what changed")
    parser.set_defaults(handler=run)


def run(engine: Engine, args) -> int:
    if args.replay:
        return replay(engine, args)
    prompt = sys.stdin.read() if args.prompt == "-" else args.prompt
    pack = engine.context.build(prompt, args.project, args.budget)
    if args.json:
        print_json(pack.to_dict())
    elif args.prompt_only:
        sys.stdout.write(pack.full_prompt + "\n")
    elif args.context_only:
        sys.stdout.write(pack.formatted_context + "\n")
    else:
        show(pack)
    return 0


def show(pack) -> None:
    from rich.table import Table
    from rich.text import Text

    out = console()
    out.print(f"[bold]Context pack[/] for [italic]{pack.prompt[:60]}[/]"
              f"{' · project ' + pack.project if pack.project else ''}")
    choice = pack.project_choice or {}
    if choice.get("source") in ("inferred", "none"):
        label = "project inferred" if choice["source"] == "inferred" else "no project"
        out.print(Text(f"{label}: {choice.get('reason', '')}", style="dim"))
    table = Table(box=None, pad_edge=False, show_header=True, header_style="bold")
    table.add_column("tier")
    table.add_column("budget bar", no_wrap=True)
    table.add_column("used", justify="right")
    table.add_column("share", justify="right")
    table.add_column("items", justify="right")
    width = 24
    for tier in pack.tiers:
        scale = max(pack.budget, 1)
        used = round(width * tier.used / scale)
        share = round(width * tier.share_chars / scale)
        bar = Text("█" * used, style="green")
        if share > used:
            bar.append("░" * (share - used), style="dim")
        table.add_row(f"{tier.number} {tier.title}", bar, str(tier.used), str(tier.share_chars),
                      f"{len(tier.included)}/{len(tier.items)}")
    out.print(table)
    out.print(f"total [bold]{pack.total_chars}[/] of {pack.budget} chars "
              f"({pack.budget_remaining} left) · {len(pack.chunks)} chunks · {pack.duration_ms:.1f} ms")
    for tier in pack.tiers:
        for item in tier.items:
            mark = "[green]+[/]" if item.included else "[dim]-[/]"
            why = "" if item.included else f"[dim]({item.reason})[/] "
            out.print(f"  {mark} {tier.number} {item.kind:<12} {why}{item.label[:70]}",
                      overflow="ellipsis", no_wrap=True)
    out.print()
    out.print(pack.formatted_context, markup=False, highlight=False)


def replay(engine: Engine, args) -> int:
    result = engine.context.replay(args.replay)
    if args.json:
        print_json(result)
        return 0
    out = console()
    out.print(f"[bold]Replay[/] of interaction {result['interaction_id']} "
              f"(recorded {result['recorded_at']}, rebuilt {result['rebuilt_at']})")
    for change in result["changes"]:
        if not change["added"] and not change["removed"]:
            continue
        out.print(f"[bold]{change['tier']}[/]: {change['kept']} kept")
        for item in change["added"]:
            out.print(f"  [green]+ {item['kind']} {item['label'][:70]}[/]", overflow="ellipsis", no_wrap=True)
        for item in change["removed"]:
            out.print(f"  [red]- {item['kind']} {item['label'][:70]}[/]", overflow="ellipsis", no_wrap=True)
    if all(not c["added"] and not c["removed"] for c in result["changes"]):
        out.print("no changes: today's data builds the same pack")
    return 0
