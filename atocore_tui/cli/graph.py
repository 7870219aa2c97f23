"""``atocore-tui graph …``: the engineering graph from the command line.

Every subcommand is one call to ``engine.graph`` and prints its answer as a
short text view, or as JSON with ``--json``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .common import console, print_json

if TYPE_CHECKING:
    from ..engine import Engine


def register(commands) -> None:
    parser = commands.add_parser("graph", help="engineering graph: entities, impact, gaps, conflicts")
    sub = parser.add_subparsers(dest="graph_command", metavar="SUBCOMMAND", required=True)

    def add(name: str, help_text: str, handler):
        cmd = sub.add_parser(name, help=help_text)
        cmd.add_argument("--json", action="store_true", help="print JSON")
        cmd.set_defaults(handler=handler)
        return cmd

    cmd = add("entities", "list entities", entities)
    cmd.add_argument("--project")
    cmd.add_argument("--type", dest="entity_type")
    cmd.add_argument("--status")
    cmd.add_argument("--name", help="name contains")
    cmd.add_argument("--limit", type=int, default=500)

    add("show", "one entity with its relationships and audit", show).add_argument("id")

    cmd = add("add", "add an entity (a candidate unless --active)", add_entity)
    cmd.add_argument("project")
    cmd.add_argument("entity_type", metavar="TYPE")
    cmd.add_argument("name")
    cmd.add_argument("--description", default="")
    cmd.add_argument("--confidence", type=float, default=1.0)
    cmd.add_argument("--ref", action="append", dest="refs", help="provenance kind:value (repeatable)")
    cmd.add_argument("--active", action="store_true", help="create it active (conflicts are checked)")

    cmd = add("relate", "add a relationship SOURCE TYPE TARGET", relate)
    cmd.add_argument("source")
    cmd.add_argument("relationship_type", metavar="TYPE")
    cmd.add_argument("target")
    cmd.add_argument("--confidence", type=float, default=1.0)
    cmd.add_argument("--ref", action="append", dest="refs")

    add("promote", "candidate -> active", promote).add_argument("id")
    cmd = add("supersede", "retire an entity", supersede)
    cmd.add_argument("id")
    cmd.add_argument("--by", help="the entity that supersedes it")

    add("map", "the PART_OF tree of a project", system_map).add_argument("project")
    for name, handler in (("impact", impact), ("evidence", evidence)):
        cmd = add(name, f"{name} walk from an entity", handler)
        cmd.add_argument("id")
        cmd.add_argument("--depth", type=int, default=3)
    add("gaps", "orphan requirements, risky decisions, unsupported claims", gaps).add_argument("project")
    add("requirements", "requirements of a component (and its parts)", requirements).add_argument("id")
    add("decisions", "decisions of a project", decisions).add_argument("project")

    cmd = add("changes", "recent changes (entity audit log)", changes)
    cmd.add_argument("--project")
    cmd.add_argument("--since", help="YYYY-MM-DD[ HH:MM:SS] UTC, inclusive")
    cmd.add_argument("--limit", type=int, default=50)

    cmd = add("conflicts", "conflicts found on promotion", list_conflicts)
    cmd.add_argument("--project")
    cmd.add_argument("--status", help="open, resolved or dismissed")

    cmd = add("resolve", "resolve a conflict: dismiss | supersede_others --winner ID | no_action", resolve)
    cmd.add_argument("conflict_id")
    cmd.add_argument("action")
    cmd.add_argument("--winner")

    cmd = add("reopen", "undo a conflict's resolution (superseded losers come back)", reopen)
    cmd.add_argument("conflict_id")

    cmd = add("graduate", "turn a memory into a candidate entity", graduate)
    cmd.add_argument("memory_id")
    cmd.add_argument("--type", dest="entity_type")
    cmd.add_argument("--name")
    cmd.add_argument("--description")
    cmd.add_argument("--project", help="for a cross-project memory")
    cmd.add_argument("--dry-run", action="store_true", help="show the proposal, write nothing")

    add("alerts", "alerts that need a human", list_alerts).add_argument(
        "--all", action="store_true", help="include acknowledged alerts")
    add("ack", "acknowledge an alert", ack).add_argument("alert_id")
    add("load-sample", "load the vault's sample graph if the graph is empty", load_sample)


# ------------------------------------------------------------------ handlers
def _emit(args, data, text) -> int:
    if args.json:
        print_json(data)
    else:
        text(console(), data)
    return 0


def _line(item: dict) -> str:
    return f"{item['id']}  [{item['entity_type']}] {item['name']}  ({item['status']})"


def entities(engine: Engine, args) -> int:
    rows = engine.graph.entities(args.project, args.entity_type, args.status, args.name, args.limit)

    def text(out, data):
        for row in data["entities"]:
            out.print(f"{row['project']:<14} {_line(row)}", markup=False)
        out.print(f"{data['count']} entities")
    return _emit(args, {"entities": rows, "count": len(rows)}, text)


def show(engine: Engine, args) -> int:
    def text(out, e):
        out.print(_line(e), markup=False)
        refs = ", ".join(e["source_refs"]) or "—"
        out.print(f"project {e['project']}  confidence {e['confidence']:.2f}  refs {refs}", markup=False)
        if e["description"]:
            out.print(e["description"], markup=False)
        for rel in e["outgoing"]:
            out.print(f"  → {rel['relationship_type']} {_line(rel['other'])}", markup=False)
        for rel in e["incoming"]:
            out.print(f"  ← {rel['relationship_type']} {_line(rel['other'])}", markup=False)
        for conflict in e["conflicts"]:
            out.print(f"  [yellow]open conflict {conflict['id']} ({conflict['slot_kind']})[/]")
        for row in e["audit"][:10]:
            out.print(f"  {row['at']}  {row['action']} by {row['actor']}", markup=False)
    return _emit(args, engine.graph.entity(args.id), text)


def _conflicts_text(out, found) -> None:
    for conflict in found:
        out.print(f"[yellow]conflict {conflict['id']}[/]: {conflict['slot_kind']} "
                  + ", ".join(m["name"] for m in conflict["members"]))


def add_entity(engine: Engine, args) -> int:
    entity = engine.graph.create_entity(args.project, args.entity_type, args.name, args.description,
                                        confidence=args.confidence, source_refs=args.refs,
                                        status="active" if args.active else "candidate")

    def text(out, e):
        out.print(f"added {_line(e)}", markup=False)
        _conflicts_text(out, e["conflicts"])
    return _emit(args, entity, text)


def relate(engine: Engine, args) -> int:
    rel = engine.graph.relate(args.source, args.relationship_type, args.target,
                              confidence=args.confidence, source_refs=args.refs)

    def text(out, r):
        out.print(f"related {r['source']} {r['relationship_type']} {r['target']} ({r['id']})", markup=False)
        _conflicts_text(out, r["conflicts"])
    return _emit(args, rel, text)


def promote(engine: Engine, args) -> int:
    def text(out, e):
        out.print(f"promoted {_line(e)}", markup=False)
        if e["graduated"]:
            out.print(f"memory {e['graduated']['memory_id']} graduated")
        _conflicts_text(out, e["conflicts"])
    return _emit(args, engine.graph.promote(args.id), text)


def supersede(engine: Engine, args) -> int:
    return _emit(args, engine.graph.supersede(args.id, args.by),
                 lambda out, e: out.print(f"superseded {_line(e)}", markup=False))


def system_map(engine: Engine, args) -> int:
    def node(out, item, indent):
        mark = " [red](cycle)[/]" if item.get("cycle") else " [dim](again)[/]" if item.get("repeated") else ""
        out.print(" " * indent + f"{item['name']} [dim]{item['entity_type']} {item['id']}[/]{mark}")
        for child in item["children"]:
            node(out, child, indent + 2)

    def text(out, data):
        for root in data["roots"]:
            node(out, root, 0)
        for cycle in data["cycles"]:
            out.print("[red]cycle:[/] " + " → ".join(e["name"] for e in cycle + cycle[:1]))
        if not data["roots"]:
            out.print("no PART_OF structure in this project")
    return _emit(args, engine.graph.system_map(args.project), text)


def _walk_text(key: str):
    def text(out, data):
        out.print(f"from {_line(data['entity'])}", markup=False)
        for row in data[key]:
            out.print(f"  {row['depth']} {row['via']:<14} {_line(row)}", markup=False)
        out.print(f"{data['count']} reached (depth {data['depth']})")
    return text


def impact(engine: Engine, args) -> int:
    return _emit(args, engine.graph.impact(args.id, args.depth), _walk_text("reached"))


def evidence(engine: Engine, args) -> int:
    return _emit(args, engine.graph.evidence(args.id, args.depth), _walk_text("supporters"))


def gaps(engine: Engine, args) -> int:
    def text(out, data):
        for kind, items in ((k, data[k]) for k in ("orphan_requirements", "risky_decisions", "unsupported_claims")):
            out.print(f"[bold]{kind.replace('_', ' ')}[/] ({len(items)})")
            for item in items:
                out.print(f"  {_line(item)}\n      why: {item['why']}", markup=False)
    return _emit(args, engine.graph.gaps(args.project), text)


def requirements(engine: Engine, args) -> int:
    def text(out, data):
        out.print(f"for {_line(data['entity'])}", markup=False)
        for row in data["requirements"]:
            via = f" via {row['via']['name']}" if row["via"] else ""
            out.print(f"  {row['relationship_type']:<14} {_line(row)}{via}", markup=False)
    return _emit(args, engine.graph.requirements_for(args.id), text)


def decisions(engine: Engine, args) -> int:
    rows = engine.graph.decisions(args.project)

    def text(out, data):
        for row in data["decisions"]:
            out.print(_line(row), markup=False)
            for basis in row["based_on"]:
                out.print(f"    based on {_line(basis)}", markup=False)
    return _emit(args, {"decisions": rows}, text)


def changes(engine: Engine, args) -> int:
    rows = engine.graph.recent_changes(args.project, args.since, args.limit)

    def text(out, data):
        for row in data["changes"]:
            out.print(f"{row['at']}  {row['action']:<22} {_line(row['entity'])}", markup=False)
    return _emit(args, {"changes": rows}, text)


def list_conflicts(engine: Engine, args) -> int:
    rows = engine.graph.conflicts(args.project, args.status)

    def text(out, data):
        rows = data["conflicts"]
        for row in rows:
            out.print(f"{row['id']}  {row['status']:<9} {row['slot_kind']}  "
                      + ", ".join(f"{m['name']} ({m['id']})" for m in row["members"]), markup=False)
        if not rows:
            out.print("no conflicts")
    return _emit(args, {"conflicts": rows}, text)


def resolve(engine: Engine, args) -> int:
    return _emit(args, engine.graph.resolve(args.conflict_id, args.action, args.winner),
                 lambda out, c: out.print(f"conflict {c['id']}: {c['status']} ({c['resolution']})", markup=False))


def reopen(engine: Engine, args) -> int:
    return _emit(args, engine.graph.reopen(args.conflict_id),
                 lambda out, c: out.print(f"conflict {c['id']}: {c['status']} again", markup=False))


def graduate(engine: Engine, args) -> int:
    if args.dry_run:
        proposal = engine.graph.propose_graduation(args.memory_id)
        overrides = {"entity_type": args.entity_type, "name": args.name, "description": args.description,
                     "project": args.project}
        proposal.update({k: v for k, v in overrides.items() if v is not None})
        return _emit(args, proposal, lambda out, p: out.print(
            f"would add [{p['entity_type']}] {p['name']} to {p['project']}", markup=False))
    entity = engine.graph.graduate(args.memory_id, entity_type=args.entity_type, name=args.name,
                                   description=args.description, project=args.project)
    return _emit(args, entity, lambda out, e: out.print(
        f"candidate {_line(e)} — promote it to graduate the memory", markup=False))


def list_alerts(engine: Engine, args) -> int:
    rows = engine.graph.alerts(include_acknowledged=args.all)

    def text(out, data):
        rows = data["alerts"]
        for row in rows:
            seen = " (ack)" if row["acknowledged"] else ""
            out.print(f"{row['id']:>4} {row['created_at']} {row['level']:<7} {row['title']}{seen}", markup=False)
        if not rows:
            out.print("no alerts")
    return _emit(args, {"alerts": rows}, text)


def ack(engine: Engine, args) -> int:
    return _emit(args, engine.graph.acknowledge_alert(args.alert_id),
                 lambda out, a: out.print(f"acknowledged alert {a['id']}", markup=False))


def load_sample(engine: Engine, args) -> int:
    def text(out, result):
        if result["loaded"]:
            out.print(f"loaded {result['entities']} entities, {result['relationships']} relationships"
                      f" from {result['path']}", markup=False)
        else:
            out.print(f"not loaded: {result['reason']}", markup=False)
    return _emit(args, engine.graph.load_sample_if_empty(), text)
