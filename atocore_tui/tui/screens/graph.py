"""The Graph pane (being built)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Static

from .base import PaneScreen


class GraphScreen(PaneScreen):
    PANE = "graph"
    TITLE = "Graph"

    def compose_body(self) -> ComposeResult:
        yield Static("This pane is being built.", id="placeholder")
