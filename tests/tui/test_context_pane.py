from textual.widgets import DataTable, Select, TextArea

from atocore_tui.store.models import Interaction
from atocore_tui.tui.screens.context import ContextScreen
from atocore_tui.tui.widgets.tier_bars import TierBars

from .conftest import settle


async def type_prompt(pilot, text: str) -> None:
    prompt = pilot.app.screen.query_one("#prompt", TextArea)
    prompt.focus()
    await pilot.press(*list(text))
    await pilot.pause(0.5)  # the debounce
    await settle(pilot)


async def test_preview_a_pack_and_read_the_bars(app):
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ContextScreen)
        select = app.screen.query_one("#project", Select)
        select.value = "orion-drive"
        await type_prompt(pilot, "what grease did we choose for the gearbox")
        pack = app.screen.pack
        assert pack is not None and pack.project == "orion-drive"
        rows = app.screen.query_one("#bars", TierBars).rows()
        assert [r["tier"] for r in rows] == [1, 2, 3, 4, 5, 6]
        state = rows[0]
        assert state["used"] > 0 and state["included"] > 0  # project state is in
        assert sum(r["used"] for r in rows) == pack.total_chars <= pack.budget
        receipt = app.screen.query_one("#receipt", DataTable)
        assert receipt.row_count == sum(len(t.items) for t in pack.tiers)
        assert "Braycote" in app.screen.query_one("#pack", TextArea).text


async def test_budget_change_rebuilds_and_bad_budget_warns(app):
    async with app.run_test(size=(100, 32), notifications=True) as pilot:
        await settle(pilot)
        await type_prompt(pilot, "cold plate pressure drop")
        first = app.screen.pack
        budget = app.screen.query_one("#budget")
        budget.value = "800"
        await pilot.pause(0.5)
        await settle(pilot)
        assert app.screen.pack is not first and app.screen.pack.budget == 800
        assert app.screen.pack.total_chars <= 800


async def test_record_the_pack_as_an_interaction(app, tui_engine):
    async with app.run_test(size=(100, 32), notifications=True) as pilot:
        await settle(pilot)
        before = Interaction.select().count()
        await type_prompt(pilot, "which channel layout for the cold plate")
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert Interaction.select().count() == before + 1
        recorded = Interaction.select().order_by(Interaction.created_at.desc()).first()
        assert recorded.client == "atocore-tui"
        assert recorded.context_pack["formatted_context"] == app.screen.pack.formatted_context


async def test_save_and_copy_the_full_prompt(app, tui_engine):
    async with app.run_test(size=(100, 32), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+s")  # no pack yet: a warning, nothing written
        await settle(pilot)
        assert not (tui_engine.data_dir / "exports").exists()
        await type_prompt(pilot, "bolt preload")
        await pilot.press("ctrl+s")
        await settle(pilot)
        saved = list((tui_engine.data_dir / "exports").glob("prompt-*.md"))
        assert len(saved) == 1 and "bolt preload" in saved[0].read_text()
        await pilot.press("ctrl+o")
        assert app.clipboard == app.screen.pack.full_prompt


async def test_pane_keys_and_help(app):
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        await pilot.press("escape")  # leave the prompt editor
        for key, mode in (("r", "review"), ("g", "graph"), ("i", "interactions"), ("p", "projects"),
                          ("c", "context")):
            await pilot.press(key)
            await pilot.pause()
            assert app.current_mode == mode
        await pilot.press("escape", "f1")
        await pilot.pause()
        table = app.screen.query_one("#keys", DataTable)
        assert table.row_count >= 10


async def test_typing_in_the_prompt_does_not_switch_panes(app):
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        await type_prompt(pilot, "great gear ratio")
        assert app.current_mode == "context"
        assert app.screen.query_one("#prompt", TextArea).text == "great gear ratio"


async def test_pane_keys_wait_while_a_dialog_is_open(app):
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        await pilot.press("escape", "f1")
        await pilot.pause()
        await pilot.press("r")
        await pilot.pause()
        assert app.current_mode == "context"
        await pilot.press("escape", "r")
        await pilot.pause()
        assert app.current_mode == "review"
