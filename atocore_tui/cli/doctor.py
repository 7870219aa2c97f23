"""``atocore-tui doctor``: check the data directory, and mend a damaged database.

Runs without opening the engine, so it works when the database cannot be opened.
"""

from __future__ import annotations

from ..errors import ValidationError
from .common import console, print_json


def register(commands) -> None:
    parser = commands.add_parser(
        "doctor", help="check the database and index; restore or salvage a damaged database")
    mend = parser.add_mutually_exclusive_group()
    mend.add_argument("--restore-latest", action="store_true",
                      help="put the newest backup that validates in place of the database")
    mend.add_argument("--salvage", action="store_true",
                      help="copy every readable row into a fresh database and put it in place")
    parser.add_argument("--yes", action="store_true", help="confirm --restore-latest or --salvage")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(without_engine=run)


def run(settings, args) -> int:
    from ..ops import doctor

    data_dir = settings.data_dir
    if args.restore_latest or args.salvage:
        if not args.yes:
            raise ValidationError("this replaces the database file (the old one is kept beside it as "
                                  "atocore.db.damaged-<time>); add --yes to confirm")
        result = doctor.restore_latest(data_dir) if args.restore_latest else doctor.salvage(data_dir)
        if args.json:
            print_json(result)
        elif args.restore_latest:
            console().print(f"restored backup [bold]{result['restored']}[/]; the damaged file is kept as "
                            f"{result['damaged_file_kept'] or '(none)'}. The index is rebuilt on next use.")
        else:
            rows = sum(result["tables"].values())
            lost = ", ".join(result["unreadable"]) or "none"
            console().print(f"salvaged {rows} rows into a fresh database (tables with unreadable rows: {lost}; "
                            f"orphan rows dropped: {result['orphans_dropped']}); the damaged file is kept as "
                            f"{result['damaged_file_kept']}. Run `atocore-tui ingest` to re-read your notes.")
        return 0
    report = doctor.diagnose(data_dir)
    if args.json:
        print_json(report)
        return 0 if report["healthy"] else 1
    out = console()
    database, index = report["database"], report["index"]
    out.print(f"database  {database['path']}: " + ("[green]ok[/]" if database["ok"] else "[red]damaged[/]")
              + (f" ({database['note']})" if database.get("note") else ""))
    for problem in database["problems"]:
        out.print(f"          - {problem}", markup=False)
    out.print(f"index     {index['path']}: " + ("[green]ok[/]" if index["ok"] else "[yellow]stale[/]")
              + (f" ({index['note']})" if index.get("note") else ""))
    for problem in index["problems"]:
        out.print(f"          - {problem}", markup=False)
    if report["partial_backups"]:
        out.print(f"backups   {len(report['partial_backups'])} interrupted backup folders "
                  "(removed by the next backup)")
    out.print(f"backups   newest valid: {report['newest_valid_backup'] or 'none'}")
    for step in report["next_steps"]:
        out.print(f"next      {step}", markup=False)
    if report["healthy"]:
        out.print("[green]all well[/]")
    return 0 if report["healthy"] else 1
