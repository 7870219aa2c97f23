"""``atocore-tui ingest``."""

from __future__ import annotations


from .common import console, print_json, progress_bar


def register(commands) -> None:
    parser = commands.add_parser("ingest", help="ingest a path inside a source, or every source")
    parser.add_argument("path", nargs="?", help="file or folder inside a configured source")
    parser.add_argument("--project", help="project for notes whose front matter names none")
    parser.add_argument("--purge-deleted", action="store_true",
                        help="remove documents whose files were deleted")
    parser.add_argument("--json", action="store_true", help="print a JSON summary")
    parser.set_defaults(handler=run)


def run(engine, args) -> int:
    with progress_bar("ingest", enabled=not args.json) as progress:
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


