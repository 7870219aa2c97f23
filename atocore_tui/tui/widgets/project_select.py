"""A project chooser whose options are the projects the engine knows."""

from __future__ import annotations

from textual.widgets import Select

from ..workers import EngineCalls


class ProjectSelect(EngineCalls, Select[str]):
    """Known projects (registered, or named by notes), loaded in a worker on
    mount and on :meth:`reload`; the current choice survives a reload."""

    def __init__(self, prompt: str, **kwargs) -> None:
        super().__init__([], prompt=prompt, compact=True, **kwargs)

    def on_mount(self) -> None:
        self.reload()

    def reload(self) -> None:
        projects = self.app.engine.projects
        self.run_engine(lambda: sorted(projects.known()), self._show,
                        group="project-select", description="loading projects")

    def _show(self, names: list[str]) -> None:
        current = self.value
        self.set_options([(name, name) for name in names])
        if current in names:
            self.value = current
