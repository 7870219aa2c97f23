"""What every command module shares: consoles and JSON output."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


def console(stderr: bool = False):
    from rich.console import Console

    return Console(stderr=stderr, highlight=False)


def print_json(data: Any, *, compact: bool = False) -> None:
    print(json.dumps(data, ensure_ascii=False) if compact else json.dumps(data, indent=2, ensure_ascii=False),
          flush=True)


@contextmanager
def progress_bar(title: str, enabled: bool = True) -> Iterator[Callable[[int, int, str], None]]:
    """An engine progress callback drawn as a rich bar on a terminal's stderr,
    and a no-op elsewhere (pipes, ``--json``)."""
    if not enabled or not sys.stderr.isatty():
        yield lambda done, total, label: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn(f"[bold]{title}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TextColumn("{task.description}"), transient=True, console=console(stderr=True)) as bar:
        task = bar.add_task("", total=None)
        yield lambda done, total, label: bar.update(task, completed=done, total=total,
                                                    description=label[-50:])
