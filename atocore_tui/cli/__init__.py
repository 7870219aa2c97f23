"""The one entry point: ``atocore-tui [global options] [command]``.

Each command group lives in its own module of this package with a
``register(commands)`` that adds its sub-parser and sets ``handler``
(``handler(engine, args) -> int``); modules are found, not listed.
Bare ``atocore-tui`` opens the workstation on a terminal; piped or without a
terminal it does the first run and prints the engine's status. Engine errors
become a message on stderr and an exit code here, and only here.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .. import __version__
from ..config import Settings, load_settings
from ..errors import AtoCoreError, Busy, ConfigError, ModelError, NotFound, ValidationError
from ..failures import DatabaseDamaged, StorageError, busy_error, storage_error
from . import status

FIRST = ("ingest", "query")
"""Command groups listed first in --help; the rest follow by name."""


def command_groups():
    """Every module of this package with a ``register`` function."""
    names = sorted((m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")),
                   key=lambda n: (n not in FIRST, FIRST.index(n) if n in FIRST else 0, n))
    modules = [importlib.import_module(f"{__name__}.{name}") for name in names]
    return [m for m in modules if hasattr(m, "register")]

EXIT_CODES: list[tuple[type[AtoCoreError], int]] = [
    (StorageError, 6),
    (ConfigError, 2),
    (ValidationError, 2),
    (NotFound, 3),
    (Busy, 4),
    (ModelError, 5),
    (AtoCoreError, 1),
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="atocore-tui",
        description="A local-first context engine for LLM work on engineering projects.")
    parser.add_argument("--version", action="version", version=f"atocore-tui {__version__}")
    parser.add_argument("--data-dir", type=Path, help="data directory (database, index, backups)")
    parser.add_argument("--vault", type=Path, help="the vault folder (source 'vault')")
    parser.add_argument("--config", type=Path, help="YAML config file")
    serving = parser.add_argument_group("headless HTTP server (token: ATOCORE_API_TOKEN)")
    serving.add_argument("--serve", action="store_true", help="serve the HTTP API instead of a command")
    serving.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serving.add_argument("--port", type=int, default=8100, help="port to listen on (default 8100)")
    serving.add_argument("--allow-remote", action="store_true",
                         help="allow a non-loopback --host (prints a warning)")
    serving.add_argument("--workers", type=int, default=1, metavar="N",
                         help="worker processes, each with its own engine (default 1; "
                              "one per core, see docs/serve.md)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for group in command_groups():
        group.register(commands)
    parser.set_defaults(handler=status.default)
    return parser


def settings_from(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {"data_dir": args.data_dir, "sources.vault": args.vault}
    return load_settings(config_path=args.config, overrides=overrides)


PATH_ARGUMENTS = frozenset({"path", "file"})
"""Arguments that name files: any bytes a file name may hold are allowed
(ingestion reports a non-UTF-8 name itself)."""


def check_text_arguments(args: argparse.Namespace) -> None:
    """Refuse arguments that are not valid UTF-8 (the shell passes such bytes
    as lone surrogates, which no database or JSON can hold)."""
    for name, value in vars(args).items():
        values = value if isinstance(value, (list, tuple)) else [value]
        for item in values:
            if name in PATH_ARGUMENTS or not isinstance(item, str):
                continue
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise ValidationError(f"argument {name.replace('_', '-')} is not valid UTF-8 text; "
                                      "nothing was done") from None


def _silence_stdout() -> None:
    """The reader of our output went away (``| head``): point stdout at
    /dev/null so the interpreter's final flush cannot fail loudly either."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    data_dir = args.data_dir
    try:
        check_text_arguments(args)
        settings = settings_from(args)
        data_dir = settings.data_dir
        if getattr(args, "without_engine", None):
            # doctor: works on a data dir the engine cannot open
            return args.without_engine(settings, args)
        from ..engine import Engine

        try:
            engine = Engine(settings)
        except DatabaseDamaged:
            if getattr(args, "when_damaged", None):  # backup restore over a damaged database
                return args.when_damaged(settings, args)
            raise
        try:
            if args.serve:
                from ..server import serve

                return serve(engine, args.host, args.port, args.allow_remote, workers=args.workers)
            code = args.handler(engine, args)
            sys.stdout.flush()
            return code
        finally:
            engine.close()
    except AtoCoreError as error:
        print(f"atocore-tui: error: {error}", file=sys.stderr)
        return next(code for kind, code in EXIT_CODES if isinstance(error, kind))
    except KeyboardInterrupt:
        print("atocore-tui: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        _silence_stdout()
        return 141  # as a shell reports a process ended by SIGPIPE
    except UnicodeDecodeError as error:  # e.g. `query -` reading bytes that are not UTF-8 on stdin
        print(f"atocore-tui: error: the input is not valid UTF-8 ({error.reason} at byte {error.start}); "
              "stopped there", file=sys.stderr)
        return 2
    except Exception as error:  # the disk or the database file failed under a command
        from peewee import DatabaseError

        if not isinstance(error, (OSError, sqlite3.Error, DatabaseError)):
            raise
        storage = storage_error(error, data_dir)
        if storage is not None:
            print(f"atocore-tui: error: {storage}", file=sys.stderr)
            return 6
        busy = busy_error(error)
        if busy is None:
            raise
        print(f"atocore-tui: error: {busy}", file=sys.stderr)
        return 4
