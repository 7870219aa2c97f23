"""What every command module shares: consoles and JSON output."""

from __future__ import annotations

import json
from typing import Any


def console(stderr: bool = False):
    from rich.console import Console

    return Console(stderr=stderr, highlight=False)


def print_json(data: Any, *, compact: bool = False) -> None:
    print(json.dumps(data, ensure_ascii=False) if compact else json.dumps(data, indent=2, ensure_ascii=False),
          flush=True)
