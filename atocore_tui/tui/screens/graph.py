"""The Graph pane: projects → entity types → entities, and what hangs off them.

The tree is lazy: expanding a project loads its type counts, expanding a type
shows a "loading…" child and fills its entities from a worker. The views on
the right follow the tree: an entity's detail (relationships in and out), its
impact and evidence walks; a project's gaps, open conflicts (resolve them
here) and the alerts that wait for a human.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.events import Resize
from textual.reactive import reactive
from textual.widgets import DataTable, Label, OptionList, Static, TabbedContent, TabPane, Tree
from textual.widgets.option_list import Option
from textual.widgets.tree import TreeNode

from ...graph import vocab
from .base import PaneScreen
from .graph_resolve import ResolveDialog

LOADING = "loading…"
MAX_ENTITIES = 5000
WIDE = 160
NARROW = 100
GAP_TITLES = {"orphan_requirements": "Orphan requirements",
              "risky_decisions": "Risky decisions",
              "unsupported_claims": "Unsupported claims"}


@dataclass
class GraphNode:
    """What a tree node stands for; ``state`` tracks its lazy children."""

    kind: str  # "project", "type", "entity" or "placeholder"
    project: str
    entity_type: str = ""
    entity_id: str = ""
    state: str = "unloaded"  # "unloaded", "loading", "loaded"


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

    entity: reactive[dict | None] = reactive(None, bindings=True)
    project: reactive[str | None] = reactive(None, bindings=True)
    view = reactive("tab-detail", bindings=True)
    depth = reactive(3)

    def __init__(self) -> None:
        super().__init__()
        self._project_nodes: dict[str, TreeNode[GraphNode]] = {}
        self._type_nodes: dict[tuple[str, str], TreeNode[GraphNode]] = {}
        self._entity_nodes: dict[str, TreeNode[GraphNode]] = {}
        self._reveal: dict | None = None
        self._wanted_entity: str | None = None
        self._revealing: str | None = None
        """While set, tree highlights of other nodes are the tree moving, not the user."""
        """The entity last asked for; an older load finishing later is dropped."""
        self._shown: dict[str, tuple] = {}
        self._conflicts: dict[str, dict] = {}
        self._names: dict[str, str] = {}
        self._edge_targets: dict[str, str] = {}

    # ---------------------------------------------------------------- layout
    def compose_body(self) -> ComposeResult:
        with Horizontal(id="graph-body"):
            tree: Tree[GraphNode] = Tree("Projects", id="tree")
            tree.show_root = False
            tree.guide_depth = 2
            yield tree
            with VerticalScroll(id="side-detail", classes="detail-scroll"):
                yield from self._detail_widgets("side-")
            with TabbedContent(id="views", initial="tab-detail"):
                with TabPane("Detail", id="tab-detail"):
                    with VerticalScroll(id="detail-scroll", classes="detail-scroll"):
                        yield from self._detail_widgets("")
                with TabPane("Impact", id="tab-impact"):
                    yield Static("", id="impact-title", classes="view-title")
                    yield DataTable(id="impact", cursor_type="row", zebra_stripes=True)
                with TabPane("Evidence", id="tab-evidence"):
                    yield Static("", id="evidence-title", classes="view-title")
                    yield DataTable(id="evidence", cursor_type="row", zebra_stripes=True)
                with TabPane("Gaps", id="tab-gaps"):
                    yield Static("", id="gaps-title", classes="view-title")
                    yield OptionList(id="gaps")
                with TabPane("Conflicts", id="tab-conflicts"):
                    yield Static("", id="conflicts-title", classes="view-title")
                    yield OptionList(id="conflicts")
                with TabPane("Alerts", id="tab-alerts"):
                    yield Static("", id="alerts-title", classes="view-title")
                    yield OptionList(id="alerts")

    @staticmethod
    def _detail_widgets(prefix: str) -> ComposeResult:
        """The entity detail: in the Detail tab, and beside the views on a wide screen."""
        yield Static("", id=f"{prefix}entity-detail", classes="entity-detail")
        yield Label("Relationships", id=f"{prefix}relations-title", classes="section")
        yield DataTable(id=f"{prefix}relations", classes="relations", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        for prefix in ("", "side-"):
            self.query_one(f"#{prefix}relations", DataTable).add_columns(
                "", "relationship", "type", "status", "entity")
        # via (short) before the entity's name (long), so it is never cut off
        self.query_one("#impact", DataTable).add_columns("depth", "via", "type", "entity", "path")
        self.query_one("#evidence", DataTable).add_columns("depth", "via", "type", "entity", "source refs")
        self.query_one("#side-detail").border_title = "Entity"
        self._show_entity(None)
        tree = self.query_one("#tree", Tree)
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
            # The detail sits beside the views: its tab would only repeat it.
            if views.active == "tab-detail":
                self._activate("tab-impact")
            views.hide_tab("tab-detail")
        else:
            views.show_tab("tab-detail")

    def refresh_pane(self) -> None:
        """The tree (expanded nodes stay expanded), the entity and the open view."""
        self.load_projects()
        self._shown.clear()
        if self.entity is not None:
            self.load_entity(self.entity["id"])
        self._load_view(self.view, force=True)

    def _tone(self, name: str) -> str:
        """A theme colour for Rich text (tree labels and table cells)."""
        return self.app.theme_variables.get(name, "")

    # ------------------------------------------------------------------ tree
    @work(thread=True, exclusive=True, group="graph-projects", exit_on_error=False,
          description="loading the projects")
    def load_projects(self) -> None:
        with self.engine.db.connection_context():
            names = sorted(self.engine.projects.known())
        self.app.call_from_thread(self._show_projects, names)

    def _show_projects(self, names: list[str]) -> None:
        tree = self.query_one("#tree", Tree)
        for name in names:
            node = self._project_nodes.get(name)
            if node is None:
                node = tree.root.add(Text(name, style="bold"), GraphNode("project", name), allow_expand=True)
                self._project_nodes[name] = node
            elif node.data.state == "loaded":
                node.data.state = "unloaded"
                if node.is_expanded:
                    self._expand_project(node)
        if self.project is None and names and tree.cursor_line < 0:
            tree.move_cursor(tree.root.children[0])
        self._continue_reveal()

    @on(Tree.NodeExpanded, "#tree")
    def _node_expanded(self, event: Tree.NodeExpanded[GraphNode]) -> None:
        data = event.node.data
        if data is None or data.state != "unloaded":
            return
        if data.kind == "project":
            self._expand_project(event.node)
        elif data.kind == "type":
            self._expand_type(event.node)

    def _expand_project(self, node: TreeNode[GraphNode]) -> None:
        node.data.state = "loading"
        if not node.children:
            node.add_leaf(Text(LOADING, style="dim italic"), GraphNode("placeholder", node.data.project))
        self.load_types(node)

    @work(thread=True, group="graph-tree", exit_on_error=False, description="loading entity types")
    def load_types(self, node: TreeNode[GraphNode]) -> None:
        project = node.data.project
        with self.engine.db.connection_context():
            counts = self.engine.graph.type_counts(project)
        self.app.call_from_thread(self._show_types, node, counts)

    def _show_types(self, node: TreeNode[GraphNode], counts: dict[str, dict[str, int]]) -> None:
        project = node.data.project
        expanded = {t for (p, t), n in self._type_nodes.items() if p == project and n.is_expanded}
        for key in [k for k in self._type_nodes if k[0] == project]:
            del self._type_nodes[key]
        for entity_id in [i for i, n in self._entity_nodes.items() if n.data.project == project]:
            del self._entity_nodes[entity_id]
        node.remove_children()
        if not counts:
            node.add_leaf(Text("no entities", style="dim italic"), GraphNode("placeholder", project))
        for entity_type in sorted(counts, key=lambda t: vocab.ENTITY_TYPES.index(t)
                                  if t in vocab.ENTITY_TYPES else 99):
            label = Text(entity_type)
            label.append(f" {counts[entity_type]['total']}", style="dim")
            if counts[entity_type]["candidates"]:
                label.append(f" +{counts[entity_type]['candidates']}?", style=self._tone("warning"))
            child = node.add(label, GraphNode("type", project, entity_type), allow_expand=True)
            self._type_nodes[(project, entity_type)] = child
            if entity_type in expanded:
                child.expand()
        node.data.state = "loaded"
        self._continue_reveal()

    def _expand_type(self, node: TreeNode[GraphNode]) -> None:
        node.data.state = "loading"
        node.remove_children()
        node.add_leaf(Text(LOADING, style="dim italic"), GraphNode("placeholder", node.data.project))
        self.load_entities(node)

    @work(thread=True, group="graph-tree", exit_on_error=False, description="loading entities")
    def load_entities(self, node: TreeNode[GraphNode]) -> None:
        data = node.data
        with self.engine.db.connection_context():
            rows = self.engine.graph.entities(project=data.project, entity_type=data.entity_type,
                                              limit=MAX_ENTITIES)
        self.app.call_from_thread(self._show_entities, node, rows)

    def _show_entities(self, node: TreeNode[GraphNode], rows: list[dict]) -> None:
        node.remove_children()
        order = {vocab.CANDIDATE: 0, vocab.ACTIVE: 1, vocab.SUPERSEDED: 2}
        for row in sorted(rows, key=lambda r: (order.get(r["status"], 3), r["name"].lower())):
            child = node.add_leaf(self._entity_label(row), GraphNode("entity", row["project"], row["entity_type"],
                                                                     row["id"]))
            self._entity_nodes[row["id"]] = child
            self._names[row["id"]] = row["name"]
        node.data.state = "loaded"
        self._continue_reveal()

    def _entity_label(self, row: dict) -> Text:
        status = row["status"]
        if status == vocab.CANDIDATE:
            label = Text("◌ ", style=self._tone("warning"))
            label.append(row["name"])
        elif status == vocab.SUPERSEDED:
            label = Text(row["name"], style="dim strike")
        else:
            label = Text(row["name"])
        return label

    @on(Tree.NodeHighlighted, "#tree")
    def _node_highlighted(self, event: Tree.NodeHighlighted[GraphNode]) -> None:
        data = event.node.data
        if data is None:
            return
        if self._revealing is not None:
            # Expanding nodes on the way to a revealed entity shifts the tree's
            # lines under its cursor; only reaching the entity itself counts.
            if data.kind != "entity" or data.entity_id != self._revealing:
                return
            self._revealing = None
        self.project = data.project
        if data.kind == "entity" and (self.entity is None or self.entity["id"] != data.entity_id):
            self.load_entity(data.entity_id)

    @on(Tree.NodeSelected, "#tree")
    def _node_selected(self, event: Tree.NodeSelected[GraphNode]) -> None:
        data = event.node.data
        if (data is not None and data.kind == "entity" and not self.has_class("wide")
                and self.view not in ("tab-impact", "tab-evidence")):
            self._activate("tab-detail")

    # -------------------------------------------------------------- reveal
    def show_item(self, kind: str, ref: str) -> None:
        if kind == "entity":
            self.reveal_entity(ref)

    @work(thread=True, exclusive=True, group="graph-reveal", exit_on_error=False,
          description="finding the entity")
    def reveal_entity(self, entity_id: str) -> None:
        with self.engine.db.connection_context():
            entity = self.engine.graph.entity(entity_id)
        self.app.call_from_thread(self._start_reveal, entity)

    def _start_reveal(self, entity: dict) -> None:
        self._reveal = entity
        self._revealing = entity["id"]
        self._wanted_entity = entity["id"]
        self.entity = entity
        self.project = entity["project"]
        if not self.has_class("wide"):
            self._activate("tab-detail")
        self._continue_reveal()

    def _continue_reveal(self) -> None:
        """One step towards the entity to reveal; the lazy loaders call back here."""
        target = self._reveal
        if target is None:
            return
        tree = self.query_one("#tree", Tree)
        project_node = self._project_nodes.get(target["project"])
        if project_node is None:
            return  # the projects are still loading
        if project_node.data.state != "loaded":
            project_node.expand()
            if project_node.data.state == "unloaded":
                self._expand_project(project_node)
            return
        project_node.expand()
        type_node = self._type_nodes.get((target["project"], target["entity_type"]))
        if type_node is None:
            self._reveal = self._revealing = None
            return
        if type_node.data.state != "loaded":
            type_node.expand()
            if type_node.data.state == "unloaded":
                self._expand_type(type_node)
            return
        type_node.expand()
        entity_node = self._entity_nodes.get(target["id"])
        self._reveal = None
        if entity_node is None:
            self._revealing = None
            return
        tree.focus()

        def land() -> None:
            tree.move_cursor(entity_node)
            # the cursor may already have been there (no highlight comes then)
            self.call_later(self._end_reveal)

        tree.call_after_refresh(land)

    def _end_reveal(self) -> None:
        self._revealing = None

    # --------------------------------------------------------------- entity
    def load_entity(self, entity_id: str) -> None:
        self._wanted_entity = entity_id
        self._load_entity(entity_id)

    @work(thread=True, exclusive=True, group="graph-entity", exit_on_error=False,
          description="loading the entity")
    def _load_entity(self, entity_id: str) -> None:
        with self.engine.db.connection_context():
            entity = self.engine.graph.entity(entity_id)
        self.app.call_from_thread(self._set_entity, entity)

    def _set_entity(self, entity: dict) -> None:
        if entity["id"] != self._wanted_entity:
            return  # a later choice (a click, a reveal) was made while this one loaded
        self.entity = entity

    def watch_entity(self, entity: dict | None) -> None:
        self._show_entity(entity)
        if self.view in ("tab-impact", "tab-evidence"):
            self._load_view(self.view)

    def _show_entity(self, entity: dict | None) -> None:
        for prefix in ("", "side-"):
            self._show_entity_in(prefix, entity)
        if entity is not None:
            self._edge_targets = {f"out:{e['id']}": e["other"]["id"] for e in entity["outgoing"]}
            self._edge_targets |= {f"in:{e['id']}": e["other"]["id"] for e in entity["incoming"]}
            for edge in entity["outgoing"] + entity["incoming"]:
                self._names[edge["other"]["id"]] = edge["other"]["name"]

    def _show_entity_in(self, prefix: str, entity: dict | None) -> None:
        detail = self.query_one(f"#{prefix}entity-detail", Static)
        table = self.query_one(f"#{prefix}relations", DataTable)
        title = self.query_one(f"#{prefix}relations-title", Label)
        table.clear()
        title.display = table.display = entity is not None
        if entity is None:
            detail.update(Content.styled("Choose an entity in the tree (expand a project, then a type).\n\n"
                                         "a gaps · x conflicts · l alerts of the project", "dim"))
            return
        for direction, edges in (("out", entity["outgoing"]), ("in", entity["incoming"])):
            for edge in edges:
                other = edge["other"]
                table.add_row("→" if direction == "out" else "←", edge["relationship_type"], other["entity_type"],
                              self._status_text(other["status"]), other["name"], key=f"{direction}:{edge['id']}")
        title.update(f"Relationships: {len(entity['outgoing'])} out, {len(entity['incoming'])} in "
                     "(enter opens one)")
        detail.update(_entity_content(entity))

    def _status_text(self, status: str) -> Text:
        tone = {vocab.CANDIDATE: "warning", vocab.SUPERSEDED: "text-muted"}.get(status)
        return Text(status, style=self._tone(tone) if tone == "warning" else ("dim" if tone else ""))

    @on(DataTable.RowSelected, ".relations")
    def _relation_selected(self, event: DataTable.RowSelected) -> None:
        target = self._edge_targets.get(event.row_key.value)
        if target:
            self.reveal_entity(target)

    @on(DataTable.RowSelected, "#impact")
    @on(DataTable.RowSelected, "#evidence")
    def _walk_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value:
            self.reveal_entity(event.row_key.value)

    # ---------------------------------------------------------------- views
    def _activate(self, tab: str) -> None:
        self.query_one("#views", TabbedContent).active = tab
        self.view = tab

    @on(TabbedContent.TabActivated, "#views")
    def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        self.view = event.pane.id or "tab-detail"
        self._load_view(self.view)

    def _view_key(self, tab: str) -> tuple | None:
        entity_id = self.entity["id"] if self.entity else None
        return {"tab-impact": (entity_id, self.depth), "tab-evidence": (entity_id, self.depth),
                "tab-gaps": (self.project,), "tab-conflicts": (self.project,),
                "tab-alerts": ()}.get(tab)

    def _load_view(self, tab: str, force: bool = False) -> None:
        key = self._view_key(tab)
        if key is None or (not force and self._shown.get(tab) == key):
            return
        if tab in ("tab-impact", "tab-evidence"):
            if self.entity is None:
                self._no_entity(tab)
                return
            self._shown[tab] = key
            (self.load_impact if tab == "tab-impact" else self.load_evidence)(self.entity["id"], self.depth)
        elif tab == "tab-gaps":
            if self.project is None:
                self.query_one("#gaps-title", Static).update(Content.styled("Choose a project in the tree.", "dim"))
                return
            self._shown[tab] = key
            self.load_gaps(self.project)
        elif tab == "tab-conflicts":
            self._shown[tab] = key
            self.load_conflicts(self.project)
        elif tab == "tab-alerts":
            self._shown[tab] = key
            self.load_alerts()

    def _no_entity(self, tab: str) -> None:
        name = "impact" if tab == "tab-impact" else "evidence"
        self.query_one(f"#{name}-title", Static).update(
            Content.styled(f"Choose an entity in the tree to see its {name}.", "dim"))
        self.query_one(f"#{name}", DataTable).clear()

    def action_focus_tree(self) -> None:
        self.query_one("#tree", Tree).focus()

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
        if self.view in ("tab-impact", "tab-evidence"):
            self._load_view(self.view)

    def watch_project(self) -> None:
        if self.view in ("tab-gaps", "tab-conflicts"):
            self._load_view(self.view)

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "promote":
            return bool(self.entity and self.entity["status"] == vocab.CANDIDATE)
        if action in ("impact", "evidence"):
            return True if self.entity else None
        if action == "depth":
            return True if self.view in ("tab-impact", "tab-evidence") else False
        if action in ("gaps",):
            return True if self.project else None
        if action == "resolve":
            return True if self.view == "tab-conflicts" else False
        if action == "acknowledge":
            return True if self.view == "tab-alerts" else False
        return True

    # --------------------------------------------------------------- impact
    @work(thread=True, exclusive=True, group="graph-walk-impact", exit_on_error=False,
          description="walking the impact")
    def load_impact(self, entity_id: str, depth: int) -> None:
        with self.engine.db.connection_context():
            result = self.engine.graph.impact(entity_id, depth)
        self.app.call_from_thread(self._show_walk, "impact", result, result["reached"])

    @work(thread=True, exclusive=True, group="graph-walk-evidence", exit_on_error=False,
          description="walking the evidence")
    def load_evidence(self, entity_id: str, depth: int) -> None:
        with self.engine.db.connection_context():
            result = self.engine.graph.evidence(entity_id, depth)
        self.app.call_from_thread(self._show_walk, "evidence", result, result["supporters"])

    def _show_walk(self, name: str, result: dict, rows: list[dict]) -> None:
        start = result["entity"]
        names = {start["id"]: start["name"], **{r["id"]: r["name"] for r in rows}}
        title = Content.assemble(
            (name.capitalize(), "bold"), " of ", (start["name"], "bold $accent"),
            (f"  depth {result['depth']} (+/- to change) · {result['count']} reached", "dim"))
        if name == "evidence":
            refs = result["source_refs"]
            title = Content.assemble(title, "\n", _refs_content(refs) if refs
                                     else Content.styled("no source refs of its own", "dim"))
        elif not rows:
            title = Content.assemble(title, "\n", Content.styled("nothing downstream", "dim"))
        self.query_one(f"#{name}-title", Static).update(title)
        table = self.query_one(f"#{name}", DataTable)
        table.clear()
        for row in rows:
            if name == "impact":
                last = " → ".join(names.get(i, i) for i in row["path"][1:-1])
                tail = last or "direct"
            else:
                tail = ", ".join(r["ref"] + ("" if r["exists"] else " (gone)") for r in row["source_refs"]) or "—"
            table.add_row(Text(str(row["depth"]), justify="right"), row["via"], row["entity_type"],
                          _clip(row["name"], 40), tail, key=row["id"])

    # ----------------------------------------------------------------- gaps
    @work(thread=True, exclusive=True, group="graph-gaps", exit_on_error=False,
          description="finding the gaps")
    def load_gaps(self, project: str) -> None:
        with self.engine.db.connection_context():
            result = self.engine.graph.gaps(project)
        self.app.call_from_thread(self._show_gaps, result)

    def _show_gaps(self, result: dict) -> None:
        counts = result["counts"]
        total = sum(counts.values())
        self.query_one("#gaps-title", Static).update(Content.assemble(
            ("Gaps", "bold"), " of ", (result["project"], "bold $accent"),
            (f"  {total} found · enter opens the entity", "dim")))
        options = self.query_one("#gaps", OptionList)
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
        """The names listed under one gap kind (what a person reads in the Gaps view)."""
        options = self.query_one("#gaps", OptionList)
        names = []
        for index in range(options.option_count):
            option = options.get_option_at_index(index)
            if option.id and option.id.startswith(f"{kind}:"):
                names.append(self._names_from_option(option))
        return names

    @staticmethod
    def _names_from_option(option: Option) -> str:
        return str(option.prompt).split("\n", 1)[0].removeprefix("• ")

    @on(OptionList.OptionSelected, "#gaps")
    def _gap_selected(self, event: OptionList.OptionSelected) -> None:
        kind, _, entity_id = (event.option_id or "").partition(":")
        if kind in GAP_TITLES and entity_id:
            self.reveal_entity(entity_id)

    # ------------------------------------------------------------ conflicts
    @work(thread=True, exclusive=True, group="graph-conflicts", exit_on_error=False,
          description="loading conflicts")
    def load_conflicts(self, project: str | None) -> None:
        with self.engine.db.connection_context():
            rows = self.engine.graph.conflicts(project=project, status="open")
        self.app.call_from_thread(self._show_conflicts, project, rows)

    def _show_conflicts(self, project: str | None, rows: list[dict]) -> None:
        self._conflicts = {c["id"]: c for c in rows}
        where = f" of {project}" if project else ""
        self.query_one("#conflicts-title", Static).update(Content.assemble(
            ("Open conflicts", "bold"), where, (f"  {len(rows)} · enter or s to resolve", "dim")))
        options = self.query_one("#conflicts", OptionList)
        options.clear_options()
        if not rows:
            options.add_option(Option(Content.styled("No open conflicts.", "dim"), id="none", disabled=True))
        for conflict in rows:
            options.add_option(Option(_conflict_content(conflict), id=conflict["id"]))
        if rows:
            options.action_first()

    def action_resolve(self) -> None:
        options = self.query_one("#conflicts", OptionList)
        if options.highlighted is None:
            self.notify("No conflict to resolve here.", severity="warning")
            return
        option = options.get_option_at_index(options.highlighted)
        self._open_resolve(option.id)

    @on(OptionList.OptionSelected, "#conflicts")
    def _conflict_selected(self, event: OptionList.OptionSelected) -> None:
        self._open_resolve(event.option_id)

    def _open_resolve(self, conflict_id: str | None) -> None:
        conflict = self._conflicts.get(conflict_id or "")
        if conflict is None:
            return

        def chosen(choice: tuple[str, str | None] | None) -> None:
            if choice is not None:
                self.resolve_conflict(conflict["id"], *choice)

        self.app.push_screen(ResolveDialog(conflict), chosen)

    @work(thread=True, exclusive=True, group="graph-resolve", exit_on_error=False,
          description="resolving the conflict")
    def resolve_conflict(self, conflict_id: str, action: str, winner: str | None) -> None:
        with self.engine.db.connection_context():
            result = self.engine.graph.resolve(conflict_id, action, winner)
        self.app.call_from_thread(self._resolved, result)

    def _resolved(self, result: dict) -> None:
        subject = (result["subject"] or {}).get("name") or result["slot_key"]
        self.notify(f"{subject}: {result['status']} ({result['resolution']}); its alert is acknowledged.",
                    title="Conflict resolved")
        self._load_view("tab-conflicts", force=True)
        if self.entity is not None:
            self.load_entity(self.entity["id"])

    # --------------------------------------------------------------- alerts
    @work(thread=True, exclusive=True, group="graph-alerts", exit_on_error=False,
          description="loading alerts")
    def load_alerts(self) -> None:
        with self.engine.db.connection_context():
            rows = self.engine.graph.alerts()
        self.app.call_from_thread(self._show_alerts, rows)

    def _show_alerts(self, rows: list[dict]) -> None:
        self.query_one("#alerts-title", Static).update(Content.assemble(
            ("Alerts", "bold"), (f"  {len(rows)} waiting · enter or k acknowledges", "dim")))
        options = self.query_one("#alerts", OptionList)
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

    def action_acknowledge(self) -> None:
        options = self.query_one("#alerts", OptionList)
        if options.highlighted is not None:
            option = options.get_option_at_index(options.highlighted)
            if option.id and option.id != "none":
                self.acknowledge(option.id)

    @on(OptionList.OptionSelected, "#alerts")
    def _alert_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option_id and event.option_id != "none":
            self.acknowledge(event.option_id)

    @work(thread=True, group="graph-acknowledge", exit_on_error=False, description="acknowledging the alert")
    def acknowledge(self, alert_id: str) -> None:
        with self.engine.db.connection_context():
            self.engine.graph.acknowledge_alert(alert_id)
        self.app.call_from_thread(self._load_view, "tab-alerts", True)

    # -------------------------------------------------------------- promote
    def action_promote(self) -> None:
        if self.entity and self.entity["status"] == vocab.CANDIDATE:
            self.promote(self.entity["id"])

    @work(thread=True, exclusive=True, group="graph-promote", exit_on_error=False,
          description="promoting the entity")
    def promote(self, entity_id: str) -> None:
        with self.engine.db.connection_context():
            result = self.engine.graph.promote(entity_id)
            entity = self.engine.graph.entity(entity_id)
        self.app.call_from_thread(self._promoted, result, entity)

    def _promoted(self, result: dict, entity: dict) -> None:
        message = f"{result['name']} is active."
        severity = "information"
        if result["conflicts"]:
            message += f" It opened {len(result['conflicts'])} conflict(s): press x to see them."
            severity = "warning"
        self.notify(message, title="Promoted", severity=severity)
        self.entity = entity
        node = self._entity_nodes.get(entity["id"])
        if node is not None:
            node.set_label(self._entity_label(entity))
        type_node = self._project_nodes.get(entity["project"])
        if type_node is not None and type_node.data.state == "loaded":
            self._expand_project(type_node)  # the counts of candidates changed


# ------------------------------------------------------------------ display
def _entity_content(entity: dict) -> Content:
    status_style = {vocab.CANDIDATE: "bold $warning", vocab.ACTIVE: "bold $success",
                    vocab.SUPERSEDED: "dim"}.get(entity["status"], "")
    parts: list = [(entity["name"], "bold"), "\n",
                   (entity["entity_type"], "$accent"), " · ", (entity["status"], status_style),
                   f" · confidence {entity['confidence']:.2f} · ", entity["project"],
                   (f" · {entity['id']}", "dim"), "\n"]
    if entity["status"] == vocab.CANDIDATE:
        parts.append(("candidate: P promotes it to active\n", "$warning"))
    parts += ["\n", entity["description"] or Content.styled("no description", "dim"), "\n"]
    refs = entity["source_refs"]
    parts += ["\n", ("Source refs", "bold"), "\n"]
    parts += [("  none\n", "dim")] if not refs else [f"  {ref}\n" for ref in refs]
    if entity["conflicts"]:
        parts += ["\n", ("Open conflicts", "bold $error"), "\n"]
        for conflict in entity["conflicts"]:
            members = ", ".join(m["name"] for m in conflict["members"])
            parts.append((f"  {conflict['slot_kind']}: {members}\n", "$error"))
    if entity.get("graduated_from"):
        parts += ["\n", ("Graduated from ", "dim"), str(entity["graduated_from"]), "\n"]
    if entity["audit"]:
        last = entity["audit"][0]
        parts += ["\n", (f"last change {last['at']} · {last['action']} by {last['actor']}", "dim")]
    return Content.assemble(*parts)


def _refs_content(refs: list[dict]) -> Content:
    parts: list = [("own source refs: ", "dim")]
    for index, ref in enumerate(refs):
        if index:
            parts.append(", ")
        parts.append((ref["ref"], "" if ref["exists"] else "dim strike"))
        if ref["label"]:
            parts.append((f" ({ref['label']})", "dim"))
    return Content.assemble(*parts)


def _conflict_content(conflict: dict) -> Content:
    subject = (conflict["subject"] or {}).get("name") or conflict["slot_key"]
    kind = {"component_material": "more than one material", "part_of_parent": "more than one parent",
            "duplicate_requirement": "duplicate requirement"}.get(conflict["slot_kind"], conflict["slot_kind"])
    parts: list = [("⚠ ", "$error"), (subject, "bold"), f": {kind}", (f"  since {conflict['created_at']}", "dim")]
    for member in conflict["members"]:
        parts += ["\n  • ", member["name"], (f"  {member['id']}", "dim")]
    return Content.assemble(*parts)


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
