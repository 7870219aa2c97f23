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
        width: 95%; max-width: 150; height: 90%;
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
            table: DataTable[str] = DataTable(id="keys", cursor_type="row", zebra_stripes=True)
            # the id (what a remap names) before the long description
            table.add_columns("key", "id", "where", "does")
            for where, key, does, binding_id in self.rows:
                table.add_row(key, binding_id, where, does)
            yield table


def readable_keys(app, keys: str) -> str:
    """``question_mark,f1`` -> ``? / f1``: keys as they are typed."""
    return " / ".join(app.get_key_display(Binding(key.strip(), "")) for key in keys.split(",") if key.strip())


def binding_rows(app) -> list[tuple[str, str, str, str]]:
    """(where, key, description, id) for the app's and every pane's bindings,
    with the user's keymap applied and keys written as typed."""
    from .screens.base import PaneScreen

    keymap = dict(app.keymap_overrides)
    rows: list[tuple[str, str, str, str]] = []

    def add(where: str, bindings) -> None:
        for binding in bindings:
            if isinstance(binding, Binding) and binding.description:
                key = keymap.get(binding.id or "", binding.key)
                rows.append((where, readable_keys(app, key), binding.tooltip or binding.description,
                             binding.id or ""))

    add("everywhere", app.BINDINGS)
    add("every pane", PaneScreen.BINDINGS)
    for mode, screen_class in app.MODES.items():
        add(mode, [b for b in getattr(screen_class, "BINDINGS", []) if b not in PaneScreen.BINDINGS])
    return rows
