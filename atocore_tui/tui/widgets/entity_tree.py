"""The Graph pane's tree: projects → entity types → entities, filled lazily.

Expanding a project loads its type counts, expanding a type shows a
"loading…" child and fills its entities from a worker. :meth:`EntityTree.reveal`
opens the way to one entity (loading what is missing in one worker) and puts
the cursor on it. The tree posts :class:`EntityTree.EntityChosen` when its
cursor comes to another node; a node shifting under the cursor while the tree
fills (the same node highlighted again) is not a choice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import on
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from ...graph import vocab
from ..workers import EngineCalls

LOADING = "loading…"
MAX_ENTITIES = 5000
STATUS_ORDER = {vocab.CANDIDATE: 0, vocab.ACTIVE: 1, vocab.SUPERSEDED: 2}


@dataclass
class GraphNode:
    """What a tree node stands for; ``state`` tracks its lazy children."""

    kind: str  # "project", "type", "entity" or "placeholder"
    project: str
    entity_type: str = ""
    entity_id: str = ""
    state: str = "unloaded"  # "unloaded", "loading", "loaded"


Node = TreeNode[GraphNode]


class EntityTree(EngineCalls, Tree[GraphNode]):
    """The lazy project/type/entity tree."""

    class EntityChosen(Message):
        """The cursor came to a node: its project, and its entity if it is one."""

        def __init__(self, project: str, entity_id: str | None) -> None:
            super().__init__()
            self.project = project
            self.entity_id = entity_id

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("Projects", id=id)
        self.show_root = False
        self.guide_depth = 2
        self._projects: dict[str, Node] = {}
        self._types: dict[tuple[str, str], Node] = {}
        self._entities: dict[str, Node] = {}
        self._chosen: Node | None = None
        """The node last announced: highlighting it again is the tree moving, not a choice."""

    def _tone(self, name: str) -> str:
        return self.app.theme_variables.get(name, "")

    # --------------------------------------------------------------- projects
    def load_projects(self) -> None:
        """(Re)load the projects; expanded nodes reload their children."""
        engine = self.app.engine
        self.run_engine(lambda: sorted(engine.projects.known()), self._show_projects,
                        group="graph-projects", description="loading the projects")

    def _show_projects(self, names: list[str]) -> None:
        for name in names:
            node = self._projects.get(name)
            if node is None:
                node = self.root.add(Text(name, style="bold"), GraphNode("project", name), allow_expand=True)
                self._projects[name] = node
            elif _data(node).state == "loaded":
                _data(node).state = "unloaded"
                if node.is_expanded:
                    self._expand_project(node)
        if names and self.cursor_line < 0:
            self.move_cursor(self.root.children[0])

    # ------------------------------------------------------------ lazy fill
    @on(Tree.NodeExpanded)
    def _node_expanded(self, event: Tree.NodeExpanded[GraphNode]) -> None:
        data = event.node.data
        if data is None or data.state != "unloaded":
            return
        if data.kind == "project":
            self._expand_project(event.node)
        elif data.kind == "type":
            self._expand_type(event.node)

    def _expand_project(self, node: Node) -> None:
        data = _data(node)
        data.state = "loading"
        if not node.children:
            node.add_leaf(Text(LOADING, style="dim italic"), GraphNode("placeholder", data.project))
        engine, project = self.app.engine, data.project
        self.run_engine(lambda: engine.graph.type_counts(project), lambda counts: self._fill_types(node, counts),
                        group="graph-tree", description="loading entity types", exclusive=False)

    def _fill_types(self, node: Node, counts: dict[str, dict[str, int]]) -> None:
        if _data(node).state == "loading":  # not filled meanwhile (by a reveal)
            self._show_types(node, counts)

    def _show_types(self, node: Node, counts: dict[str, dict[str, int]]) -> None:
        project = _data(node).project
        expanded = {t for (p, t), n in self._types.items() if p == project and n.is_expanded}
        for key in [k for k in self._types if k[0] == project]:
            del self._types[key]
        for entity_id in [i for i, n in self._entities.items() if _data(n).project == project]:
            del self._entities[entity_id]
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
            self._types[(project, entity_type)] = child
            if entity_type in expanded:
                child.expand()
        _data(node).state = "loaded"

    def _expand_type(self, node: Node) -> None:
        data = _data(node)
        data.state = "loading"
        node.remove_children()
        node.add_leaf(Text(LOADING, style="dim italic"), GraphNode("placeholder", data.project))
        engine, project, entity_type = self.app.engine, data.project, data.entity_type
        self.run_engine(lambda: engine.graph.entities(project=project, entity_type=entity_type, limit=MAX_ENTITIES),
                        lambda rows: self._fill_entities(node, rows),
                        group="graph-tree", description="loading entities", exclusive=False)

    def _fill_entities(self, node: Node, rows: list[dict[str, Any]]) -> None:
        if _data(node).state == "loading":  # not filled meanwhile (by a reveal)
            self._show_entities(node, rows)

    def _show_entities(self, node: Node, rows: list[dict[str, Any]]) -> None:
        node.remove_children()
        for row in sorted(rows, key=lambda r: (STATUS_ORDER.get(r["status"], 3), r["name"].lower())):
            child = node.add_leaf(self.entity_label(row),
                                  GraphNode("entity", row["project"], row["entity_type"], row["id"]))
            self._entities[row["id"]] = child
        _data(node).state = "loaded"

    def entity_label(self, row: dict[str, Any]) -> Text:
        status = row["status"]
        if status == vocab.CANDIDATE:
            label = Text("◌ ", style=self._tone("warning"))
            label.append(row["name"])
        elif status == vocab.SUPERSEDED:
            label = Text(row["name"], style="dim strike")
        else:
            label = Text(row["name"])
        return label

    def entity_changed(self, entity: dict[str, Any]) -> None:
        """An entity's status changed: its label, and its project's type counts."""
        node = self._entities.get(entity["id"])
        if node is not None:
            node.set_label(self.entity_label(entity))
        project_node = self._projects.get(entity["project"])
        if project_node is not None and _data(project_node).state == "loaded":
            self._expand_project(project_node)

    # --------------------------------------------------------------- choices
    @on(Tree.NodeHighlighted)
    def _node_highlighted(self, event: Tree.NodeHighlighted[GraphNode]) -> None:
        data = event.node.data
        if data is None or event.node is self._chosen:
            return  # the same node again: lines moved under the cursor as the tree filled
        self._chosen = event.node
        self.post_message(self.EntityChosen(data.project, data.entity_id if data.kind == "entity" else None))

    # ---------------------------------------------------------------- reveal
    def reveal(self, entity: dict[str, Any]) -> None:
        """Open the way to ``entity`` (its project, then its type) and put the cursor on it."""
        engine = self.app.engine
        project, entity_type = entity["project"], entity["entity_type"]

        def fetch() -> tuple[list[str], dict[str, dict[str, int]], list[dict[str, Any]]]:
            return (sorted(engine.projects.known()), engine.graph.type_counts(project),
                    engine.graph.entities(project=project, entity_type=entity_type, limit=MAX_ENTITIES))

        self.run_engine(fetch, lambda found: self._land(entity, *found),
                        group="graph-reveal", description="finding the entity")

    def _land(self, entity: dict[str, Any], names: list[str], counts: dict[str, dict[str, int]],
              rows: list[dict[str, Any]]) -> None:
        self._show_projects(names)
        project_node = self._projects.get(entity["project"])
        if project_node is None:
            return
        if _data(project_node).state != "loaded":
            self._show_types(project_node, counts)
        project_node.expand()
        type_node = self._types.get((entity["project"], entity["entity_type"]))
        if type_node is None:
            return
        if _data(type_node).state != "loaded":
            self._show_entities(type_node, rows)
        type_node.expand()
        entity_node = self._entities.get(entity["id"])
        if entity_node is None:
            return
        self.focus()
        self.call_after_refresh(self.move_cursor, entity_node)  # once the lines are laid out


def _data(node: Node) -> GraphNode:
    assert node.data is not None, "every node of the tree carries its GraphNode"
    return node.data
