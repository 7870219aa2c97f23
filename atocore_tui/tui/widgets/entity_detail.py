"""An entity's detail: description, status, source refs, relationships in and out.

The Graph pane shows it in its Detail tab, and beside the views on a wide
screen. Enter on a relationship posts :class:`OpenEntity` for the entity at
its other end.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widgets import DataTable, Label, Static

from ...graph import vocab

EMPTY = ("Choose an entity in the tree (expand a project, then a type).\n\n"
         "a gaps · x conflicts · l alerts of the project")


class OpenEntity(Message):
    """Show this entity (reveal it in the tree)."""

    def __init__(self, entity_id: str) -> None:
        super().__init__()
        self.entity_id = entity_id


class EntityDetail(VerticalScroll):
    """One entity; ``prefix`` keeps the ids of two copies apart."""

    def __init__(self, prefix: str = "", *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.prefix = prefix
        self._entity: dict[str, Any] | None = None
        self._ready = False
        self._edge_targets: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        prefix = self.prefix
        yield Static("", id=f"{prefix}entity-detail", classes="entity-detail")
        yield Label("Relationships", id=f"{prefix}relations-title", classes="section")
        yield DataTable(id=f"{prefix}relations", classes="relations", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns("", "relationship", "type", "status", "entity")
        self._ready = True
        self._fill(self._entity)

    @property
    def relations(self) -> DataTable:
        return self.query_one(DataTable)

    def show(self, entity: dict[str, Any] | None) -> None:
        """Show ``entity`` (or what to do when there is none); before mounting, once mounted."""
        self._entity = entity
        if self._ready:
            self._fill(entity)

    def _fill(self, entity: dict[str, Any] | None) -> None:
        detail = self.query_one(f"#{self.prefix}entity-detail", Static)
        table = self.relations
        title = self.query_one(f"#{self.prefix}relations-title", Label)
        table.clear()
        title.display = table.display = entity is not None
        if entity is None:
            self._edge_targets = {}
            detail.update(Content.styled(EMPTY, "dim"))
            return
        self._edge_targets = {f"out:{e['id']}": e["other"]["id"] for e in entity["outgoing"]}
        self._edge_targets |= {f"in:{e['id']}": e["other"]["id"] for e in entity["incoming"]}
        for direction, edges in (("out", entity["outgoing"]), ("in", entity["incoming"])):
            for edge in edges:
                other = edge["other"]
                table.add_row("→" if direction == "out" else "←", edge["relationship_type"], other["entity_type"],
                              self._status_text(other["status"]), other["name"], key=f"{direction}:{edge['id']}")
        title.update(f"Relationships: {len(entity['outgoing'])} out, {len(entity['incoming'])} in "
                     "(enter opens one)")
        detail.update(entity_content(entity))

    def _status_text(self, status: str) -> Text:
        if status == vocab.CANDIDATE:
            return Text(status, style=self.app.theme_variables.get("warning", ""))
        return Text(status, style="dim" if status == vocab.SUPERSEDED else "")

    @on(DataTable.RowSelected)
    def _relation_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        target = self._edge_targets.get(event.row_key.value or "")
        if target:
            self.post_message(OpenEntity(target))


def entity_content(entity: dict[str, Any]) -> Content:
    status_style = {vocab.CANDIDATE: "bold $warning", vocab.ACTIVE: "bold $success",
                    vocab.SUPERSEDED: "dim"}.get(entity["status"], "")
    parts: list[Any] = [(entity["name"], "bold"), "\n",
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
