"""The one entry point: ``atocore-tui [global options] [command]``.

Bare ``atocore-tui`` will open the workstation (a later issue); until then it
prints a status summary. Engine errors become a message on stderr and an exit
code, in :func:`main` only.
"""

from __future__ import annotations

import argparse
import json
import sys
from contextlib import nullcontext
from pathlib import Path
from typing import Any, Sequence

from . import __version__
from .config import Settings, load_settings
from .errors import AtoCoreError, Busy, ConfigError, ModelError, NotFound, ValidationError

EXIT_CODES: list[tuple[type[AtoCoreError], int]] = [
    (ConfigError, 2),
    (ValidationError, 2),
    (NotFound, 3),
    (Busy, 4),
    (ModelError, 5),
    (AtoCoreError, 1),
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="atocore-tui",
        description="A local-first context engine for LLM work on engineering projects.")
    parser.add_argument("--version", action="version", version=f"atocore-tui {__version__}")
    parser.add_argument("--data-dir", type=Path, help="data directory (database, index, backups)")
    parser.add_argument("--vault", type=Path, help="the vault folder (source 'vault')")
    parser.add_argument("--config", type=Path, help="YAML config file")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    ingest = commands.add_parser("ingest", help="ingest a path inside a source, or every source")
    ingest.add_argument("path", nargs="?", help="file or folder inside a configured source")
    ingest.add_argument("--project", help="project for notes whose front matter names none")
    ingest.add_argument("--purge-deleted", action="store_true",
                        help="remove documents whose files were deleted")
    ingest.add_argument("--json", action="store_true", help="print a JSON summary")

    query = commands.add_parser("query", help="hybrid search over the ingested chunks")
    query.add_argument("text", help="the question; '-' reads one query per line from stdin")
    query.add_argument("--top-k", type=int, default=None, help="number of results (default 10)")
    query.add_argument("--project", help="boost this project's notes (id or alias)")
    query.add_argument("--only-project", action="store_true", help="search only the project's notes")
    query.add_argument("--tags", help="comma-separated tags; a hit must carry one of them")
    query.add_argument("--json", action="store_true", help="print JSON")

    status = commands.add_parser("status", help="data dir, sources, counts, index")
    status.add_argument("--json", action="store_true", help="print JSON")

    index = commands.add_parser("index", help="the vector index")
    index_commands = index.add_subparsers(dest="index_command", metavar="ACTION", required=True)
    index_commands.add_parser("rebuild", help="re-embed every chunk into a new index")
    return parser


def settings_from(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {"data_dir": args.data_dir, "sources.vault": args.vault}
    return load_settings(config_path=args.config, overrides=overrides)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = settings_from(args)
        return run(args, settings)
    except AtoCoreError as error:
        print(f"atocore-tui: error: {error}", file=sys.stderr)
        return next(code for kind, code in EXIT_CODES if isinstance(error, kind))
    except KeyboardInterrupt:
        print("atocore-tui: interrupted", file=sys.stderr)
        return 130


def run(args: argparse.Namespace, settings: Settings) -> int:
    from .engine import Engine

    engine = Engine(settings)
    try:
        if args.command == "ingest":
            return cmd_ingest(engine, args)
        if args.command == "query":
            return cmd_query(engine, args)
        if args.command == "index":
            seconds = engine.rebuild_index()
            print(f"index rebuilt in {seconds:.2f} s ({len(engine.vectors.index)} vectors)")
            return 0
        if args.command is None:
            return cmd_default(engine)
        return cmd_status(engine, args.json)
    finally:
        engine.close()


def _console():
    from rich.console import Console

    return Console(stderr=False, highlight=False)


def cmd_ingest(engine, args) -> int:
    show_progress = not args.json and sys.stderr.isatty()
    progress_context = nullcontext(None)
    if show_progress:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        progress_context = Progress(TextColumn("[bold]ingest"), BarColumn(), MofNCompleteColumn(),
                                    TimeElapsedColumn(), TextColumn("{task.description}"),
                                    transient=True, console=Console(stderr=True))
    with progress_context as bar:
        task = bar.add_task("", total=None) if bar else None

        def progress(done: int, total: int, label: str) -> None:
            if bar is not None:
                bar.update(task, completed=done, total=total, description=label[-50:])

        report = engine.ingest(args.path, project=args.project, purge_deleted=args.purge_deleted,
                               progress=progress)
    summary = report.summary()
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    console = _console()
    console.print(
        f"[bold]{summary['files_seen']}[/] files seen: [green]{summary['ingested']} ingested[/], "
        f"{summary['unchanged']} unchanged, [yellow]{len(summary['skipped'])} skipped[/]"
        + (f", {len(summary['removed'])} removed" if summary["removed"] else "")
        + f" in {summary['seconds']:.2f} s")
    console.print(f"chunks: +{summary['chunks_added']} added, ~{summary['chunks_updated']} updated, "
                  f"-{summary['chunks_removed']} removed")
    for item in summary["skipped"]:
        console.print(f"  [yellow]skipped[/] {item['path']}: {item['reason']}")
    for item in summary["warnings"]:
        console.print(f"  [yellow]warning[/] {item['path']}: {item['warning']}")
    for path in summary["missing"]:
        console.print(f"  [dim]missing[/] {path} (deleted on disk; --purge-deleted removes it)")
    if summary["index_rebuilt"]:
        console.print(f"  [dim]index rebuilt: {summary['index_rebuilt']}[/]")
    return 0


def cmd_query(engine, args) -> int:
    tags = [t for t in (args.tags or "").split(",") if t.strip()]

    def ask(text: str):
        return engine.query(text, args.top_k, project=args.project, tags=tags,
                            only_project=args.only_project)

    if args.text == "-":
        for line in sys.stdin:
            text = line.strip()
            if not text:
                continue
            try:
                hits = ask(text)
                print(json.dumps({"query": text, "results": [h.to_dict() for h in hits]}), flush=True)
            except (ValidationError, NotFound) as error:
                print(json.dumps({"query": text, "error": str(error)}), flush=True)
        return 0
    hits = ask(args.text)
    if args.json:
        print(json.dumps({"query": args.text, "results": [h.to_dict() for h in hits]}, indent=2))
        return 0
    from rich.padding import Padding
    from rich.text import Text

    console = _console()
    if not hits:
        console.print("no results" + ("" if engine.status()["chunks"] else
                                      " (nothing ingested yet: run `atocore-tui ingest`)"))
        return 0
    for rank, hit in enumerate(hits, 1):
        head = Text.assemble((f"{rank:>2}  ", "bold"), (f"{hit.score:.3f}  ", "cyan"),
                             (f"{hit.source_file}", "bold"), (f":{hit.line_start}-{hit.line_end}", "dim"))
        console.print(head, overflow="ellipsis", no_wrap=True)
        if hit.heading_path:
            console.print(Padding(Text(hit.heading_path, style="italic"), (0, 0, 0, 4)),
                          overflow="ellipsis", no_wrap=True)
        snippet = " ".join(hit.content.split())
        snippet = snippet[:280] + ("…" if len(snippet) > 280 else "")
        console.print(Padding(Text(snippet, style="dim"), (0, 0, 1, 4)))
    return 0


def cmd_default(engine) -> int:
    """Bare ``atocore-tui``: on a fresh data dir, ingest the configured sources
    first (the bundled sample vault when nothing is configured), then show status."""
    if engine.status()["documents"] == 0 and engine.settings.configured_sources():
        args = argparse.Namespace(path=None, project=None, purge_deleted=False, json=False)
        _console().print("[bold]First run[/]: ingesting "
                         + ", ".join(str(p) for p in engine.settings.configured_sources().values()))
        cmd_ingest(engine, args)
    return cmd_status(engine, False)


def cmd_status(engine, as_json: bool) -> int:
    status = engine.status()
    if as_json:
        print(json.dumps(status, indent=2))
        return 0
    console = _console()
    console.print(f"[bold]AtoCore TUI[/] {__version__} — the workstation arrives in a later release;"
                  " this is the engine's status.")
    console.print(f"data dir  {status['data_dir']}")
    console.print(f"config    {status['config'] or '(none: defaults and environment)'}")
    for name, source in status["sources"].items():
        mark = "[green]ok[/]" if source["exists"] else "[red]missing[/]"
        console.print(f"source    {name}: {source['path']} {mark}")
    console.print(f"store     {status['documents']} documents, {status['chunks']} chunks, "
                  f"projects: {', '.join(status['projects']) or '—'}")
    index = status["index"]
    state = "current" if index["current"] else "stale or missing (rebuilt on next query)"
    console.print(f"index     {index['vectors']} vectors, {index['dtype'] or '—'}, {state}")
    if status["ingesting"]:
        console.print(f"[yellow]an ingestion is running: {status['ingesting']}[/]")
    if not status["chunks"]:
        console.print("nothing ingested yet: run [bold]atocore-tui ingest[/]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
