"""What every pane shares: the engine, header and footer, error reporting."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.events import Click
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static

from ..widgets.find_bar import FindBar
from ..widgets.key_footer import KeyFooter
from ..workers import EngineCalls

if TYPE_CHECKING:
    from ...engine import Engine


PANE_KEYS = (("c", "context", "Context"), ("r", "review", "Review"), ("g", "graph", "Graph"),
             ("i", "interactions", "Interactions"), ("p", "projects", "Projects"))


class PaneBar(Static):
    """The panes and their keys, the current one marked: the map of the app.
    A click on a pane goes there, as its key does."""

    DEFAULT_CSS = """
    PaneBar {
        height: 1; padding: 0 1; background: $panel; color: $text-muted;
    }
    """

    def __init__(self, current: str) -> None:
        parts: list[Content | str] = []
        self._spots: list[tuple[int, int, str]] = []  # (start, end, mode) for clicks
        column = 0
        for key, mode, title in PANE_KEYS:
            if mode == current:
                part = Content.styled(f" {key} {title} ", "reverse $accent")
            else:
                part = Content.assemble((key, "bold $accent"), f" {title}")
            self._spots.append((column, column + len(part), mode))
            parts += [part, "  "]
            column += len(part) + 2
        parts.append(Content.styled(" f1 keys · ctrl+p palette", "dim"))
        super().__init__(Content.assemble(*parts))

    async def on_click(self, event: Click) -> None:
        """A click on a pane goes there, as its key does."""
        offset = event.get_content_offset(self)
        if offset is None:
            return
        for start, end, mode in self._spots:
            if start <= offset.x < end:
                await self.app.run_action(f"switch_mode('{mode}')")
                return


class PaneScreen(EngineCalls, Screen):
    """A pane: subclasses yield their body from :meth:`compose_body`.

    Engine calls go through :meth:`run_engine` (a thread worker, the result
    handed back on the UI thread, stale results dropped); a failing worker
    becomes a notification.

    A pane follows changes made elsewhere (the server, the CLI, another pane):
    the app polls the engine's change token every second and the pane on screen
    reloads when it moved (keeping its cursor); a pane out of sight reloads
    when it comes back, only if something changed meanwhile. ``f5`` reloads by
    hand.
    """

    PANE = ""
    BINDINGS = [
        Binding("f5", "reload_pane", "Reload", id="pane.reload",
                tooltip="Reload what this pane shows from the database"),
        Binding("slash", "find", "Find", id="pane.find",
                tooltip="Find rows of the table as you type (enter: next match, escape: close)"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._seen_token: int | None = None

    @property
    def engine(self) -> Engine:
        return self.app.engine

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        yield PaneBar(self.PANE)
        yield from self.compose_body()
        yield FindBar()
        yield KeyFooter()

    def compose_body(self) -> ComposeResult:
        yield from ()

    def refresh_pane(self) -> None:
        """Reload what the pane shows (after the first run, or data changed elsewhere)."""

    def action_reload_pane(self) -> None:
        self._seen_token = self.app.data_token
        self.refresh_pane()

    def action_find(self) -> None:
        """``/``: find in the focused table (or the pane's first table on screen)."""
        table = self.focused if isinstance(self.focused, DataTable) else None
        if table is None:
            shown = [t for t in self.query(DataTable) if t.is_on_screen and t.row_count]
            table = shown[0] if shown else None
        if table is None:
            self.notify("No table to search here.", severity="warning")
            return
        self.query_one(FindBar).open(table)

    def follow_changes(self, token: int | None) -> None:
        """Reload if the database changed since this pane last loaded."""
        if self._seen_token is None:
            self._seen_token = token  # the pane's own on_mount loads it
        elif token != self._seen_token:
            self._seen_token = token
            self.refresh_pane()

    def on_mount(self) -> None:
        self.follow_changes(self.app.data_token)

    def on_screen_resume(self) -> None:
        """Coming back to a pane shows today's data if the server, the CLI or
        another pane changed it meanwhile."""
        if self.is_mounted:
            self.app.poll_changes()  # a fresh look, not the last second's
            self.follow_changes(self.app.data_token)
