"""One chunk an interaction used: its text and where it comes from."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static, TextArea

from ..widgets.key_footer import KeyFooter


class ChunkScreen(ModalScreen[None]):
    CSS_PATH = "interactions.tcss"
    BINDINGS = [Binding("escape,q", "dismiss", "Close", id="interactions.chunk.close",
                        tooltip="Close the chunk")]

    def __init__(self, chunk: dict) -> None:
        super().__init__(classes="chunk-view")
        self.chunk = chunk

    def compose(self) -> ComposeResult:
        chunk = self.chunk
        source = Text()
        source.append(chunk["title"] or chunk["path"], style="bold")
        source.append(f"\n{chunk['source']}:{chunk['path']}  lines {chunk['line_start']}–{chunk['line_end']}"
                      f"  ·  project {chunk['project'] or '—'}")
        if chunk["heading_path"]:
            source.append(f"\n{chunk['heading_path']}", style="italic")
        source.append(f"\nchunk {chunk['chunk_id']}", style="dim")
        with Vertical(id="chunk-box"):
            yield Static(source, id="chunk-source")
            yield TextArea(chunk["content"], id="chunk-content", read_only=True, soft_wrap=True)
            yield KeyFooter(dialog=True)

    def on_mount(self) -> None:
        self.query_one("#chunk-content", TextArea).focus()
