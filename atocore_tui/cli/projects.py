"""``atocore-tui projects``: the registry (list, show, template, propose,
register, update, refresh, export, import)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

import yaml

from ..projects.registry import parse_root, root_label
from .common import console, print_json, progress_bar

if TYPE_CHECKING:
    from ..engine import Engine


def register(commands) -> None:
    json_flag = argparse.ArgumentParser(add_help=False)
    json_flag.add_argument("--json", action="store_true", help="print JSON")
    parser = commands.add_parser("projects", parents=[json_flag],
                                 help="the project registry: ids, aliases, ingest roots")
    parser.set_defaults(handler=list_projects)
    sub = parser.add_subparsers(dest="projects_command", metavar="ACTION")

    sub.add_parser("list", parents=[json_flag], help="registered (and unregistered but used) projects"
                   ).set_defaults(handler=list_projects)
    show = sub.add_parser("show", parents=[json_flag], help="one project by id or alias")
    show.add_argument("name")
    show.set_defaults(handler=show_project)
    sub.add_parser("template", parents=[json_flag], help="a registration to start from"
                   ).set_defaults(handler=template)

    for name, handler, text in (("propose", propose, "validate a registration without writing it"),
                                ("register", register_project, "register a new project")):
        command = sub.add_parser(name, parents=[json_flag], help=text)
        command.add_argument("--id", required=True, dest="project_id", help="canonical id (a slug)")
        _registration_options(command)
        command.set_defaults(handler=handler)

    update = sub.add_parser("update", parents=[json_flag], help="change a project (given options replace)")
    update.add_argument("name", help="id or alias")
    _registration_options(update)
    update.add_argument("--clear-aliases", action="store_true", help="remove every alias")
    update.add_argument("--clear-roots", action="store_true", help="remove every ingest root")
    update.set_defaults(handler=update_project)

    refresh = sub.add_parser("refresh", parents=[json_flag], help="ingest every root of a project")
    refresh.add_argument("name", help="id or alias")
    refresh.add_argument("--purge-deleted", action="store_true", help="remove documents deleted on disk")
    refresh.set_defaults(handler=refresh_project)

    export = sub.add_parser("export", parents=[json_flag], help="write the registry as YAML")
    export.add_argument("file", nargs="?", help="target file (default: the registry file in the data dir; '-': stdout)")
    export.set_defaults(handler=export_registry)
    imported = sub.add_parser("import", parents=[json_flag], help="register or update projects from YAML")
    imported.add_argument("file", help="a registry YAML file")
    imported.set_defaults(handler=import_registry)


def _registration_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--alias", action="append", dest="aliases", metavar="ALIAS",
                         help="another name for the project (repeatable)")
    command.add_argument("--description", help="one line on what the project is")
    command.add_argument("--root", action="append", dest="roots", metavar="SOURCE:SUBPATH",
                         help="an ingest root, e.g. vault:projects/x (repeatable)")


def _roots(args) -> list[dict] | None:
    return None if args.roots is None else [parse_root(text) for text in args.roots]


# ------------------------------------------------------------------ handlers
def list_projects(engine: Engine, args) -> int:
    listing = engine.projects.list()
    if args.json:
        print_json(listing)
        return 0
    from rich.table import Table

    out = console()
    if not listing["projects"]:
        out.print("no projects: register one with [bold]atocore-tui projects register --id ID --root vault:PATH[/]")
        return 0
    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in ("project", "aliases", "ingest roots", "docs", "chunks", "last refresh"):
        table.add_column(column, justify="right" if column in ("docs", "chunks") else "left")
    for project in listing["projects"]:
        name = project["id"] if project["registered"] else f"{project['id']} [dim](unregistered)[/]"
        table.add_row(name, ", ".join(project["aliases"]) or "—", _roots_text(project) or "—",
                      str(project["documents"]), str(project["chunks"]), project["last_refreshed_at"] or "—")
    out.print(table)
    out.print(f"[dim]registry file: {listing['registry_path']}[/]")
    return 0


def show_project(engine: Engine, args) -> int:
    project = engine.projects.get(args.name)
    if args.json:
        print_json(project)
        return 0
    _print_project(project)
    return 0


def template(engine: Engine, args) -> int:
    result = engine.projects.template()
    if args.json:
        print_json(result)
        return 0
    out = console()
    out.print(yaml.safe_dump(result["template"], sort_keys=False, allow_unicode=True).rstrip())
    out.print(f"[dim]allowed sources: {', '.join(result['allowed_sources']) or 'none configured'}; "
              f"registry file: {result['registry_path']}[/]")
    return 0


def propose(engine: Engine, args) -> int:
    result = engine.projects.proposal(args.project_id, args.aliases, args.description or "", _roots(args))
    if args.json:
        print_json(result)
    else:
        out = console()
        normalised = result["normalised"]
        out.print(yaml.safe_dump(normalised, sort_keys=False, allow_unicode=True).rstrip())
        if result["valid"]:
            out.print("[green]valid[/]: register it with the same options")
        for problem in result["problems"]:
            out.print(f"[red]problem[/] ({problem['field']}): {problem['message']}")
    return 0 if result["valid"] else 2


def register_project(engine: Engine, args) -> int:
    project = engine.projects.register(args.project_id, args.aliases, args.description or "", _roots(args))
    return _done(project, args, "registered")


def update_project(engine: Engine, args) -> int:
    aliases = [] if args.clear_aliases else args.aliases
    roots = [] if args.clear_roots else _roots(args)
    project = engine.projects.update(args.name, aliases=aliases, description=args.description,
                                     ingest_roots=roots)
    return _done(project, args, "updated")


def refresh_project(engine: Engine, args) -> int:
    with progress_bar("refresh", enabled=not args.json) as progress:
        result = engine.projects.refresh(args.name, purge_deleted=args.purge_deleted, progress=progress)
    if args.json:
        print_json(result)
        return 0
    out = console()
    out.print(f"[bold]{result['project']}[/]: {result['status']} — {result['roots_ingested']} roots ingested, "
              f"{result['roots_skipped']} skipped")
    for root in result["roots"]:
        if root["status"] == "skipped":
            out.print(f"  [yellow]skipped[/] {root_label(root)}: {root['reason']}")
            continue
        summary = root["summary"]
        out.print(f"  [green]ingested[/] {root_label(root)}: {summary['files_seen']} files, "
                  f"{summary['ingested']} ingested, {summary['unchanged']} unchanged, "
                  f"{len(summary['removed'])} removed, {len(summary['missing'])} missing")
    return 0


def export_registry(engine: Engine, args) -> int:
    to_stdout = args.file == "-"
    target = None if to_stdout or not args.file else args.file
    text = engine.projects.export_yaml(target)
    path = target or str(engine.projects.registry_path)
    if args.json:
        print_json({"path": path, "yaml": text})
    elif to_stdout:
        print(text, end="")
    else:
        console().print(f"wrote the registry to {path}")
    return 0


def import_registry(engine: Engine, args) -> int:
    from pathlib import Path

    result = engine.projects.import_yaml(Path(args.file))
    if args.json:
        print_json(result)
        return 0
    console().print(f"imported {result['imported']} projects: "
                    f"{len(result['created'])} created, {len(result['updated'])} updated, "
                    f"{len(result['unchanged'])} unchanged")
    return 0


# ------------------------------------------------------------------- output
def _done(project: dict, args, verb: str) -> int:
    if args.json:
        print_json(project)
    else:
        console().print(f"{verb} [bold]{project['id']}[/]")
        _print_project(project)
    return 0


def _roots_text(project: dict) -> str:
    return ", ".join(root_label(r) + ("" if r["exists"] else " [red](missing)[/]") for r in project["ingest_roots"])


def _print_project(project: dict) -> None:
    out = console()
    unregistered = "" if project["registered"] else " [dim](unregistered: named by documents)[/]"
    out.print(f"[bold]{project['id']}[/]" + unregistered)
    out.print(f"aliases       {', '.join(project['aliases']) or '—'}")
    out.print(f"description   {project['description'] or '—'}")
    for root in project["ingest_roots"]:
        mark = "[green]ok[/]" if root["exists"] else "[red]missing[/]"
        out.print(f"ingest root   {root_label(root)} → {root['path'] or '?'} {mark}")
    out.print(f"documents     {project['documents']}, chunks {project['chunks']}")
    out.print(f"last refresh  {project['last_refreshed_at'] or '—'}")
