"""Command palette providers: panes, projects, memories, entities.

They add to Textual's own commands (themes, keys, quit). Look-ups that touch
the database run in a thread from ``startup`` so the palette opens at once.
"""

from __future__ import annotations

import asyncio
from functools import partial
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from .app import AtoCoreApp

PANES = {
    "projects": "Projects — registry, roots, refresh",
    "context": "Context — preview the pack for a prompt",
    "review": "Review — triage candidate memories",
    "graph": "Graph — entities, impact, gaps, conflicts",
    "interactions": "Interactions — the log of LLM round-trips",
}


class _Provider(Provider):
    @property
    def workstation(self) -> AtoCoreApp:
        """The app, typed (a provider's ``app`` is any Textual app to a type checker)."""
        return cast("AtoCoreApp", self.app)


class PaneCommands(_Provider):
    async def discover(self) -> Hits:
        for mode, help_text in PANES.items():
            yield DiscoveryHit(f"Go to {mode.capitalize()}", partial(self.app.switch_mode, mode),
                               help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for mode, help_text in PANES.items():
            title = f"Go to {mode.capitalize()}"
            if (score := matcher.match(title)) > 0:
                yield Hit(score, matcher.highlight(title), partial(self.app.switch_mode, mode),
                          help=help_text)


class _LookupProvider(_Provider):
    """A provider whose items come from the engine, loaded once per palette."""

    items: list[tuple[str, str, str]] = []

    def load(self) -> list[tuple[str, str, str]]:
        """(title, help, ref) rows; runs in a thread."""
        return []

    async def startup(self) -> None:
        def load() -> list[tuple[str, str, str]]:
            with self.workstation.engine.db.connection_context():
                return self.load()

        self.items = await asyncio.to_thread(load)

    def open(self, ref: str) -> None:
        raise NotImplementedError

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, ref in self.items:
            if (score := matcher.match(title)) > 0:
                yield Hit(score, matcher.highlight(title), partial(self.open, ref), help=help_text)


class ProjectCommands(_LookupProvider):
    def load(self):
        engine = self.workstation.engine
        return [(f"Project {pid}", "build packs for this project in the Context pane", pid)
                for pid in sorted(engine.projects.known())]

    def open(self, ref: str) -> None:
        self.workstation.open_item("project", ref)


class MemoryCommands(_LookupProvider):
    def load(self):
        return self.workstation.engine.palette_items("memory")

    def open(self, ref: str) -> None:
        self.workstation.open_item("memory", ref)


class EntityCommands(_LookupProvider):
    def load(self):
        return self.workstation.engine.palette_items("entity")

    def open(self, ref: str) -> None:
        self.workstation.open_item("entity", ref)
