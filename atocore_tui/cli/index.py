"""``atocore-tui index``."""

from __future__ import annotations

from .common import print_json


def register(commands) -> None:
    parser = commands.add_parser("index", help="the vector index")
    actions = parser.add_subparsers(dest="index_command", metavar="ACTION", required=True)
    rebuild = actions.add_parser("rebuild", help="re-embed every chunk into a new index")
    rebuild.add_argument("--json", action="store_true", help="print JSON")
    rebuild.set_defaults(handler=run_rebuild)


def run_rebuild(engine, args) -> int:
    seconds = engine.rebuild_index()
    vectors = len(engine.vectors.index)
    if getattr(args, "json", False):
        print_json({"seconds": round(seconds, 3), "vectors": vectors, "index": engine.status()["index"]})
        return 0
    print(f"index rebuilt in {seconds:.2f} s ({vectors} vectors)")
    return 0
