"""``atocore-tui index``."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from .common import print_json, progress_bar

if TYPE_CHECKING:
    from ..engine import Engine


def register(commands) -> None:
    parser = commands.add_parser("index", help="the vector index")
    actions = parser.add_subparsers(dest="index_command", metavar="ACTION", required=True)
    rebuild = actions.add_parser("rebuild", help="re-embed every chunk into a new index")
    rebuild.add_argument("--json", action="store_true", help="print JSON")
    rebuild.set_defaults(handler=run_rebuild)
    semantic = actions.add_parser(
        "semantic", help="compute the semantic vectors still missing, in the foreground "
                         "(normally a background pass does it after ingestion)")
    semantic.add_argument("--json", action="store_true", help="print a JSON summary")
    semantic.add_argument("--quiet", action="store_true", help="print nothing (the background pass)")
    semantic.set_defaults(handler=run_semantic)


def run_rebuild(engine: Engine, args) -> int:
    seconds = engine.rebuild_index()
    vectors = len(engine.vectors.index)
    if getattr(args, "json", False):
        print_json({"seconds": round(seconds, 3), "vectors": vectors, "index": engine.status()["index"]})
        return 0
    print(f"index rebuilt in {seconds:.2f} s ({vectors} vectors)")
    return 0


def run_semantic(engine: Engine, args) -> int:
    if not engine.settings.retrieval.semantic:
        if not args.quiet:
            print("semantic vectors are off (retrieval.semantic: false)")
        return 0
    started = time.perf_counter()
    with progress_bar("semantic vectors", enabled=not (args.json or args.quiet)) as progress:
        encoded = engine.semantic_pass(progress)
    state = engine.semantic_progress()
    if args.json:
        print_json({"encoded": encoded, "seconds": round(time.perf_counter() - started, 2), **state})
    elif not args.quiet:
        if not state["complete"] and not encoded:
            print(f"another process is computing the semantic vectors ({state['covered']} of {state['total']} "
                  "chunks done)")
        else:
            print(f"semantic vectors: {encoded} chunks encoded in {time.perf_counter() - started:.1f} s; "
                  f"{state['covered']} of {state['total']} covered")
    return 0
