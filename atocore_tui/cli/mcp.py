"""``atocore-tui mcp``: the MCP server over stdio, for MCP hosts (see docs/serve.md)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..engine import Engine


def register(commands) -> None:
    parser = commands.add_parser(
        "mcp", help="run an MCP server over stdio (for Claude Code, Cursor, Zed…)",
        description="Speak the Model Context Protocol on stdin/stdout; an MCP host starts this command.")
    # Every command takes --json; the protocol is JSON already, so it changes nothing here.
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    parser.set_defaults(handler=run)


def run(engine: Engine, args) -> int:
    from ..server.mcp_server import run_stdio

    return run_stdio(engine)
