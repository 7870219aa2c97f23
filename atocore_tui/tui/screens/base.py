"""What every pane shares: the engine, header and footer, error reporting."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer, Header
from textual.worker import Worker, WorkerState

if TYPE_CHECKING:
    from ...engine import Engine


class PaneScreen(Screen):
    """A pane: subclasses yield their body from :meth:`compose_body`."""

    PANE = ""

    @property
    def engine(self) -> "Engine":
        return self.app.engine

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        yield from self.compose_body()
        yield Footer()

    def compose_body(self) -> ComposeResult:
        yield from ()

    def refresh_pane(self) -> None:
        """Reload what the pane shows (after the first run, or data changed elsewhere)."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self.app.report_error(event.worker.error, event.worker.description or event.worker.name)
