"""App-wide behaviour: themes, key remapping, the palette, first run, errors."""

import json

from textual.theme import Theme

from atocore_tui.engine import Engine
from atocore_tui.store.models import Document, Memory
from atocore_tui.tui import make_app
from atocore_tui.tui.commands import EntityCommands, MemoryCommands, PaneCommands, ProjectCommands
from atocore_tui.tui.screens.graph import GraphScreen
from atocore_tui.tui.themes import BUNDLED_THEMES, load_themes, parse_theme

from ..conftest import SAMPLE_VAULT, make_settings, write
from .conftest import open_pane, record_notifications, settle, wait_until


def test_bundled_themes_are_valid_and_bad_files_are_reported(tmp_path):
    themes, problems = load_themes(BUNDLED_THEMES)
    names = {t.name for t in themes}
    assert {"atocore-dark", "atocore-light"} <= names and problems == []
    assert all(isinstance(t, Theme) for t in themes)
    write(tmp_path / "broken.yaml", "name: Bad Name\nprimary: '#fff'\n")
    write(tmp_path / "nocolour.yaml", "name: no-colour\nprimary: not-a-colour\n")
    write(tmp_path / "yamlerr.yaml", "name: [\n")
    write(tmp_path / "good.yaml", "name: my-green\nprimary: '#2e7d32'\ndark: false\n")
    themes, problems = load_themes(tmp_path)
    assert [t.name for t in themes] == ["my-green"]
    assert sorted(p.path.name for p in problems) == ["broken.yaml", "nocolour.yaml", "yamlerr.yaml"]
    assert "line 2: invalid YAML" in str(next(p for p in problems if p.path.name == "yamlerr.yaml"))
    assert parse_theme(tmp_path / "good.yaml").dark is False


async def test_bad_theme_file_is_a_notification_and_the_choice_persists(tui_engine, tmp_path):
    write(tmp_path / "themes" / "bad.yaml", "name: bad\nprimary: nope\n")
    tui_engine.settings.tui.themes_dir = tmp_path / "themes"
    tui_engine.settings.tui.theme = ""
    app = make_app(engine=tui_engine, run_first_run=False)
    shown = record_notifications(app)
    async with app.run_test(size=(100, 32), notifications=True) as pilot:
        await settle(pilot)
        assert any("bad.yaml" in n.message for n in shown)
        assert app.theme == "atocore-dark"
        app.theme = "atocore-light"
        await pilot.pause()
    saved = json.loads((tui_engine.data_dir / "workstation.json").read_text())
    assert saved["theme"] == "atocore-light"
    again = make_app(engine=tui_engine, run_first_run=False)
    assert again.theme == "atocore-light"


async def test_keys_are_remappable_by_binding_id(sample_data):
    engine = Engine(make_settings(sample_data, SAMPLE_VAULT,
                                  **{"tui.keymap": {"review.promote": "y", "pane.review": "R"}}))
    try:
        app = make_app(engine=engine, run_first_run=False)
        async with app.run_test(size=(100, 32)) as pilot:
            await settle(pilot)
            await pilot.press("escape", "R")
            await settle(pilot)
            assert app.current_mode == "review"
            candidates = Memory.select().where(Memory.status == "candidate").count()
            await pilot.press("y")
            await settle(pilot)
            assert Memory.select().where(Memory.status == "candidate").count() == candidates - 1
    finally:
        engine.close()


async def test_palette_providers_find_panes_projects_memories_entities(app):
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        screen = app.screen
        found = {}
        for provider_class, query in ((PaneCommands, "review"), (ProjectCommands, "orion"),
                                      (MemoryCommands, "Braycote"), (EntityCommands, "housing")):
            provider = provider_class(screen)
            await provider.startup()
            found[provider_class.__name__] = [str(hit.text) async for hit in provider.search(query)]
        assert any("Review" in t for t in found["PaneCommands"])
        assert any("orion-drive" in t for t in found["ProjectCommands"])
        assert any("Braycote" in t for t in found["MemoryCommands"])
        assert any("housing" in t.lower() for t in found["EntityCommands"])


async def test_first_start_on_an_empty_data_dir_ingests_with_progress(tmp_path):
    engine = Engine(make_settings(tmp_path / "fresh", SAMPLE_VAULT))
    try:
        app = make_app(engine=engine)
        shown = record_notifications(app)
        async with app.run_test(size=(100, 32), notifications=True) as pilot:
            for _ in range(200):
                await pilot.pause(0.1)
                if Document.select().count() and not len(app.workers):
                    break
            await settle(pilot)
            assert Document.select().count() >= 25
            assert Memory.select().count() > 0
            assert any("Ingested" in n.message for n in shown)
    finally:
        engine.close()


async def test_engine_errors_become_notifications(app, tui_engine):
    """A pane's worker that fails (an engine error, or any other) ends in a
    notification saying what could not be finished; the app runs on."""
    shown = record_notifications(app)

    def boom():
        raise ValueError("boom")

    def errors() -> list[tuple[str, str]]:
        return [(n.title, n.message) for n in shown if n.severity == "error"]

    async with app.run_test(size=(100, 32), notifications=True) as pilot:
        screen = await open_pane(pilot, "g", GraphScreen)
        screen.show_item("entity", "no-such-entity")
        await wait_until(pilot, lambda: len(errors()) == 1)  # (settle would raise the worker's error)
        tui_engine.graph.alerts = boom
        await pilot.press("l")
        await wait_until(pilot, lambda: len(errors()) == 2)
        assert app.is_running and app.screen is screen
    assert errors() == [("Could not finish finding the entity", "unknown entity: no-such-entity"),
                        ("Could not finish loading alerts", "ValueError: boom")]


async def test_coming_back_to_a_pane_shows_data_changed_elsewhere(app, tui_engine):
    from textual.widgets import DataTable

    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        app.switch_mode("interactions")
        await settle(pilot)
        log = app.screen.query_one("#log", DataTable)
        before = log.row_count
        tui_engine.interactions.record("a question asked through the server", project="coldplate")
        app.switch_mode("context")
        await settle(pilot)
        app.switch_mode("interactions")
        await settle(pilot)
        assert app.screen.query_one("#log", DataTable).row_count == before + 1
