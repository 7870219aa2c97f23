"""The Graph pane's views, one per tab, each owning its (exclusive) worker.

A view loads when the pane's choice it depends on changed (the entity and the
depth, or the project) or when forced; a load started later cancels the one
in flight, whose result is then dropped.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.content import Content
from textual.message import Message
from textual.widgets import DataTable, OptionList, Static, TabPane
from textual.widgets.option_list import Option

from ..widgets.entity_detail import OpenEntity
from ..workers import EngineCalls
from .graph_resolve import ResolveDialog

GAP_TITLES = {"orphan_requirements": "Orphan requirements",
              "risky_decisions": "Risky decisions",
              "unsupported_claims": "Unsupported claims"}


class GraphEdited(Message):
    """A view changed the graph: the pane reloads the view (and the entity if ``entity``)."""

    def __init__(self, tab: str, entity: bool) -> None:
        super().__init__()
        self.tab = tab
        self.entity = entity


class GraphView(EngineCalls, TabPane):
    """A tab of the pane; ``shown`` is what it last loaded for."""

    def __init__(self, title: str, *, id: str) -> None:
        super().__init__(title, id=id)
        self.shown: tuple[Any, ...] | None = None

    def follow(self, entity_id: str | None, project: str | None, depth: int, force: bool = False) -> None:
        """Load for the pane's current choice, unless that is what it shows."""


class WalkView(GraphView):
    """Impact (what a change reaches) or evidence (what supports it) of the entity."""

    COLUMNS = {"impact": ("depth", "via", "type", "entity", "path"),  # via (short) before the long name
               "evidence": ("depth", "via", "type", "entity", "source refs")}

    def __init__(self, kind: str) -> None:
        super().__init__(kind.capitalize(), id=f"tab-{kind}")
        self.kind = kind

    def compose(self) -> ComposeResult:
        yield Static("", id=f"{self.kind}-title", classes="view-title")
        yield DataTable(id=self.kind, cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns(*self.COLUMNS[self.kind])

    def follow(self, entity_id: str | None, project: str | None, depth: int, force: bool = False) -> None:
        key = (entity_id, depth)
        if not force and key == self.shown:
            return
        if entity_id is None:
            self.query_one(Static).update(
                Content.styled(f"Choose an entity in the tree to see its {self.kind}.", "dim"))
            self.query_one(DataTable).clear()
            return
        self.shown = key
        graph = self.app.engine.graph
        walk = graph.impact if self.kind == "impact" else graph.evidence
        self.run_engine(lambda: walk(entity_id, depth), self._show,
                        group=f"graph-walk-{self.kind}", description=f"walking the {self.kind}")

    def _show(self, result: dict[str, Any]) -> None:
        rows = result["reached"] if self.kind == "impact" else result["supporters"]
        start = result["entity"]
        names = {start["id"]: start["name"], **{r["id"]: r["name"] for r in rows}}
        title = Content.assemble(
            (self.kind.capitalize(), "bold"), " of ", (start["name"], "bold $accent"),
            (f"  depth {result['depth']} (+/- to change) · {result['count']} reached", "dim"))
        if self.kind == "evidence":
            refs = result["source_refs"]
            title = Content.assemble(title, "\n", _refs_content(refs) if refs
                                     else Content.styled("no source refs of its own", "dim"))
        elif not rows:
            title = Content.assemble(title, "\n", Content.styled("nothing downstream", "dim"))
        self.query_one(Static).update(title)
        table = self.query_one(DataTable)
        table.clear()
        for row in rows:
            if self.kind == "impact":
                tail = " → ".join(names.get(i, i) for i in row["path"][1:-1]) or "direct"
            else:
                tail = ", ".join(r["ref"] + ("" if r["exists"] else " (gone)") for r in row["source_refs"]) or "—"
            table.add_row(Text(str(row["depth"]), justify="right"), row["via"], row["entity_type"],
                          _clip(row["name"], 40), tail, key=row["id"])

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value:
            self.post_message(OpenEntity(event.row_key.value))


class OptionsView(GraphView):
    """A title over an option list (gaps, conflicts, alerts)."""

    NAME = ""

    def __init__(self, title: str) -> None:
        super().__init__(title, id=f"tab-{self.NAME}")

    def compose(self) -> ComposeResult:
        yield Static("", id=f"{self.NAME}-title", classes="view-title")
        yield OptionList(id=self.NAME)

    @property
    def options(self) -> OptionList:
        return self.query_one(OptionList)

    def highlighted_id(self) -> str | None:
        options = self.options
        if options.highlighted is None:
            return None
        return options.get_option_at_index(options.highlighted).id


class GapsView(OptionsView):
    """The project's orphan requirements, risky decisions and unsupported claims."""

    NAME = "gaps"

    def follow(self, entity_id: str | None, project: str | None, depth: int, force: bool = False) -> None:
        key = (project,)
        if not force and key == self.shown:
            return
        if project is None:
            self.query_one(Static).update(Content.styled("Choose a project in the tree.", "dim"))
            return
        self.shown = key
        graph = self.app.engine.graph
        self.run_engine(lambda: graph.gaps(project), self._show, group="graph-gaps", description="finding the gaps")

    def _show(self, result: dict[str, Any]) -> None:
        total = sum(result["counts"].values())
        self.query_one(Static).update(Content.assemble(
            ("Gaps", "bold"), " of ", (result["project"], "bold $accent"),
            (f"  {total} found · enter opens the entity", "dim")))
        options = self.options
        options.clear_options()
        for number, (kind, title) in enumerate(GAP_TITLES.items()):
            items = result[kind]
            if number:
                options.add_option(None)
            options.add_option(Option(Content.styled(f"{title} ({len(items)})", "bold $primary"),
                                      id=f"head:{kind}", disabled=True))
            if not items:
                options.add_option(Option(Content.styled("  none", "dim"), id=f"none:{kind}", disabled=True))
            for item in items:
                options.add_option(Option(Content.assemble(
                    ("• ", "$warning"), (item["name"], "bold"), "\n  ", (item["why"], "dim")),
                    id=f"{kind}:{item['id']}"))
        if options.option_count:
            options.action_first()

    def gap_names(self, kind: str) -> list[str]:
        """The names listed under one gap kind (what a person reads in the view)."""
        options = self.options
        names = []
        for index in range(options.option_count):
            option = options.get_option_at_index(index)
            if option.id and option.id.startswith(f"{kind}:"):
                names.append(str(option.prompt).split("\n", 1)[0].removeprefix("• "))
        return names

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        kind, _, entity_id = (event.option_id or "").partition(":")
        if kind in GAP_TITLES and entity_id:
            self.post_message(OpenEntity(entity_id))


class ConflictsView(OptionsView):
    """Open conflicts of the project (of all projects before one is chosen); resolve them here."""

    NAME = "conflicts"

    def __init__(self, title: str) -> None:
        super().__init__(title)
        self._conflicts: dict[str, dict[str, Any]] = {}

    def follow(self, entity_id: str | None, project: str | None, depth: int, force: bool = False) -> None:
        key = (project,)
        if not force and key == self.shown:
            return
        self.shown = key
        graph = self.app.engine.graph
        self.run_engine(lambda: graph.conflicts(project=project, status="open"),
                        lambda rows: self._show(project, rows), group="graph-conflicts",
                        description="loading conflicts")

    def _show(self, project: str | None, rows: list[dict[str, Any]]) -> None:
        self._conflicts = {c["id"]: c for c in rows}
        where = f" of {project}" if project else ""
        self.query_one(Static).update(Content.assemble(
            ("Open conflicts", "bold"), where, (f"  {len(rows)} · enter or s to resolve", "dim")))
        options = self.options
        options.clear_options()
        if not rows:
            options.add_option(Option(Content.styled("No open conflicts.", "dim"), id="none", disabled=True))
        for conflict in rows:
            options.add_option(Option(_conflict_content(conflict), id=conflict["id"]))
        if rows:
            options.action_first()

    def resolve_highlighted(self) -> None:
        if self.options.highlighted is None:
            self.notify("No conflict to resolve here.", severity="warning")
            return
        self._open_resolve(self.highlighted_id())

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._open_resolve(event.option_id)

    def _open_resolve(self, conflict_id: str | None) -> None:
        conflict = self._conflicts.get(conflict_id or "")
        if conflict is None:
            return

        def chosen(choice: tuple[str, str | None] | None) -> None:
            if choice is not None:
                self._resolve(conflict["id"], *choice)

        self.app.push_screen(ResolveDialog(conflict), chosen)

    def _resolve(self, conflict_id: str, action: str, winner: str | None) -> None:
        graph = self.app.engine.graph
        self.run_engine(lambda: graph.resolve(conflict_id, action, winner), self._resolved,
                        group="graph-resolve", description="resolving the conflict")

    def _resolved(self, result: dict[str, Any]) -> None:
        subject = (result["subject"] or {}).get("name") or result["slot_key"]
        self.notify(f"{subject}: {result['status']} ({result['resolution']}); its alert is acknowledged.",
                    title="Conflict resolved")
        self.post_message(GraphEdited("tab-conflicts", entity=True))


class AlertsView(OptionsView):
    """Alerts waiting for a human; acknowledge them here."""

    NAME = "alerts"

    def follow(self, entity_id: str | None, project: str | None, depth: int, force: bool = False) -> None:
        if not force and self.shown == ():
            return
        self.shown = ()
        graph = self.app.engine.graph
        self.run_engine(graph.alerts, self._show, group="graph-alerts", description="loading alerts")

    def _show(self, rows: list[dict[str, Any]]) -> None:
        self.query_one(Static).update(Content.assemble(
            ("Alerts", "bold"), (f"  {len(rows)} waiting · enter or k acknowledges", "dim")))
        options = self.options
        options.clear_options()
        if not rows:
            options.add_option(Option(Content.styled("Nothing waiting.", "dim"), id="none", disabled=True))
        for alert in rows:
            tone = {"error": "$error", "warning": "$warning"}.get(alert["level"], "$primary")
            options.add_option(Option(Content.assemble(
                (f"{alert['level']:<7} ", tone), (alert["title"], "bold"), (f"  {alert['created_at']}", "dim"),
                *(("\n  ", (alert["message"], "dim")) if alert["message"] else ())), id=str(alert["id"])))
        if rows:
            options.action_first()

    def acknowledge_highlighted(self) -> None:
        self._acknowledge(self.highlighted_id())

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._acknowledge(event.option_id)

    def _acknowledge(self, alert_id: str | None) -> None:
        if not alert_id or alert_id == "none":
            return
        graph = self.app.engine.graph
        self.run_engine(lambda: graph.acknowledge_alert(alert_id),
                        lambda _: self.post_message(GraphEdited("tab-alerts", entity=False)),
                        group="graph-acknowledge", description="acknowledging the alert", exclusive=False)


# ------------------------------------------------------------------ display
def _refs_content(refs: list[dict[str, Any]]) -> Content:
    parts: list[Any] = [("own source refs: ", "dim")]
    for index, ref in enumerate(refs):
        if index:
            parts.append(", ")
        parts.append((ref["ref"], "" if ref["exists"] else "dim strike"))
        if ref["label"]:
            parts.append((f" ({ref['label']})", "dim"))
    return Content.assemble(*parts)


def _conflict_content(conflict: dict[str, Any]) -> Content:
    subject = (conflict["subject"] or {}).get("name") or conflict["slot_key"]
    kind = {"component_material": "more than one material", "part_of_parent": "more than one parent",
            "duplicate_requirement": "duplicate requirement"}.get(conflict["slot_kind"], conflict["slot_kind"])
    parts: list[Any] = [("⚠ ", "$error"), (subject, "bold"), f": {kind}",
                        (f"  since {conflict['created_at']}", "dim")]
    for member in conflict["members"]:
        parts += ["\n  • ", member["name"], (f"  {member['id']}", "dim")]
    return Content.assemble(*parts)


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
