import yaml
from textual.widgets import Button, DataTable, Input, ProgressBar, Static, TextArea

from atocore_tui.store.models import Document, Project, ProjectAlias
from atocore_tui.tui.screens.projects import ProjectsScreen
from atocore_tui.tui.screens.projects_dialogs import ConfirmDialog, ImportDialog
from atocore_tui.tui.screens.projects_form import DEBOUNCE_SECONDS, ProjectForm

from .conftest import open_pane, settle


async def open_projects(pilot) -> ProjectsScreen:
    return await open_pane(pilot, "p", ProjectsScreen)


async def type_into(pilot, selector: str, text: str, *, clear: bool = False) -> None:
    widget = pilot.app.screen.query_one(selector)
    widget.focus()
    await pilot.pause()
    if clear:
        if isinstance(widget, Input):
            widget.value = ""
        else:
            widget.load_text("")
    await pilot.press(*[("enter" if c == "\n" else "space" if c == " " else c) for c in text])
    await pilot.pause(DEBOUNCE_SECONDS + 0.2)
    await settle(pilot)


def table_ids(screen) -> list[str]:
    table = screen.query_one("#projects", DataTable)
    return [row.value for row in table.rows]


async def test_register_with_a_validation_error_then_fix_it(app, tui_engine):
    async with app.run_test(size=(100, 32), notifications=True) as pilot:
        screen = await open_projects(pilot)
        before = Project.select().count()
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, ProjectForm)
        await type_into(pilot, "#project_id", "Bad Id")
        problem = form.query_one("#problem-project_id", Static)
        assert problem.display and "invalid project id" in str(problem.render())
        assert form.query_one("#save", Button).disabled
        await pilot.press("ctrl+s")  # refused: nothing is written
        await settle(pilot)
        assert app.screen is form
        assert Project.select().count() == before

        await type_into(pilot, "#project_id", "rover-arm", clear=True)
        await type_into(pilot, "#aliases", "arm, ra")
        await type_into(pilot, "#description", "Robot arm of the rover")
        await type_into(pilot, "#ingest_roots", "vault:knowledge")
        assert not form.query_one("#problem-project_id", Static).display
        assert not form.query_one("#save", Button).disabled
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen
        assert Project.select().count() == before + 1
        saved = Project.get_by_id("rover-arm")
        assert saved.description == "Robot arm of the rover"
        assert saved.ingest_roots == [{"source": "vault", "subpath": "knowledge"}]
        assert {a.alias for a in ProjectAlias.select().where(ProjectAlias.project == "rover-arm")} == {"arm", "ra"}
        assert "rover-arm" in table_ids(screen)
        assert screen.selected["id"] == "rover-arm"


async def test_inline_problems_for_roots_and_aliases(app, tui_engine):
    async with app.run_test(size=(100, 32), notifications=True) as pilot:
        await open_projects(pilot)
        before = Project.select().count()
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        await type_into(pilot, "#project_id", "new-one")
        await type_into(pilot, "#aliases", "odu")  # orion-drive's alias
        await type_into(pilot, "#ingest_roots", "vault:projects/orion-drive/sub\nnowhere:x")
        aliases = str(form.query_one("#problem-aliases", Static).render())
        roots = str(form.query_one("#problem-ingest_roots", Static).render())
        assert "already an alias of project 'orion-drive'" in aliases
        assert "overlaps" in roots and "unknown source 'nowhere'" in roots
        assert form.query_one("#save", Button).disabled
        await pilot.press("escape")
        await settle(pilot)
        assert Project.select().count() == before


async def test_edit_a_project(app, tui_engine):
    async with app.run_test(size=(100, 32), notifications=True) as pilot:
        screen = await open_projects(pilot)
        table = screen.query_one("#projects", DataTable)
        table.move_cursor(row=table_ids(screen).index("orion-drive"))
        await pilot.pause()
        assert screen.selected["id"] == "orion-drive"
        await pilot.press("e")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, ProjectForm) and form.editing
        assert form.query_one("#project_id", Input).disabled
        assert form.query_one("#aliases", Input).value == "odu, odu-100, orion"
        assert form.query_one("#ingest_roots", TextArea).text == "vault:projects/orion-drive"
        await pilot.pause(DEBOUNCE_SECONDS + 0.2)
        await settle(pilot)
        assert not form.query_one("#save", Button).disabled  # unchanged is valid
        await type_into(pilot, "#description", "In-wheel drive, rev B", clear=True)
        await type_into(pilot, "#aliases", ", rover-drive")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen
        row = Project.get_by_id("orion-drive")
        assert row.description == "In-wheel drive, rev B"
        assert tui_engine.projects.resolve("rover-drive") == "orion-drive"
        assert "In-wheel drive, rev B" in str(screen.query_one("#detail", Static).render())


async def test_refresh_a_project_with_progress(app, tui_engine):
    async with app.run_test(size=(100, 32), notifications=True) as pilot:
        screen = await open_projects(pilot)
        table = screen.query_one("#projects", DataTable)
        table.move_cursor(row=table_ids(screen).index("coldplate"))
        await pilot.pause()
        assert Project.get_by_id("coldplate").last_refreshed_at is None
        seen: list[tuple] = []
        original = screen._show_progress

        def spy(done, total, label):
            seen.append((done, total))
            original(done, total, label)

        screen._show_progress = spy
        await pilot.press("f")
        await settle(pilot)
        await settle(pilot)
        bar = screen.query_one("#refresh-progress", ProgressBar)
        assert seen and seen[-1][0] == seen[-1][1]  # the engine's callback reached its total
        assert bar.total is not None and bar.progress == bar.total
        assert Project.get_by_id("coldplate").last_refreshed_at is not None
        assert screen.selected["id"] == "coldplate" and screen.selected["last_refreshed_at"]
        assert not screen.busy and screen.check_action("refresh_project", ()) is True
        assert not screen.query_one("#refresh-row").display  # 10. the bar goes with the work


async def test_purge_asks_first(app, tui_engine, tmp_path):
    async with app.run_test(size=(100, 32), notifications=True) as pilot:
        screen = await open_projects(pilot)
        table = screen.query_one("#projects", DataTable)
        table.move_cursor(row=table_ids(screen).index("coldplate"))
        await pilot.pause()
        docs = Document.select().where(Document.project == "coldplate").count()
        await pilot.press("P")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("n")  # changed my mind: nothing runs
        await settle(pilot)
        assert app.screen is screen and Project.get_by_id("coldplate").last_refreshed_at is None
        await pilot.press("P")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot)
        await settle(pilot)
        assert Project.get_by_id("coldplate").last_refreshed_at is not None
        assert Document.select().where(Document.project == "coldplate").count() == docs


async def test_export_and_import_the_registry(app, tui_engine, tmp_path):
    async with app.run_test(size=(100, 32), notifications=True) as pilot:
        screen = await open_projects(pilot)
        path = tui_engine.projects.registry_path
        path.unlink()
        await pilot.press("x")
        await settle(pilot)
        exported = yaml.safe_load(path.read_text())
        assert [p["id"] for p in exported["projects"]] == ["coldplate", "orion-drive"]

        await pilot.press("I")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ImportDialog)
        await type_into(pilot, "#import-path", str(tmp_path / "missing.yaml"))
        await pilot.press("enter")
        await settle(pilot)
        error = dialog.query_one("#import-error", Static)
        assert app.screen is dialog and error.display and "not found" in str(error.render())

        bad = tmp_path / "bad.yaml"
        bad.write_text("version: 1\nprojects:\n  - id: Bad Id\n")
        await type_into(pilot, "#import-path", str(bad), clear=True)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is dialog and "invalid project id" in str(error.render())

        good = tmp_path / "good.yaml"
        good.write_text("version: 1\nprojects:\n  - id: lab-notes\n    aliases: [lab]\n"
                        "    description: Lab notebook\n    ingest_roots: []\n")
        await type_into(pilot, "#import-path", str(good), clear=True)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen
        assert Project.get_by_id("lab-notes").description == "Lab notebook"
        assert "lab-notes" in table_ids(screen)


async def test_labels_are_listed_and_adopted_in_one_action(app, tui_engine):
    """Project names written by clients of the original (labels) show in the
    table; ``a`` registers one or makes it an alias of a registered project."""
    from textual.widgets import Select

    from atocore_tui.store.models import Memory
    from atocore_tui.tui.screens.projects_labels import LabelDialog

    tui_engine.memories.create("project", "The p05 interferometer uses a HeNe laser", "p05", new_label=True)
    tui_engine.interactions.record("cold plate inlet?", project="plate-x", new_label=True)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        screen = await open_projects(pilot)
        assert {"p05", "plate-x"} <= set(table_ids(screen))
        table = screen.query_one("#projects", DataTable)
        table.move_cursor(row=table_ids(screen).index("coldplate"))
        await pilot.pause()
        await pilot.press("a")  # a registered project is no label: nothing opens
        await pilot.pause()
        assert app.screen is screen

        table.move_cursor(row=table_ids(screen).index("p05"))
        await pilot.pause()
        assert "project label" in str(screen.query_one("#detail", Static).render())
        await pilot.press("a")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, LabelDialog)
        assert dialog.query_one("#alias", Button).disabled  # no target chosen yet
        await pilot.click("#register")
        await settle(pilot)
        assert app.screen is screen and Project.get_by_id("p05")
        assert tui_engine.projects.labels() == ["plate-x"]

        table.move_cursor(row=table_ids(screen).index("plate-x"))
        await pilot.pause()
        await pilot.press("a")
        await settle(pilot)
        dialog = app.screen
        dialog.query_one("#label-target", Select).value = "coldplate"
        await pilot.pause()
        await pilot.click("#alias")
        await settle(pilot)
        assert app.screen is screen
        assert ProjectAlias.get_by_id("plate-x").project_id == "coldplate"
        assert "plate-x" not in table_ids(screen) and tui_engine.projects.labels() == []
        assert Memory.select().where(Memory.project == "p05").count() == 1
