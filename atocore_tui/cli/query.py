"""``atocore-tui query``."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from ..errors import NotFound, ValidationError
from .common import console, print_json

if TYPE_CHECKING:
    from ..engine import Engine


def register(commands) -> None:
    parser = commands.add_parser("query", help="hybrid search over the ingested chunks")
    parser.add_argument("text", help="the question; '-' reads one query per line from stdin")
    parser.add_argument("--top-k", type=int, default=None, help="number of results (default 10)")
    parser.add_argument("--project", help="boost this project's notes (id or alias)")
    parser.add_argument("--only-project", action="store_true", help="search only the project's notes")
    parser.add_argument("--tags", help="comma-separated tags; a hit must carry one of them")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(handler=run)


def run(engine: Engine, args) -> int:
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
                text.encode("utf-8")
            except UnicodeEncodeError:  # stdin bytes that are not UTF-8 (surrogate-escaped)
                shown = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
                print_json({"query": shown, "error": "the line is not valid UTF-8"}, compact=True)
                continue
            try:
                hits = ask(text)
                print_json({"query": text, "results": [h.to_dict() for h in hits]}, compact=True)
            except (ValidationError, NotFound) as error:
                print_json({"query": text, "error": str(error)}, compact=True)
        return 0
    hits = ask(args.text)
    if args.json:
        print_json({"query": args.text, "results": [h.to_dict() for h in hits]})
        return 0
    from rich.padding import Padding
    from rich.text import Text

    out = console()
    if not hits:
        out.print("no results" + ("" if engine.status()["chunks"] else
                                      " (nothing ingested yet: run `atocore-tui ingest`)"))
        return 0
    for rank, hit in enumerate(hits, 1):
        head = Text.assemble((f"{rank:>2}  ", "bold"), (f"{hit.score:.3f}  ", "cyan"),
                             (f"{hit.source_file}", "bold"), (f":{hit.line_start}-{hit.line_end}", "dim"))
        out.print(head, overflow="ellipsis", no_wrap=True)
        if hit.heading_path:
            out.print(Padding(Text(hit.heading_path, style="italic"), (0, 0, 0, 4)),
                          overflow="ellipsis", no_wrap=True)
        snippet = " ".join(hit.content.split())
        snippet = snippet[:280] + ("…" if len(snippet) > 280 else "")
        out.print(Padding(Text(snippet, style="dim"), (0, 0, 1, 4)))
    return 0


