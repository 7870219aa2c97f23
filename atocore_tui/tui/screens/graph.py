"""The Graph pane: projects → entity types → entities, and what hangs off them.

The tree (:class:`EntityTree`) is lazy and says which entity the cursor chose;
the views on the right follow the choice: the entity's detail (relationships
in and out), its impact and evidence walks; the project's gaps, its open
conflicts (resolve them here) and the alerts that wait for a human. Each view
owns its worker; the entity is loaded by one exclusive worker, so a load
overtaken by a later choice (a click, a jump from a view) is cancelled and
its result dropped.
"""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.events import Resize
from textual.notifications import SeverityLevel
from textual.reactive import reactive
from textual.widgets import DataTable, OptionList, TabbedContent, TabPane, Tree

from ...graph import vocab
from ..widgets.entity_detail import EntityDetail, OpenEntity
from ..widgets.entity_tree import LOADING, EntityTree, GraphNode
from .base import PaneScreen
from .graph_views import AlertsView, ConflictsView, GapsView, GraphEdited, GraphView, WalkView

__all__ = ["LOADING", "GraphNode", "GraphScreen"]

WIDE = 160
NARROW = 100
WALKS = ("tab-impact", "tab-evidence")


class GraphScreen(PaneScreen):
    PANE = "graph"
    TITLE = "Graph"
    CSS_PATH = "graph.tcss"
    BINDINGS = [
        Binding("d", "view_detail", "Detail", id="graph.detail",
                tooltip="The selected entity: description, status, source refs, relationships in and out"),
        Binding("t", "impact", "Impact", id="graph.impact",
                tooltip="What a change to the selected entity reaches, with depth and path"),
        Binding("v", "evidence", "Evidence", id="graph.evidence",
                tooltip="What supports the selected entity, with its source references"),
        Binding("plus,equals_sign", "depth(1)", "Depth+", id="graph.depth_up",
                tooltip="Walk one step further in the impact and evidence views"),
        Binding("minus", "depth(-1)", "Depth-", id="graph.depth_down",
                tooltip="Walk one step less in the impact and evidence views"),
        Binding("a", "gaps", "Gaps", id="graph.gaps",
                tooltip="The project's orphan requirements, risky decisions and unsupported claims"),
        Binding("x", "conflicts", "Conflicts", id="graph.conflicts",
                tooltip="Open conflicts of the project (enter on one to resolve it)"),
        Binding("l", "alerts", "Alerts", id="graph.alerts",
                tooltip="Alerts waiting for a human (enter on one to acknowledge it)"),
        Binding("s", "resolve", "Resolve", id="graph.resolve",
                tooltip="Resolve the highlighted conflict: dismiss, supersede the others, or keep as is"),
        Binding("k", "acknowledge", "Acknowledge", id="graph.acknowledge",
                tooltip="Acknowledge the highlighted alert"),
        Binding("P", "promote", "Promote", id="graph.promote",
                tooltip="Promote the selected candidate entity to active (checks conflicts)"),
        Binding("escape", "focus_tree", "Tree", id="graph.focus_tree",
                tooltip="Put the cursor back in the tree"),
    ]

    entity: reactive[dict[str, Any] | None] = reactive(None, bindings=True)
    project: reactive[str | None] = reactive(None, bindings=True)
    view = reactive("tab-detail", bindings=True)
    depth = reactive(3)

    # ---------------------------------------------------------------- layout
    def compose_body(self) -> ComposeResult:
        with Horizontal(id="graph-body"):
            yield EntityTree(id="tree")
            with TabbedContent(id="views", initial="tab-detail"):
                with TabPane("Detail", id="tab-detail"):
                    yield EntityDetail(id="detail-scroll", classes="detail-scroll")
                yield WalkView("impact")
                yield WalkView("evidence")
                yield GapsView("Gaps")
                yield ConflictsView("Conflicts")
                yield AlertsView("Alerts")

    @property
    def entity_tree(self) -> EntityTree:
        return self.query_one(EntityTree)

    def on_mount(self) -> None:
        tree = self.entity_tree
        tree.root.expand()
        tree.focus()
        self.refresh_pane()

    def on_resize(self, event: Resize) -> None:
        wide = self.size.width >= WIDE
        self.set_class(self.size.width < NARROW, "narrow")
        if wide == self.has_class("wide"):
            return
        self.set_class(wide, "wide")
        views = self.query_one("#views", TabbedContent)
        if wide:
            if not self.query("#side-detail"):
                # The detail beside the views, mounted once the screen is wide enough for it.
                side = EntityDetail("side-", id="side-detail", classes="detail-scroll")
                side.border_title = "Entity"
                side.show(self.entity)
                self.query_one("#graph-body").mount(side, after=self.entity_tree)
            # Its tab would only repeat it.
            if views.active == "tab-detail":
                self._activate("tab-impact")
            views.hide_tab("tab-detail")
        else:
            views.show_tab("tab-detail")

    def refresh_pane(self) -> None:
        """The tree (expanded nodes stay expanded), the entity and the open view."""
        self.entity_tree.load_projects()
        for view in self.query(GraphView):
            view.shown = None
        if self.entity is not None:
            self.load_entity(self.entity["id"])
        self._load_view(self.view, force=True)

    # --------------------------------------------------------------- choices
    @on(EntityTree.EntityChosen)
    def _chosen(self, event: EntityTree.EntityChosen) -> None:
        self.project = event.project
        if event.entity_id is None:
            return
        if self.entity is not None and self.entity["id"] == event.entity_id:
            self.workers.cancel_group(self, "graph-entity")  # a load of another one is stale now
            return
        self.load_entity(event.entity_id)

    @on(Tree.NodeSelected, "#tree")
    def _node_selected(self, event: Tree.NodeSelected[GraphNode]) -> None:
        data = event.node.data
        if (data is not None and data.kind == "entity" and not self.has_class("wide")
                and self.view not in WALKS):
            self._activate("tab-detail")

    @on(OpenEntity)
    def _open_entity(self, event: OpenEntity) -> None:
        self.reveal_entity(event.entity_id)

    @on(GraphEdited)
    def _graph_edited(self, event: GraphEdited) -> None:
        self._load_view(event.tab, force=True)
        if event.entity and self.entity is not None:
            self.load_entity(self.entity["id"])

    def show_item(self, kind: str, ref: str) -> None:
        if kind == "entity":
            self.reveal_entity(ref)

    # --------------------------------------------------------------- entity
    def load_entity(self, entity_id: str) -> None:
        graph = self.engine.graph
        self.run_engine(lambda: graph.entity(entity_id), self._set_entity,
                        group="graph-entity", description="loading the entity")

    def _set_entity(self, entity: dict[str, Any]) -> None:
        self.entity = entity

    def reveal_entity(self, entity_id: str) -> None:
        """Show the entity and put the tree's cursor on it (a later choice cancels this)."""
        graph = self.engine.graph
        self.run_engine(lambda: graph.entity(entity_id), self._reveal,
                        group="graph-entity", description="finding the entity")

    def _reveal(self, entity: dict[str, Any]) -> None:
        self.entity = entity
        self.project = entity["project"]
        if not self.has_class("wide"):
            self._activate("tab-detail")
        self.entity_tree.reveal(entity)

    def watch_entity(self, entity: dict[str, Any] | None) -> None:
        for detail in self.query(EntityDetail):
            detail.show(entity)
        if self.view in WALKS:
            self._load_view(self.view)

    # ---------------------------------------------------------------- views
    def _activate(self, tab: str) -> None:
        self.query_one("#views", TabbedContent).active = tab
        self.view = tab

    @on(TabbedContent.TabActivated, "#views")
    def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        self.view = event.pane.id or "tab-detail"
        self._load_view(self.view)

    def _load_view(self, tab: str, force: bool = False) -> None:
        for view in self.query(GraphView):
            if view.id == tab:
                view.follow(self.entity["id"] if self.entity else None, self.project, self.depth, force)

    def gap_names(self, kind: str) -> list[str]:
        """The names listed under one gap kind (what a person reads in the Gaps view)."""
        return self.query_one(GapsView).gap_names(kind)

    def action_focus_tree(self) -> None:
        self.entity_tree.focus()

    def _focus_list(self, name: str) -> None:
        self.query_one(f"#{name}", OptionList).focus()

    def action_view_detail(self) -> None:
        if self.has_class("wide"):
            self.query_one("#side-relations", DataTable).focus()
        else:
            self._activate("tab-detail")

    def action_impact(self) -> None:
        self._activate("tab-impact")
        self._load_view("tab-impact")

    def action_evidence(self) -> None:
        self._activate("tab-evidence")
        self._load_view("tab-evidence")

    def action_gaps(self) -> None:
        self._activate("tab-gaps")
        self._load_view("tab-gaps")
        self._focus_list("gaps")

    def action_conflicts(self) -> None:
        self._activate("tab-conflicts")
        self._load_view("tab-conflicts", force=True)
        self._focus_list("conflicts")

    def action_alerts(self) -> None:
        self._activate("tab-alerts")
        self._load_view("tab-alerts", force=True)
        self._focus_list("alerts")

    def action_depth(self, step: int) -> None:
        self.depth = max(1, min(10, self.depth + step))

    def watch_depth(self) -> None:
        if self.view in WALKS:
            self._load_view(self.view)

    def watch_project(self) -> None:
        if self.view in ("tab-gaps", "tab-conflicts"):
            self._load_view(self.view)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "promote":
            return bool(self.entity and self.entity["status"] == vocab.CANDIDATE)
        if action in ("impact", "evidence"):
            return True if self.entity else None
        if action == "depth":
            return self.view in WALKS
        if action in ("gaps",):
            return True if self.project else None
        if action == "resolve":
            return self.view == "tab-conflicts"
        if action == "acknowledge":
            return self.view == "tab-alerts"
        return True

    def action_resolve(self) -> None:
        self.query_one(ConflictsView).resolve_highlighted()

    def action_acknowledge(self) -> None:
        self.query_one(AlertsView).acknowledge_highlighted()

    # -------------------------------------------------------------- promote
    def action_promote(self) -> None:
        if self.entity and self.entity["status"] == vocab.CANDIDATE:
            entity_id = self.entity["id"]
            graph = self.engine.graph

            def promote() -> tuple[dict[str, Any], dict[str, Any]]:
                return graph.promote(entity_id), graph.entity(entity_id)

            self.run_engine(promote, lambda done: self._promoted(*done),
                            group="graph-promote", description="promoting the entity")

    def _promoted(self, result: dict[str, Any], entity: dict[str, Any]) -> None:
        message = f"{result['name']} is active."
        severity: SeverityLevel = "information"
        if result["conflicts"]:
            message += f" It opened {len(result['conflicts'])} conflict(s): press x to see them."
            severity = "warning"
        self.notify(message, title="Promoted", severity=severity)
        self.entity = entity
        self.entity_tree.entity_changed(entity)
