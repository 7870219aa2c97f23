"""``atocore-tui backup create|list|validate|restore``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import ValidationError
from .common import console, print_json

if TYPE_CHECKING:
    from ..engine import Engine


def register(commands) -> None:
    parser = commands.add_parser("backup", help="snapshot, list, validate and restore the database")
    actions = parser.add_subparsers(dest="backup_action", metavar="ACTION", required=True)

    create = actions.add_parser("create", help="take a consistent online backup")
    create.add_argument("--include-index", action="store_true", help="also copy the vector index")
    create.add_argument("--label", help="a note stored with the backup")
    create.set_defaults(handler=run_create)

    listing = actions.add_parser("list", help="backups, newest first")
    listing.set_defaults(handler=run_list)

    validate = actions.add_parser("validate", help="check checksums, integrity, counts and index")
    validate.add_argument("stamp", help="the backup's stamp (see `backup list`)")
    validate.set_defaults(handler=run_validate)

    restore = actions.add_parser("restore", help="replace the database with a backup "
                                                 "(the current state is backed up first)")
    restore.add_argument("stamp", help="the backup's stamp (see `backup list`)")
    restore.add_argument("--yes", action="store_true", help="confirm: replace the current database")
    restore.set_defaults(handler=run_restore, when_damaged=run_restore_damaged)

    for action in (create, listing, validate, restore):
        action.add_argument("--json", action="store_true", help="print JSON")


def run_create(engine: Engine, args) -> int:
    meta = engine.backups.create(include_index=args.include_index, label=args.label)
    if args.json:
        print_json(meta)
        return 0
    console().print(f"backup [bold]{meta['stamp']}[/] written: {_size(meta['bytes'])}, "
                    f"{meta['counts'].get('document', 0)} documents, {meta['counts'].get('chunk', 0)} chunks"
                    + (", with the index" if meta["include_index"] else "")
                    + f"\n  {meta['path']}")
    return 0


def run_list(engine: Engine, args) -> int:
    backups = engine.backups.entries()
    if args.json:
        print_json({"backups": backups})
        return 0
    out = console()
    if not backups:
        out.print("no backups yet: run [bold]atocore-tui backup create[/]")
        return 0
    for item in backups:
        if not item["valid"]:
            out.print(f"{item['stamp']:<20} [red]unreadable[/]: {item['reason']}")
            continue
        extras = ["index" if item["include_index"] else "", item.get("label") or ""]
        out.print(f"{item['stamp']:<20} {item['created_at']}  {_size(item.get('bytes', 0)):>9}  "
                  f"{item['counts'].get('chunk', 0):>7} chunks  " + "  ".join(e for e in extras if e))
    return 0


def run_validate(engine: Engine, args) -> int:
    result = engine.backups.validate(args.stamp)
    if args.json:
        print_json(result)
    else:
        out = console()
        for check in result["checks"]:
            mark = "[green]ok[/]  " if check["ok"] else "[red]FAIL[/]"
            out.print(f"{mark} {check['name']}: {check['detail']}")
        out.print(f"backup {result['stamp']} is " + ("[green]valid[/]" if result["valid"] else "[red]not valid[/]"))
    return 0 if result["valid"] else 1


def run_restore(engine: Engine, args) -> int:
    if not args.yes:
        raise ValidationError("restore replaces the current database (after backing it up); "
                              "add --yes to confirm")
    result = engine.backups.restore(args.stamp)
    if args.json:
        print_json(result)
        return 0
    console().print(f"restored backup [bold]{result['restored']}[/]: {result['counts'].get('document', 0)} "
                    f"documents, {result['counts'].get('chunk', 0)} chunks; the previous state is backup "
                    f"[bold]{result['pre_restore_backup']}[/]")
    return 0


def run_restore_damaged(settings, args) -> int:
    """``backup restore`` when the live database cannot be opened: the backup
    is put in place of the damaged file (kept beside it)."""
    from ..ops.doctor import restore_offline

    if not args.yes:
        raise ValidationError("restore replaces the current (damaged) database, which is kept beside it; "
                              "add --yes to confirm")
    result = restore_offline(settings.data_dir, args.stamp)
    if args.json:
        print_json(result)
        return 0
    console().print(f"restored backup [bold]{result['restored']}[/] over a damaged database; the damaged "
                    f"file is kept as {result['damaged_file_kept']}")
    return 0


def _size(count: int) -> str:
    size = float(count)
    for unit in ("B", "KB", "MB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"
