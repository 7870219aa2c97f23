"""``atocore-tui index``."""

from __future__ import annotations


def register(commands) -> None:
    parser = commands.add_parser("index", help="the vector index")
    actions = parser.add_subparsers(dest="index_command", metavar="ACTION", required=True)
    rebuild = actions.add_parser("rebuild", help="re-embed every chunk into a new index")
    rebuild.set_defaults(handler=run_rebuild)


def run_rebuild(engine, args) -> int:
    seconds = engine.rebuild_index()
    print(f"index rebuilt in {seconds:.2f} s ({len(engine.vectors.index)} vectors)")
    return 0
