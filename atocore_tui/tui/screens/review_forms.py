"""The Review pane's forms: edit-then-promote, graduate to an entity, pick a memory.

Each form checks its fields with the engine's own validators before anything
is written, shows a problem inline next to the form, and only closes once the
engine accepted the change (so a refused change leaves the form open and the
database untouched).
"""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, OptionList, Select, TextArea
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from ...errors import AtoCoreError, ValidationError
from ...graph import vocab
from ...memory.review import Neighbour
from ...memory.service import (
    MEMORY_TYPES,
    MemoryRecord,
    validate_confidence,
    validate_content,
    validate_memory_type,
)
from ..widgets.key_footer import KeyFooter
from ..workers import TypedApp


class _Form(TypedApp, ModalScreen):
    """A modal form: inline errors, engine work in a thread, closes on success."""

    CSS_PATH = "review.tcss"
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="review.form.cancel", tooltip="Close without saving"),
        Binding("ctrl+s", "save", "Save", id="review.form.save", tooltip="Check the form and save it"),
    ]

    _live = False

    def show_error(self, message: str, field: str | None = None, *, focus: bool = True) -> None:
        self.query_one("#form-error", Label).update(Text(message))
        self.query_one("#form-error", Label).display = bool(message)
        for widget in self.query(".field"):
            widget.set_class(field is not None and widget.id == field, "-invalid")
        if field is not None and focus:
            self.query_one(f"#{field}").focus()

    def problem(self) -> tuple[str, str | None] | None:
        """(message, field) of the first problem in the form, or None: the same
        check ctrl+s runs, so what is shown live is what saving would refuse."""
        return None

    def _go_live(self) -> None:
        self._live = True

    @on(Input.Changed, ".field")
    @on(TextArea.Changed, ".field")
    @on(Select.Changed, ".field")
    def _field_changed(self) -> None:
        """Live: a problem shows as it is typed and is gone once fixed."""
        if not self._live:
            return  # the form filling itself in on mount
        found = self.problem()
        if found is None:
            self.show_error("")
        else:
            self.show_error(found[0], found[1], focus=False)

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#save")
    def _save_pressed(self) -> None:
        self.action_save()

    def action_save(self) -> None:
        raise NotImplementedError

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self.show_error(str(event.worker.error))
            self.app.report_error(event.worker.error, event.worker.description or "")


class EditCandidateScreen(_Form):
    """Edit a candidate's content, type and confidence, then promote it."""

    def __init__(self, memory: MemoryRecord) -> None:
        super().__init__(classes="review-form")
        self.memory = memory

    def compose(self) -> ComposeResult:
        with Vertical(id="form"):
            yield Label(f"[b]Edit, then promote[/b]  ·  candidate {self.memory.id[:8]}", id="form-title")
            yield Label("content", classes="form-label")
            yield TextArea(self.memory.content, id="content", classes="field", soft_wrap=True,
                           tab_behavior="focus")
            with Horizontal(classes="form-row"):
                yield Label("type", classes="form-label")
                yield Select([(t, t) for t in MEMORY_TYPES], value=self.memory.memory_type,
                             allow_blank=False, id="memory-type", classes="field", compact=True)
                yield Label("confidence", classes="form-label")
                yield Input(f"{self.memory.confidence:g}", id="confidence", classes="field", compact=True,
                            placeholder="0 to 1")
            yield Label("", id="form-error")
            with Horizontal(classes="form-buttons"):
                yield Button("Promote with edits", id="save", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)
            yield KeyFooter(dialog=True)

    def on_mount(self) -> None:
        self.query_one("#form-error", Label).display = False
        self.query_one("#content", TextArea).focus()
        self.call_after_refresh(self._go_live)

    def problem(self) -> tuple[str, str | None] | None:
        try:
            self.values()
        except ValidationError as error:
            return str(error), getattr(error, "field", None)
        return None

    def values(self) -> dict:
        """The form's values, checked by the engine's validators (ValidationError names the field)."""
        fields: dict[str, object] = {}
        fields["content"] = validate_content(self.query_one("#content", TextArea).text)  # field "content"
        try:
            fields["memory_type"] = validate_memory_type(self.query_one("#memory-type", Select).value)
        except ValidationError as error:
            raise ValidationError(str(error), field="memory-type") from None  # the widget's id
        raw = self.query_one("#confidence", Input).value.strip()
        number: float | str
        try:
            number = float(raw)
        except ValueError:
            number = raw
        fields["confidence"] = validate_confidence(number)  # field "confidence"
        return fields

    def action_save(self) -> None:
        try:
            fields = self.values()
        except ValidationError as error:
            self.show_error(str(error), getattr(error, "field", None))
            return
        self.show_error("")
        self.save(fields)

    @work(thread=True, exclusive=True, group="review-edit", exit_on_error=False,
          description="promoting the edited candidate")
    def save(self, fields: dict) -> None:
        engine = self.app.engine
        try:
            with engine.db.connection_context():
                record = engine.review.edit_and_promote(self.memory.id, **fields)
        except AtoCoreError as error:
            self.app.call_from_thread(self.show_error, str(error))
            return
        self.app.call_from_thread(self.dismiss, record)


class GraduateScreen(_Form):
    """Propose a graph entity from a memory (the engine's proposal, editable)."""

    def __init__(self, memory: MemoryRecord, proposal: dict, projects: list[str]) -> None:
        super().__init__(classes="review-form")
        self.memory = memory
        self.proposal = proposal
        self.projects = projects

    def compose(self) -> ComposeResult:
        proposal = self.proposal
        project = proposal.get("project") or self.memory.project or None
        with Vertical(id="form"):
            yield Label(f"[b]Graduate to a graph entity[/b]  ·  memory {self.memory.id[:8]}", id="form-title")
            if self.memory.status == "candidate":
                yield Label("This memory is still a candidate. A graduated fact should be trusted, so it "
                            "is promoted to active as well (untick to leave it in the queue).",
                            classes="form-note")
                yield Checkbox("promote the memory too", value=True, id="promote", compact=True)
            yield Label("The entity is created as a candidate: promote it in the Graph pane and the "
                        "memory is marked graduated.", classes="form-note")
            with Horizontal(classes="form-row"):
                yield Label("type", classes="form-label")
                yield Select([(t, t) for t in vocab.ENTITY_TYPES], value=proposal["entity_type"],
                             allow_blank=False, id="entity-type", classes="field", compact=True)
                yield Label("project", classes="form-label")
                yield Select([(p, p) for p in self.projects], value=project if project in self.projects
                             else Select.NULL, prompt="choose a project", id="project", classes="field",
                             compact=True)
            yield Label("name", classes="form-label")
            yield Input(proposal["name"], id="name", classes="field", compact=True)
            yield Label("description", classes="form-label")
            yield TextArea(proposal.get("description") or "", id="description", classes="field",
                           soft_wrap=True, tab_behavior="focus")
            yield Label("", id="form-error")
            with Horizontal(classes="form-buttons"):
                yield Button("Graduate", id="save", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)
            yield KeyFooter(dialog=True)

    def on_mount(self) -> None:
        self.query_one("#form-error", Label).display = False
        self.query_one("#name", Input).focus()
        self.call_after_refresh(self._go_live)

    def problem(self) -> tuple[str, str | None] | None:
        if not isinstance(self.query_one("#project", Select).value, str):
            return "Choose the project the entity belongs to.", "project"
        try:
            vocab.entity_type(self.query_one("#entity-type", Select).value)
        except ValidationError as error:
            return str(error), "entity-type"
        try:
            vocab.name(self.query_one("#name", Input).value)
        except ValidationError as error:
            return str(error), "name"
        return None

    def action_save(self) -> None:
        if (found := self.problem()) is not None:
            self.show_error(*found)
            return
        project = self.query_one("#project", Select).value
        entity_type = vocab.entity_type(self.query_one("#entity-type", Select).value)
        name = vocab.name(self.query_one("#name", Input).value)
        promote = bool(self.query(Checkbox) and self.query_one("#promote", Checkbox).value)
        self.show_error("")
        self.save(entity_type, name, self.query_one("#description", TextArea).text, project, promote)

    @work(thread=True, exclusive=True, group="review-graduate", exit_on_error=False,
          description="graduating the memory")
    def save(self, entity_type: str, name: str, description: str, project: str, promote: bool) -> None:
        """Graduate first (it checks everything before writing), then promote."""
        engine = self.app.engine
        try:
            with engine.db.connection_context():
                entity = engine.graph.graduate(self.memory.id, entity_type=entity_type, name=name,
                                               description=description, project=project)
                promoted = engine.review.promote(self.memory.id) if promote else None
        except AtoCoreError as error:
            self.app.call_from_thread(self.show_error, str(error))
            return
        self.app.call_from_thread(self.dismiss, {"entity": entity, "promoted": promoted})


class PickMemoryScreen(ModalScreen[str | None]):
    """Choose one of a candidate's near memories (merge target, memory to supersede)."""

    CSS_PATH = "review.tcss"
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="review.pick.cancel", tooltip="Choose nothing")]

    def __init__(self, title: str, explanation: str, neighbours: list[Neighbour]) -> None:
        super().__init__(classes="review-form")
        self.title_text = title
        self.explanation = explanation
        self.neighbours = neighbours

    def compose(self) -> ComposeResult:
        with Vertical(id="form"):
            yield Label(f"[b]{self.title_text}[/b]", id="form-title")
            yield Label(self.explanation, classes="form-note")
            options = []
            for n in self.neighbours:
                line = Text()
                line.append("≈ likely duplicate " if n.likely_duplicate else "", style="bold")
                line.append(f"{n.score:.2f}  {n.memory.status:<9} {n.memory.memory_type:<10} ")
                line.append(n.memory.project or "(all projects)", style="italic")
                line.append("\n  " + n.memory.content)
                options.append(Option(line, id=n.memory.id))
            yield OptionList(*options, id="choices")
            yield KeyFooter(dialog=True)

    def on_mount(self) -> None:
        self.query_one("#choices", OptionList).focus()

    @on(OptionList.OptionSelected, "#choices")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
