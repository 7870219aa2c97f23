"""The Projects pane (being built)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Static

from .base import PaneScreen


class ProjectsScreen(PaneScreen):
    PANE = "projects"
    TITLE = "Projects"

    def compose_body(self) -> ComposeResult:
        yield Static("This pane is being built.", id="placeholder")
