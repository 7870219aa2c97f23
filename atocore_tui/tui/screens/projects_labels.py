"""Adopt a project label: register it as a project, or make it an alias.

A *label* is a project name that clients of the original AtoCore wrote on
memories, project state or interactions, that no note names and nobody
registered. This dialog is the one action the Projects pane offers for it
(key ``a``): register the label as a project of its own (its rows are already
under that id), or make it an alias of a registered project (its rows move
there). A refusal stays in the dialog; nothing is written.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Select, Static
from textual.worker import Worker, WorkerState

from ...errors import AtoCoreError
from ..workers import TypedApp


class LabelDialog(TypedApp, ModalScreen[dict | None]):
    """Dismisses with ``{"action": "registered" | "aliased", "label", "project"}``, or ``None``."""

    CSS_PATH = "projects.tcss"
    DEFAULT_CSS = """
    LabelDialog { align: center middle; }
    LabelDialog .dialog {
        width: 76; max-width: 100%; height: auto;
        border: thick $primary 60%; background: $surface; padding: 1 2;
    }
    LabelDialog .dialog-detail { color: $text-muted; margin: 1 0; }
    LabelDialog .form-label { color: $text-muted; }
    LabelDialog #label-target { margin-bottom: 1; }
    LabelDialog .problem { color: $error; height: auto; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel", tooltip="Close without changes")]

    def __init__(self, label: str, projects: list[str]) -> None:
        super().__init__()
        self.label = label
        self.projects = projects

    def compose(self) -> ComposeResult:
        with Vertical(id="label-dialog", classes="dialog"):
            yield Static(Content.assemble(("Project label ", "bold"), (self.label, "bold $accent")),
                         id="label-title")
            yield Static(Content(
                "Clients of the original AtoCore wrote this project name on memories, project "
                "state or interactions; no note names it and it is not registered."),
                classes="dialog-detail")
            yield Label("Make it an alias of", classes="form-label")
            yield Select([(p, p) for p in self.projects], prompt="a registered project", id="label-target",
                         compact=True)
            yield Static("", id="label-error", classes="problem")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Register as a project", id="register", variant="primary")
                yield Button("Make alias", id="alias", disabled=True)
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#label-error").display = False
        self.query_one("#register", Button).focus()

    @on(Select.Changed, "#label-target")
    def _target_changed(self, event: Select.Changed) -> None:
        self.query_one("#alias", Button).disabled = event.value is Select.BLANK

    @on(Button.Pressed, "#register")
    def _register(self) -> None:
        self._busy(True)
        self.adopt(None)

    @on(Button.Pressed, "#alias")
    def _alias(self) -> None:
        target = self.query_one("#label-target", Select).value
        if target is Select.BLANK:
            self._show_error("Choose the project this label is another name of.")
            return
        self._busy(True)
        self.adopt(str(target))

    @work(thread=True, exclusive=True, group="projects-label", exit_on_error=False,
          description="adopting the project label")
    def adopt(self, target: str | None) -> None:
        engine = self.app.engine
        try:
            with engine.db.connection_context():
                if target is None:
                    engine.projects.register(self.label)
                    result = {"action": "registered", "label": self.label, "project": self.label}
                else:
                    engine.projects.adopt_label(self.label, target)
                    result = {"action": "aliased", "label": self.label, "project": target}
        except AtoCoreError as error:
            self.app.call_from_thread(self._show_error, str(error))
            return
        self.app.call_from_thread(self.dismiss, result)

    def _busy(self, busy: bool) -> None:
        self.query_one("#register", Button).disabled = busy
        no_target = self.query_one("#label-target", Select).value is Select.BLANK
        self.query_one("#alias", Button).disabled = busy or no_target

    def _show_error(self, message: str) -> None:
        error = self.query_one("#label-error", Static)
        error.update(Content(f"✗ {message}"))
        error.display = True
        self._busy(False)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self._show_error(f"{type(event.worker.error).__name__}: {event.worker.error}")
            self.app.report_error(event.worker.error, "adopting the project label")
