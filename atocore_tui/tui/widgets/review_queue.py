"""The Review pane's queue: one row per candidate memory, keyed by its id."""

from __future__ import annotations

from rich.text import Text
from textual.coordinate import Coordinate
from textual.widgets import DataTable

from ...memory.review import ReviewItem


class QueueTable(DataTable[object]):
    """The candidates in queue order; a mark column for the bulk selection."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.add_column("", key="mark", width=1)
        self.add_column("type", key="type")
        self.add_column("project", key="project")
        self.add_column("conf", key="conf")
        self.add_column("ev", key="ev")
        self.add_column("≈", key="dup", width=1)
        self.add_column("candidate", key="content")

    def fill(self, items: list[ReviewItem], selected: set[str]) -> None:
        self.clear()
        for item in items:
            memory = item.memory
            self.add_row(_mark(memory.id in selected), memory.memory_type, memory.project or "—",
                         f"{memory.confidence:.2f}", str(item.evidence_score),
                         Text("≈" if item.likely_duplicate else " ", style="bold"),
                         one_line(memory.content, 200), key=memory.id)

    def mark(self, memory_id: str, selected: bool) -> None:
        self.update_cell(memory_id, "mark", _mark(selected))

    def key_at_cursor(self) -> str | None:
        """The memory id of the row under the cursor (None on an empty table)."""
        if self.row_count == 0:
            return None
        return self.coordinate_to_cell_key(Coordinate(self.cursor_row, 0)).row_key.value

    def place_cursor(self, position: int) -> bool:
        """Put the cursor on row ``position`` (kept within the table); False when empty."""
        if self.row_count == 0:
            return False
        self.move_cursor(row=max(0, min(position, self.row_count - 1)), scroll=True)
        return True


def _mark(selected: bool) -> Text:
    return Text("●" if selected else " ", style="bold")


def counters_text(left: int | None, shown: int, selected: int, done: int, order: str) -> Text:
    """The line over the queue: how many are left (None: still loading), selected, done."""
    text = Text()
    text.append(f"{'…' if left is None else left}", style="bold")
    text.append(" left")
    if left is not None and left > shown:
        text.append(f" (showing {shown})")
    text.append("  ·  ")
    text.append(str(selected), style="bold")
    text.append(" selected  ·  ")
    text.append(str(done), style="bold")
    text.append(" done this session  ·  order: ")
    text.append(order, style="bold")
    return text


def one_line(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit - 1].rstrip() + "…"
