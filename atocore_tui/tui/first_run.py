"""First start on an empty data dir: ingest the vault (with a progress bar)
and load what it ships in ``.atocore/``, in a worker, before the panes fill."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, ProgressBar

from .workers import TypedApp


class FirstRunScreen(TypedApp, ModalScreen[dict | None]):
    DEFAULT_CSS = """
    FirstRunScreen { align: center middle; }
    FirstRunScreen > Vertical {
        width: 70; height: auto; border: round $primary; background: $surface; padding: 1 2;
    }
    FirstRunScreen ProgressBar { margin-top: 1; }
    #first-run-file { color: $text-muted; }
    """

    def compose(self) -> ComposeResult:
        sources = ", ".join(str(p) for p in self.app.engine.settings.configured_sources().values())
        with Vertical():
            yield Label(f"[b]First start[/b] — ingesting {sources}")
            yield ProgressBar(id="first-run-progress", show_eta=False)
            yield Label("", id="first-run-file")

    def on_mount(self) -> None:
        self.ingest_vault()

    def _progress(self, done: int, total: int, label: str) -> None:
        self.app.call_from_thread(self._show_progress, done, total, label)

    def _show_progress(self, done: int, total: int, label: str) -> None:
        self.query_one(ProgressBar).update(total=total, progress=done)
        self.query_one("#first-run-file", Label).update(label[-64:])

    @work(thread=True, exit_on_error=False, group="first-run", description="the first ingestion")
    def ingest_vault(self) -> None:
        from ..ops.first_run import first_run

        engine = self.app.engine
        try:
            with engine.db.connection_context():
                result = first_run(engine, self._progress)
        except Exception as error:  # reported, and the app stays usable
            self.app.call_from_thread(self.app.report_error, error, "the first ingestion")
            self.app.call_from_thread(self.dismiss, None)
            return
        self.app.call_from_thread(self.dismiss, result)
