"""``/`` in a pane: find rows of a table as you type (k9s, less, vim).

The bar opens above the footer; each keystroke moves the table's cursor to the
first row whose cells contain the text (any case), ``enter`` goes to the next
match, ``escape`` closes the bar and leaves the cursor where it is. Rows are
not hidden: the pane's own keys keep acting on real rows, and a reload from
the database cannot fight with a filter.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Input, Label


class FindBar(Horizontal):
    DEFAULT_CSS = """
    FindBar {
        dock: bottom;
        height: 1;
        display: none;
        background: $panel;
        padding: 0 1;
    }
    FindBar.-open { display: block; }
    FindBar > Label { width: auto; color: $accent; text-style: bold; }
    FindBar > Input { width: 1fr; }
    FindBar > #find-count { color: $text-muted; margin-left: 1; text-style: none; }
    """
    BINDINGS = [
        Binding("escape", "close", "Close find", id="find.close", tooltip="Close the find bar"),
        Binding("enter", "next", "Next match", id="find.next", tooltip="Go to the next matching row",
                show=True),
    ]

    def __init__(self) -> None:
        super().__init__(id="find-bar")
        self.table: DataTable | None = None

    def compose(self) -> ComposeResult:
        yield Label("/")
        yield Input(placeholder="find in the table", id="find-input", compact=True)
        yield Label("", id="find-count")

    def open(self, table: DataTable) -> None:
        self.table = table
        self.add_class("-open")
        field = self.query_one("#find-input", Input)
        field.value = ""
        self.query_one("#find-count", Label).update("")
        field.focus()

    def matches(self) -> list[int]:
        """Indexes of the rows whose cells contain the text, top to bottom."""
        text = self.query_one("#find-input", Input).value.strip().lower()
        table = self.table
        if not text or table is None or not table.is_attached:
            return []
        return [row for row in range(table.row_count)
                if any(text in str(cell).lower() for cell in table.get_row_at(row))]

    @on(Input.Submitted, "#find-input")
    def _submitted(self) -> None:
        self.action_next()

    @on(Input.Changed, "#find-input")
    def _typed(self) -> None:
        self._go(from_row=0)

    def action_next(self) -> None:
        if self.table is not None:
            self._go(from_row=self.table.cursor_row + 1)

    def _go(self, from_row: int) -> None:
        found = self.matches()
        count = self.query_one("#find-count", Label)
        text = self.query_one("#find-input", Input).value.strip()
        count.update(f"{len(found)} match" + ("" if len(found) == 1 else "es") if text else "")
        if not found or self.table is None:
            return
        target = next((row for row in found if row >= from_row), found[0])
        self.table.move_cursor(row=target)

    def action_close(self) -> None:
        self.remove_class("-open")
        if self.table is not None and self.table.is_attached:
            self.table.focus()
        self.table = None
