"""The key map, from the bindings themselves (so a remapped key shows as remapped)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close", id="help.close",
                        tooltip="Close the key map")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 90%; max-width: 110; height: 85%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    HelpScreen DataTable { height: auto; }
    """

    def __init__(self, rows: list[tuple[str, str, str, str]]) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Label("[b]Keys[/b] — remap any of them by id in the config file "
                        "(tui.keymap: {review.promote: y})")
            table = DataTable(id="keys", cursor_type="row", zebra_stripes=True)
            table.add_columns("where", "key", "does", "id")
            for row in self.rows:
                table.add_row(*row)
            yield table


def binding_rows(app) -> list[tuple[str, str, str, str]]:
    """(where, key, description, id) for the app's and every pane's bindings,
    with the user's keymap applied."""
    keymap = dict(app.keymap_overrides)
    rows: list[tuple[str, str, str, str]] = []

    def add(where: str, bindings) -> None:
        for binding in bindings:
            if isinstance(binding, Binding) and binding.description:
                key = keymap.get(binding.id or "", binding.key)
                rows.append((where, key, binding.tooltip or binding.description, binding.id or ""))

    add("everywhere", app.BINDINGS)
    for mode, screen_class in app.MODES.items():
        add(mode, getattr(screen_class, "BINDINGS", []))
    return rows
