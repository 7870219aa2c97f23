"""The Projects pane: the registry, each project's roots and counts, refresh.

The table lists every registered project and the projects that documents name
but nobody registered yet. Register and edit open a form that validates as you
type (the engine's proposal, in a worker); refresh and purge run the engine's
ingestion in a worker and feed a progress bar from its progress callback.
"""

from __future__ import annotations

import time

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.events import Resize
from textual.notifications import SeverityLevel
from textual.reactive import reactive
from textual.widgets import DataTable, Label, ProgressBar, Static

from .base import PaneScreen
from .projects_dialogs import ConfirmDialog, ImportDialog
from .projects_form import ProjectForm
from .projects_labels import LabelDialog

WIDE = 140
"""From this width the detail sits beside the table instead of under it."""
PROGRESS_INTERVAL = 0.05
"""Seconds between progress updates handed to the UI thread (the last always goes)."""


class ProjectsScreen(PaneScreen):
    PANE = "projects"
    TITLE = "Projects"
    CSS_PATH = "projects.tcss"
    BINDINGS = [
        Binding("n", "register", "Register", id="projects.register",
                tooltip="Register a new project (id, aliases, description, ingest roots)"),
        Binding("e", "edit", "Edit", id="projects.edit",
                tooltip="Edit the selected project's aliases, description and roots"),
        Binding("f", "refresh_project", "Refresh", id="projects.refresh",
                tooltip="Ingest every root of the selected project (new and changed notes)"),
        Binding("P", "purge", "Purge deleted", id="projects.purge",
                tooltip="Refresh the selected project and remove notes deleted from disk"),
        Binding("x", "export", "Export", id="projects.export",
                tooltip="Write the registry to its YAML file in the data dir"),
        Binding("I", "import_registry", "Import", id="projects.import",
                tooltip="Register or update projects from a registry YAML file"),
        Binding("a", "adopt_label", "Adopt label", id="projects.adopt_label",
                tooltip="Register the selected project label, or make it an alias of a project"),
    ]

    projects: reactive[list[dict]] = reactive(list, always_update=True)
    selected: reactive[dict | None] = reactive(None, bindings=True)
    busy = reactive(False, bindings=True)

    def __init__(self) -> None:
        super().__init__()
        self._wanted: str | None = None
        """A project to put the cursor on once the table is (re)loaded."""

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="projects-body"):
            with Vertical(id="registry-side"):
                yield DataTable(id="projects", cursor_type="row", zebra_stripes=True)
                with Horizontal(id="refresh-row"):
                    yield Label("", id="refresh-label")
                    yield ProgressBar(id="refresh-progress", show_eta=False)
            with VerticalScroll(id="project-detail"):
                yield Static("", id="detail")

    def on_mount(self) -> None:
        table = self.query_one("#projects", DataTable)
        table.add_column("project", key="id")
        table.add_column("aliases", key="aliases")
        table.add_column("roots", key="roots")
        table.add_column("docs", key="docs")
        table.add_column("chunks", key="chunks")
        table.add_column("last refresh", key="refreshed")
        table.add_column("registered", key="registered")
        self.query_one("#refresh-row").display = False
        self.query_one("#project-detail").border_title = "Project"
        table.focus()
        self.refresh_pane()

    def on_resize(self, event: Resize) -> None:
        self.set_class(self.size.width >= WIDE, "wide")

    def refresh_pane(self) -> None:
        self.load_projects()

    def show_item(self, kind: str, ref: str) -> None:
        if kind == "project":
            self._wanted = ref
            self.load_projects()

    # --------------------------------------------------------------- loading
    @work(thread=True, exclusive=True, group="projects-list", exit_on_error=False,
          description="loading the project registry")
    def load_projects(self) -> None:
        with self.engine.db.connection_context():
            listing = self.engine.projects.list()
            wanted = self._wanted
            if wanted:
                try:
                    wanted = self.engine.projects.resolve(wanted)
                except Exception:  # an unknown name just leaves the cursor where it is
                    wanted = None
        self.app.call_from_thread(self._show_projects, listing["projects"], wanted)

    def _show_projects(self, projects: list[dict], wanted: str | None = None) -> None:
        self._wanted = None
        table = self.query_one("#projects", DataTable)
        keep = wanted or (self.selected or {}).get("id")
        table.clear()
        for project in projects:
            table.add_row(*_row(project, self._tone), key=project["id"])
        self.projects = projects
        ids = [p["id"] for p in projects]
        if keep in ids:
            table.move_cursor(row=ids.index(keep))
        self._select_row(table.cursor_row)

    @on(DataTable.RowHighlighted, "#projects")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._select_row(event.cursor_row)

    def _select_row(self, row: int) -> None:
        self.selected = self.projects[row] if 0 <= row < len(self.projects) else None

    def watch_selected(self, project: dict | None) -> None:
        self.query_one("#detail", Static).update(_detail(project))
        self.query_one("#project-detail").border_title = project["id"] if project else "Project"

    # --------------------------------------------------------------- actions
    def _tone(self, name: str) -> str:
        """A theme colour for Rich text in the table (DataTable cells are Rich renderables)."""
        return self.app.theme_variables.get(name, "")

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action in ("edit", "refresh_project", "purge"):
            if self.busy and action != "edit":
                return None  # shown dimmed: a refresh is running
            return True if self.selected and self.selected["registered"] else None
        if action == "adopt_label":  # shown only on a label
            return bool(self.selected and self.selected.get("label"))
        return True

    def action_adopt_label(self) -> None:
        if not (self.selected and self.selected.get("label")):
            return
        registered = [p["id"] for p in self.projects if p["registered"]]
        self.app.push_screen(LabelDialog(self.selected["id"], registered), self._after_label)

    def _after_label(self, result: dict | None) -> None:
        if result:
            text = (f"Registered {result['label']} as a project." if result["action"] == "registered"
                    else f"{result['label']} is now an alias of {result['project']}.")
            self.notify(text, title="Projects")
            self._wanted = result["project"]
            self.load_projects()

    def action_register(self) -> None:
        self.app.push_screen(ProjectForm(), self._after_form)

    def action_edit(self) -> None:
        if self.selected and self.selected["registered"]:
            self.app.push_screen(ProjectForm(self.selected), self._after_form)

    def _after_form(self, saved: dict | None) -> None:
        if saved:
            self.notify(f"Saved project {saved['id']}.", title="Projects")
            self._wanted = saved["id"]
            self.load_projects()

    def action_refresh_project(self) -> None:
        if self.selected and self.selected["registered"] and not self.busy:
            self._start_refresh(self.selected["id"], purge_deleted=False)

    def action_purge(self) -> None:
        if not (self.selected and self.selected["registered"]) or self.busy:
            return
        pid = self.selected["id"]

        def confirmed(yes: bool | None) -> None:
            if yes:
                self._start_refresh(pid, purge_deleted=True)

        self.app.push_screen(ConfirmDialog(
            f"Refresh [b]{pid}[/b] and purge deleted notes?",
            "Notes that were deleted from disk are removed from the database with their chunks.",
            confirm="Purge"), confirmed)

    def _start_refresh(self, pid: str, purge_deleted: bool) -> None:
        self.busy = True
        self.query_one("#refresh-row").display = True
        self.query_one("#refresh-label", Label).update(f"{'purging' if purge_deleted else 'refreshing'} {pid}…")
        self.query_one("#refresh-progress", ProgressBar).update(total=None, progress=0)
        self.refresh_project(pid, purge_deleted)

    @work(thread=True, exclusive=True, group="projects-refresh", exit_on_error=False,
          description="refreshing the project")
    def refresh_project(self, pid: str, purge_deleted: bool) -> None:
        last = 0.0

        def progress(done: int, total: int, label: str) -> None:
            nonlocal last
            now = time.monotonic()
            if done >= total or now - last >= PROGRESS_INTERVAL:
                last = now
                self.app.call_from_thread(self._show_progress, done, total, label)

        with self.engine.db.connection_context():
            result = self.engine.projects.refresh(pid, purge_deleted=purge_deleted, progress=progress)
        self.app.call_from_thread(self._refreshed, result)

    def _show_progress(self, done: int, total: int, label: str) -> None:
        self.query_one("#refresh-progress", ProgressBar).update(total=max(total, 1), progress=done)
        self.query_one("#refresh-label", Label).update(Text(str(label), overflow="ellipsis", no_wrap=True))

    def _refreshed(self, result: dict) -> None:
        bar = self.query_one("#refresh-progress", ProgressBar)
        if bar.total is None:
            bar.update(total=1, progress=1)  # nothing to walk: done all the same
        else:
            bar.update(progress=bar.total)
        self.query_one("#refresh-label", Label).update(f"{result['project']}: {result['status']}")
        ingested = sum((r["summary"] or {}).get("ingested", 0) for r in result["roots"])
        unchanged = sum((r["summary"] or {}).get("unchanged", 0) for r in result["roots"])
        removed = sum(len((r["summary"] or {}).get("removed", [])) for r in result["roots"])
        message = f"{ingested} notes ingested, {unchanged} unchanged"
        if result["purge_deleted"]:
            message += f", {removed} removed"
        skipped = [r for r in result["roots"] if r["status"] == "skipped"]
        severity: SeverityLevel = "warning" if skipped else "information"
        if skipped:
            message += ". Skipped: " + "; ".join(r["reason"] for r in skipped)
        self.notify(message, title=f"Refreshed {result['project']}", severity=severity)
        self._wanted = result["project"]
        self.load_projects()

    def on_worker_state_changed(self, event) -> None:
        super().on_worker_state_changed(event)
        if event.worker.group == "projects-refresh" and event.worker.is_finished:
            self.busy = False
            # the bar goes with the work; the notification carries the summary
            self.query_one("#refresh-row").display = False

    def action_export(self) -> None:
        self.export_registry()

    def export_registry(self) -> None:
        projects = self.engine.projects
        self.run_engine(projects.export_yaml,
                        lambda _: self.notify(f"Wrote the registry to {projects.registry_path}", title="Exported"),
                        group="projects-export", description="exporting the registry", exclusive=False)

    def action_import_registry(self) -> None:
        self.app.push_screen(ImportDialog(), self._after_import)

    def _after_import(self, result: dict | None) -> None:
        if not result:
            return
        parts = [f"{len(result[k])} {k}" for k in ("created", "updated", "unchanged") if result[k]]
        self.notify(", ".join(parts) or "nothing in the file", title="Imported the registry")
        self.load_projects()


# ------------------------------------------------------------------ display
def _row(project: dict, tone) -> tuple:
    roots = project["ingest_roots"]
    ready = sum(1 for r in roots if r["exists"])
    if not roots:
        roots_cell = Text("none", style="dim")
    else:
        roots_cell = Text(f"{ready}/{len(roots)} ready",
                          style=tone("success") if ready == len(roots) else tone("error"))
    return (
        Text(project["id"], style="bold" if project["registered"] else "italic"),
        ", ".join(project["aliases"]) or Text("—", style="dim"),
        roots_cell,
        Text(str(project["documents"]), justify="right"),
        Text(str(project["chunks"]), justify="right"),
        project["last_refreshed_at"] or _never_refreshed(project),
        Text("yes", style=tone("success")) if project["registered"] else Text("no", style=tone("warning")),
    )


def _never_refreshed(project: dict) -> Text:
    """No refresh yet: say so, but not as if the project had no notes (the
    first start ingests the vault without refreshing each project)."""
    if project["documents"]:
        return Text("not yet (notes ingested)", style="dim")
    return Text("never", style="dim")


def _detail(project: dict | None) -> Content:
    if project is None:
        return Content.styled("No project selected. Press n to register one.", "dim")
    parts: list = [(project["id"], "bold")]
    if project["aliases"]:
        parts.append(("  also " + ", ".join(project["aliases"]), "dim"))
    parts.append("\n")
    if project["description"]:
        parts.append(project["description"] + "\n")
    parts.append("\n")
    counts = f"{project['documents']} documents · {project['chunks']} chunks\n"
    if project.get("label"):
        parts += [("A project label: clients of the original AtoCore wrote this name on memories, "
                   "project state or interactions; no note names it.\n"
                   "Press a to register it as a project or make it an alias of one.\n", "$warning")]
        return Content.assemble(*parts)
    if not project["registered"]:
        parts += [("Not registered: documents name this project in their front matter.\n"
                   "Press n to register it with its aliases and ingest roots.\n", "$warning"), "\n", counts]
        return Content.assemble(*parts)
    parts.append(("Ingest roots\n", "bold"))
    if not project["ingest_roots"]:
        parts.append(("  none: refresh has nothing to ingest\n", "dim"))
    for root in project["ingest_roots"]:
        ready = root["exists"]
        parts.append(("  ✓ " if ready else "  ✗ ", "$success" if ready else "$error"))
        parts.append(f"{root['source']}:{root['subpath'] or '.'}")
        if not ready:
            parts.append(("  missing", "$error"))
        if root["path"]:
            parts.append((f"\n    {root['path']}", "dim"))
        parts.append("\n")
    parts += ["\n", counts,
              (f"last refresh  {project['last_refreshed_at'] or _never_refreshed(project).plain}\n"
               f"registered    {project['created_at']}\n"
               f"updated       {project['updated_at']}\n", "dim")]
    return Content.assemble(*parts)
