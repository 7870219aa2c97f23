"""A project chooser whose options are the projects the engine knows."""

from __future__ import annotations

from textual import work
from textual.widgets import Select

from ..workers import TypedApp


class ProjectSelect(TypedApp, Select[str]):
    """Known projects (registered, or named by notes), loaded in a worker on
    mount and on :meth:`reload`; the current choice survives a reload."""

    def __init__(self, prompt: str, **kwargs) -> None:
        super().__init__([], prompt=prompt, compact=True, **kwargs)

    def on_mount(self) -> None:
        self.reload()

    @work(thread=True, exclusive=True, group="project-select", exit_on_error=False,
          description="loading projects")
    def reload(self) -> None:
        engine = self.app.engine
        with engine.db.connection_context():
            names = sorted(engine.projects.known())
        self.app.call_from_thread(self._show, names)

    def _show(self, names: list[str]) -> None:
        current = self.value
        self.set_options([(name, name) for name in names])
        if current in names:
            self.value = current
