"""The register / edit form of the Projects pane.

Every edit restarts a short debounce; then a worker asks the engine for a
proposal (validation without writing) and each problem is shown under its
field. Save stays disabled until the latest proposal is valid, so nothing is
written while a problem is on screen.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.reactive import reactive
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Button, Input, Label, Static, TextArea
from textual.worker import Worker, WorkerState

from ...errors import AtoCoreError
from ..widgets.key_footer import KeyFooter
from ..workers import TypedApp

DEBOUNCE_SECONDS = 0.3
FIELDS = ("project_id", "aliases", "description", "ingest_roots")


class ProjectForm(TypedApp, ModalScreen[dict | None]):
    """Register a project (``project`` is None) or edit a registered one."""

    CSS_PATH = "projects.tcss"
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="projects.form.save",
                tooltip="Save the project (only when the form is valid)"),
        Binding("escape", "cancel", "Cancel", id="projects.form.cancel", tooltip="Close without saving"),
    ]

    valid = reactive(False)
    checking = reactive(True)
    saving = reactive(False)

    def __init__(self, project: dict | None = None) -> None:
        super().__init__()
        self.project = project
        self.problems: list[dict] = []
        self.touched: set[str] = set()
        self._show_all = False
        self._generation = 0
        self._timer: Timer | None = None

    @property
    def editing(self) -> bool:
        return self.project is not None

    def compose(self) -> ComposeResult:
        sources = ", ".join(self.app.engine.settings.configured_sources()) or "none configured"
        with Vertical(id="form-dialog"):
            yield Label(f"Edit project {self.project['id']}" if self.project is not None else "Register a project",
                        id="form-title")
            with VerticalScroll(id="form-fields"):
                yield Label("id", classes="form-label")
                yield Input(placeholder="my-project (lowercase letters, digits, dashes)", id="project_id",
                            disabled=self.editing, compact=True)
                yield Static("", id="problem-project_id", classes="problem")
                yield Label("aliases", classes="form-label")
                yield Input(placeholder="comma-separated, e.g. mp, my-proj", id="aliases", compact=True)
                yield Static("", id="problem-aliases", classes="problem")
                yield Label("description", classes="form-label")
                yield Input(placeholder="One line on what the project is", id="description", compact=True)
                yield Static("", id="problem-description", classes="problem")
                yield Label(f"ingest roots: one source:subpath per line (sources: {sources})",
                            classes="form-label")
                yield TextArea("", id="ingest_roots", tab_behavior="focus", show_line_numbers=False,
                               compact=True)
                yield Static("", id="problem-ingest_roots", classes="problem")
            with Horizontal(id="form-buttons"):
                yield Label("", id="form-status")
                yield Button("Save", id="save", variant="primary", disabled=True)
                yield Button("Cancel", id="cancel")
            yield KeyFooter(dialog=True)

    def on_mount(self) -> None:
        if self.project is not None:
            self.query_one("#project_id", Input).value = self.project["id"]
            self.query_one("#aliases", Input).value = ", ".join(self.project["aliases"])
            self.query_one("#description", Input).value = self.project["description"]
            roots = [f"{r['source']}:{r['subpath']}" for r in self.project["ingest_roots"]]
            self.query_one("#ingest_roots", TextArea).load_text("\n".join(roots))
            self.query_one("#aliases", Input).focus()
        else:
            self.query_one("#project_id", Input).focus()
        self.request_check()

    # ------------------------------------------------------------- values
    def values(self) -> dict:
        roots = [line.strip() for line in self.query_one("#ingest_roots", TextArea).text.splitlines()
                 if line.strip()]
        return {"project_id": self.query_one("#project_id", Input).value,
                "aliases": self.query_one("#aliases", Input).value,
                "description": self.query_one("#description", Input).value,
                "ingest_roots": roots}

    # ---------------------------------------------------------- validation
    @on(Input.Changed)
    @on(TextArea.Changed)
    def _changed(self, event: Input.Changed | TextArea.Changed) -> None:
        widget = event.input if isinstance(event, Input.Changed) else event.text_area
        if widget.id in FIELDS and widget.has_focus:
            self.touched.add(widget.id)
        self.checking = True
        self._generation += 1  # a result for older text must not enable Save
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(DEBOUNCE_SECONDS, self.request_check)

    def request_check(self) -> None:
        self._generation += 1
        self.checking = True
        self.check(self._generation, self.values())

    @work(thread=True, exclusive=True, group="project-proposal", exit_on_error=False,
          description="checking the project")
    def check(self, generation: int, values: dict) -> None:
        engine = self.app.engine
        with engine.db.connection_context():
            result = engine.projects.proposal(**values)
        problems = result["problems"]
        if self.editing:
            # The id is fixed when editing; the registry only says it is taken (by itself).
            problems = [p for p in problems if p["field"] != "project_id"]
        self.app.call_from_thread(self._checked, generation, problems)

    def _checked(self, generation: int, problems: list[dict]) -> None:
        if generation != self._generation:
            return  # the text changed since; a newer check is on its way
        self.problems = problems
        self.checking = False
        self.valid = not problems
        self._show_problems()

    def _show_problems(self) -> None:
        by_field: dict[str, list[str]] = {f: [] for f in FIELDS}
        for problem in self.problems:
            by_field.setdefault(problem["field"], []).append(problem["message"])
        for name in FIELDS:
            shown = by_field[name] if (self._show_all or name in self.touched) else []
            static = self.query_one(f"#problem-{name}", Static)
            static.update(Content("\n".join(f"✗ {m}" for m in shown)))
            static.display = bool(shown)
        self._update_status()

    def _update_status(self) -> None:
        status = self.query_one("#form-status", Label)
        if self.saving:
            status.update("saving…")
        elif self.checking:
            status.update("checking…")
        elif self.problems:
            count = len(self.problems)
            status.update(Content.styled(f"{count} problem{'s' if count > 1 else ''} to fix", "$error"))
        else:
            status.update(Content.styled("✓ ready to save", "$success"))
        self.query_one("#save", Button).disabled = not self.can_save

    @property
    def can_save(self) -> bool:
        return self.valid and not self.checking and not self.saving

    def watch_checking(self) -> None:
        self._update_status()

    def watch_valid(self) -> None:
        self._update_status()

    def watch_saving(self) -> None:
        self._update_status()

    # --------------------------------------------------------------- save
    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        if not self.can_save:
            self._show_all = True
            self._show_problems()
            self.notify("Fix the problems in the form first: nothing was saved." if self.problems
                        else "Still checking the form…", severity="warning")
            return
        self.saving = True
        self.save(self.values())

    @work(thread=True, exclusive=True, group="project-save", exit_on_error=False,
          description="saving the project")
    def save(self, values: dict) -> None:
        engine = self.app.engine
        try:
            with engine.db.connection_context():
                if self.project is not None:
                    saved = engine.projects.update(self.project["id"], aliases=values["aliases"],
                                                   description=values["description"],
                                                   ingest_roots=values["ingest_roots"])
                else:
                    saved = engine.projects.register(**values)
        except AtoCoreError as error:
            self.app.call_from_thread(self._save_failed, error)
            return
        self.app.call_from_thread(self.dismiss, saved)

    def _save_failed(self, error: AtoCoreError) -> None:
        self.saving = False
        self.app.report_error(error, "saving the project")
        self.query_one("#form-status", Label).update(Content.styled(str(error), "$error"))
        self.request_check()

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self.saving = False
            self.app.report_error(event.worker.error, event.worker.description or event.worker.name)
