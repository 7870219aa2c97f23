"""``atocore-tui ingest``."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import TYPE_CHECKING

from .common import console, print_json, progress_bar

if TYPE_CHECKING:
    from ..engine import Engine


def register(commands) -> None:
    parser = commands.add_parser("ingest", help="ingest a path inside a source, or every source")
    parser.add_argument("path", nargs="?", help="file or folder inside a configured source")
    parser.add_argument("--project", help="project for notes whose front matter names none")
    parser.add_argument("--purge-deleted", action="store_true",
                        help="remove documents whose files were deleted")
    parser.add_argument("--json", action="store_true", help="print a JSON summary")
    parser.set_defaults(handler=run)


def run(engine: Engine, args) -> int:
    with progress_bar("ingest", enabled=not args.json) as progress:
        report = engine.ingest(args.path, project=args.project, purge_deleted=args.purge_deleted,
                               progress=progress)
    summary = report.summary()
    background = start_semantic_process(engine, args) if summary["chunks_added"] + summary["chunks_updated"] else None
    if args.json:
        print_json({**summary, "semantic_pass_pid": background})
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
    if background:
        out.print(f"  [dim]semantic vectors: computed in the background (pid {background}, low priority); "
                  "`atocore-tui status` shows how far[/]")
    return 0


def start_semantic_process(engine: Engine, args) -> int | None:
    """After a CLI ingest, the semantic pass goes on in a detached,
    low-priority process (the CLI returns at once); its output goes to
    ``<data_dir>/semantic.log``. Returns its pid, or None when off."""
    retrieval = engine.settings.retrieval
    if not (retrieval.semantic and retrieval.semantic_background):
        return None
    command = [sys.executable, "-m", "atocore_tui.cli", "--data-dir", str(engine.data_dir)]
    if getattr(args, "config", None):
        command += ["--config", str(args.config)]
    if getattr(args, "vault", None):
        command += ["--vault", str(args.vault)]
    command += ["index", "semantic", "--quiet"]
    try:
        with open(engine.data_dir / "semantic.log", "ab") as log:
            child = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                     start_new_session=True, preexec_fn=lambda: os.nice(10))
    except OSError as exc:
        console(stderr=True).print(f"[yellow]semantic vectors: could not start the background pass ({exc}); "
                                   "run `atocore-tui index semantic`[/]")
        return None
    return child.pid


