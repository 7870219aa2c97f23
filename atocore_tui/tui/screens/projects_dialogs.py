"""Small dialogs of the Projects pane: confirm a purge, import a registry file."""

from __future__ import annotations

from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static
from textual.worker import Worker, WorkerState

from ...errors import AtoCoreError
from ..widgets.key_footer import KeyFooter
from ..workers import TypedApp


class ConfirmDialog(ModalScreen[bool]):
    """A yes/no question; y or enter confirms, n or escape cancels."""

    CSS_PATH = "projects.tcss"
    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="dialog.yes", tooltip="Confirm"),
        Binding("n,escape", "answer(False)", "No", id="dialog.no", tooltip="Cancel"),
    ]

    def __init__(self, question: str, detail: str = "", confirm: str = "OK") -> None:
        super().__init__()
        self.question = question
        self.detail = detail
        self.confirm = confirm

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-dialog", classes="dialog"):
            yield Static(Content.from_markup(self.question), id="confirm-question")
            if self.detail:
                yield Static(Content(self.detail), classes="dialog-detail")
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.confirm, id="yes", variant="warning")
                yield Button("Cancel", id="no")
            yield KeyFooter(dialog=True)

    def on_mount(self) -> None:
        self.query_one("#yes", Button).focus()

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


class ImportDialog(TypedApp, ModalScreen[dict | None]):
    """Ask for a registry YAML file and import it; a problem stays in the dialog."""

    CSS_PATH = "projects.tcss"
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel", tooltip="Close without importing")]

    def compose(self) -> ComposeResult:
        with Vertical(id="import-dialog", classes="dialog"):
            yield Label("Import a project registry", id="import-title")
            yield Label("YAML file (projects are registered or updated, all or nothing)", classes="form-label")
            yield Input(placeholder="path/to/projects.yaml", id="import-path")
            yield Static("", id="import-error", classes="problem")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Import", id="import", variant="primary")
                yield Button("Cancel", id="cancel")
            yield KeyFooter(dialog=True)

    def on_mount(self) -> None:
        self.query_one("#import-error").display = False
        self.query_one("#import-path", Input).focus()

    @on(Input.Submitted, "#import-path")
    @on(Button.Pressed, "#import")
    def _import(self) -> None:
        text = self.query_one("#import-path", Input).value.strip()
        if not text:
            self._show_error("Type the path of a registry YAML file.")
            return
        self.query_one("#import", Button).disabled = True
        self.run_import(Path(text))

    @work(thread=True, exclusive=True, group="projects-import", exit_on_error=False,
          description="importing the registry")
    def run_import(self, path: Path) -> None:
        engine = self.app.engine
        try:
            with engine.db.connection_context():
                result = engine.projects.import_yaml(path)
        except AtoCoreError as error:
            self.app.call_from_thread(self._show_error, str(error))
            return
        self.app.call_from_thread(self.dismiss, result)

    def _show_error(self, message: str) -> None:
        error = self.query_one("#import-error", Static)
        error.update(Content(f"✗ {message}"))
        error.display = True
        self.query_one("#import", Button).disabled = False

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self._show_error(f"{type(event.worker.error).__name__}: {event.worker.error}")
            self.app.report_error(event.worker.error, "importing the registry")
