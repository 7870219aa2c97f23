"""``atocore-tui ingest``."""

from __future__ import annotations

import sys
from contextlib import nullcontext

from .common import console, print_json


def register(commands) -> None:
    parser = commands.add_parser("ingest", help="ingest a path inside a source, or every source")
    parser.add_argument("path", nargs="?", help="file or folder inside a configured source")
    parser.add_argument("--project", help="project for notes whose front matter names none")
    parser.add_argument("--purge-deleted", action="store_true",
                        help="remove documents whose files were deleted")
    parser.add_argument("--json", action="store_true", help="print a JSON summary")
    parser.set_defaults(handler=run)


def run(engine, args) -> int:
    show_progress = not args.json and sys.stderr.isatty()
    progress_context = nullcontext(None)
    if show_progress:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        progress_context = Progress(TextColumn("[bold]ingest"), BarColumn(), MofNCompleteColumn(),
                                    TimeElapsedColumn(), TextColumn("{task.description}"),
                                    transient=True, console=console(stderr=True))
    with progress_context as bar:
        task = bar.add_task("", total=None) if bar else None

        def progress(done: int, total: int, label: str) -> None:
            if bar is not None:
                bar.update(task, completed=done, total=total, description=label[-50:])

        report = engine.ingest(args.path, project=args.project, purge_deleted=args.purge_deleted,
                               progress=progress)
    summary = report.summary()
    if args.json:
        print_json(summary)
        return 0
    out = console()
    out.print(
        f"[bold]{summary['files_seen']}[/] files seen: [green]{summary['ingested']} ingested[/], "
        f"{summary['unchanged']} unchanged, [yellow]{len(summary['skipped'])} skipped[/]"
        + (f", {len(summary['removed'])} removed" if summary["removed"] else "")
        + f" in {summary['seconds']:.2f} s")
    out.print(f"chunks: +{summary['chunks_added']} added, ~{summary['chunks_updated']} updated, "
                  f"-{summary['chunks_removed']} removed")
    for item in summary["skipped"]:
        out.print(f"  [yellow]skipped[/] {item['path']}: {item['reason']}")
    for item in summary["warnings"]:
        out.print(f"  [yellow]warning[/] {item['path']}: {item['warning']}")
    for path in summary["missing"]:
        out.print(f"  [dim]missing[/] {path} (deleted on disk; --purge-deleted removes it)")
    if summary["index_rebuilt"]:
        out.print(f"  [dim]index rebuilt: {summary['index_rebuilt']}[/]")
    return 0


