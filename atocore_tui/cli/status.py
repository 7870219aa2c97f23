"""``atocore-tui status`` and the bare command."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from .. import __version__
from .common import console, print_json, progress_bar

if TYPE_CHECKING:
    from ..engine import Engine


def register(commands) -> None:
    parser = commands.add_parser("status", help="data dir, sources, counts, index")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(handler=lambda engine, args: show(engine, args.json))


def default(engine: Engine, args=None) -> int:
    """Bare ``atocore-tui``: the workstation on a terminal. Piped or without a
    terminal, the first run (ingest the sources, load what they ship in
    ``.atocore/``) happens here and the status is printed instead."""
    if sys.stdin.isatty() and sys.stdout.isatty():
        from ..tui import make_app

        make_app(engine=engine).run()
        return 0
    from ..ops.first_run import first_run, needs_first_run

    if needs_first_run(engine):
        out = console()
        out.print("[bold]First run[/]: ingesting "
                  + ", ".join(str(p) for p in engine.settings.configured_sources().values()))
        with progress_bar("ingest") as progress:
            result = first_run(engine, progress)
        summary = result["ingest"]
        out.print(f"{summary['ingested']} notes ingested ({summary['chunks_added']} chunks), "
                  f"{len(summary['skipped'])} skipped; seeded {result['seeded']['memories']} memories, "
                  f"{result['seeded']['state']} project-state entries; "
                  f"graph: {result['graph'].get('entities', 0)} entities")
    return show(engine, False)


def show(engine: Engine, as_json: bool) -> int:
    status = engine.status()
    if as_json:
        print_json(status)
        return 0
    out = console()
    out.print(f"[bold]AtoCore TUI[/] {__version__} — the engine's status (on a terminal, bare "
              "`atocore-tui` opens the workstation).")
    out.print(f"data dir  {status['data_dir']}")
    out.print(f"config    {status['config'] or '(none: defaults and environment)'}")
    for name, source in status["sources"].items():
        mark = "[green]ok[/]" if source["exists"] else "[red]missing[/]"
        out.print(f"source    {name}: {source['path']} {mark}")
    out.print(f"store     {status['documents']} documents, {status['chunks']} chunks, "
                  f"projects: {', '.join(status['projects']) or '—'}")
    index = status["index"]
    state = "current" if index["current"] else "stale or missing (rebuilt on next query)"
    out.print(f"index     {index['vectors']} vectors, {index['dtype'] or '—'}, {state}")
    semantic = status["semantic"]
    if semantic.get("enabled"):
        doing = (f", computing ({semantic['chunks_per_s']} chunks/s)" if semantic["running"]
                 else "" if semantic["complete"] else ", the rest after the next ingest or `index semantic`")
        out.print(f"semantic  {semantic['covered']} of {semantic['total']} chunks{doing}")
    else:
        out.print("semantic  off")
    if status["ingesting"]:
        out.print(f"[yellow]an ingestion is running: {status['ingesting']}[/]")
    if not status["chunks"]:
        out.print("nothing ingested yet: run [bold]atocore-tui ingest[/]")
    return 0
