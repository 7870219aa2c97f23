from textual.widgets import DataTable, Input, Label, Select, Static, TabbedContent, TextArea

from atocore_tui.store.models import Chunk, Memory
from atocore_tui.tui.screens.interactions import InteractionsScreen
from atocore_tui.tui.screens.interactions_chunk import ChunkScreen
from atocore_tui.tui.screens.review import ReviewScreen

from .conftest import open_pane, row_keys, settle


async def open_interactions(pilot) -> InteractionsScreen:
    return await open_pane(pilot, "i", InteractionsScreen)


def log_ids(screen) -> list[str]:
    table = screen.query_one("#log", DataTable)
    return row_keys(table)


def used_keys(screen) -> list[str]:
    table = screen.query_one("#used", DataTable)
    return row_keys(table)


def active_memory_ids(n: int, offset: int = 0) -> list[str]:
    rows = Memory.select(Memory.id).where(Memory.status == "active").order_by(Memory.created_at, Memory.id)
    return [row.id for row in rows.offset(offset).limit(n)]


async def test_find_which_memories_the_last_interaction_used(app, tui_engine):
    older_memories, newer_memories = active_memory_ids(2), active_memory_ids(3, offset=2)
    chunk = Chunk.select().first()
    tui_engine.interactions.record("which bearings on the output stage?", project="orion-drive",
                                   client="claude-code", memories_used=older_memories)
    last = tui_engine.interactions.record("what is the gearbox ratio?", project="orion-drive", client="cursor",
                                          response="48:1 in two stages.", memories_used=newer_memories,
                                          chunks_used=[chunk.chunk_id])
    async with app.run_test(size=(100, 32), notifications=True) as pilot:
        screen = await open_interactions(pilot)
        ids = log_ids(screen)
        assert ids[0] == last["id"] and len(ids) == 2  # newest first
        assert screen.detail["id"] == last["id"]
        assert used_keys(screen) == [f"memory:{m}" for m in newer_memories] + [f"chunk:{chunk.chunk_id}"]
        assert "what is the gearbox ratio?" in str(screen.query_one("#prompt", Static).render())
        # enter on a memory opens it in the Review pane
        await pilot.press("u")  # focus the used list
        assert screen.query_one("#used", DataTable).has_focus
        await pilot.press("enter")
        await settle(pilot)
        await settle(pilot)
        assert isinstance(app.screen, ReviewScreen)
        assert newer_memories[0][:8] in str(app.screen.query_one("#card", Static).render())


async def test_enter_on_a_chunk_shows_its_content_and_source(app, tui_engine):
    chunk = Chunk.select().where(Chunk.content.contains("Braycote")).first()
    tui_engine.interactions.record("grease?", chunks_used=[chunk.chunk_id])
    async with app.run_test(size=(100, 32), notifications=True) as pilot:
        screen = await open_interactions(pilot)
        await pilot.press("u", "enter")
        await settle(pilot)
        view = app.screen
        assert isinstance(view, ChunkScreen)
        assert view.query_one("#chunk-content", TextArea).text == chunk.content
        assert chunk.document.path in str(view.query_one("#chunk-source", Static).render())
        await pilot.press("escape")
        assert app.screen is screen


async def test_filters_narrow_and_a_bad_since_keeps_the_list(app, tui_engine):
    tui_engine.interactions.record("drive question", project="orion-drive", client="claude-code", session_id="s1")
    tui_engine.interactions.record("plate question", project="coldplate", client="cursor", session_id="s2")
    tui_engine.interactions.record("another plate question", project="coldplate", client="claude-code",
                                   session_id="s2")
    async with app.run_test(size=(100, 32), notifications=True) as pilot:
        screen = await open_interactions(pilot)
        assert len(log_ids(screen)) == 3
        screen.query_one("#project", Select).value = "coldplate"
        await settle(pilot)
        coldplate = log_ids(screen)
        assert len(coldplate) == 2
        assert all(screen.summaries[i]["project"] == "coldplate" for i in coldplate)
        await pilot.press("f")  # the client filter
        await pilot.press(*"cursor", "enter")
        await settle(pilot)
        assert [screen.summaries[i]["prompt"] for i in log_ids(screen)] == ["plate question"]
        kept = log_ids(screen)
        since = screen.query_one("#since", Input)
        since.focus()
        await pilot.press(*"22 April", "enter")
        await settle(pilot)
        assert log_ids(screen) == kept  # the list is unchanged
        assert since.has_class("-invalid")
        status = screen.query_one("#log-status", Label)
        assert status.has_class("-error") and "since" in str(status.render())
        since.value = "2000-01-01"
        await pilot.press("enter")  # enter applies the filters and goes back to the log
        await settle(pilot)
        assert not since.has_class("-invalid") and log_ids(screen) == kept
        since.value = "2999-01-01"
        since.focus()
        await pilot.press("enter")
        await settle(pilot)
        assert log_ids(screen) == [] and screen.detail is None


async def test_replay_of_an_unchanged_pack_shows_no_changes(app, tui_engine):
    pack = tui_engine.context.build("what grease did we choose for the gearbox", "orion-drive")
    tui_engine.interactions.record(pack.prompt, project="orion-drive", client="atocore-tui",
                                   memories_used=pack.memories_used, context_pack=pack.to_dict())
    async with app.run_test(size=(100, 32), notifications=True) as pilot:
        screen = await open_interactions(pilot)
        assert screen.query_one("#pack", TextArea).text == pack.formatted_context
        await pilot.press("R")
        await settle(pilot)
        assert screen.query_one("#detail-tabs", TabbedContent).active == "tab-replay"
        assert "No changes" in str(screen.query_one("#replay", Static).render())


async def test_replay_without_a_recorded_pack_says_so(app, tui_engine):
    tui_engine.interactions.record("no pack here", client="cli")
    async with app.run_test(size=(100, 32), notifications=True) as pilot:
        screen = await open_interactions(pilot)
        assert "no recorded pack" in str(screen.query_one("#pack-status", Label).render())
        await pilot.press("R")
        await settle(pilot)
        assert "Nothing to replay" in str(screen.query_one("#replay", Static).render())


async def test_replay_shows_what_changed_since(app, tui_engine):
    pack = tui_engine.context.build("what grease did we choose for the gearbox", "orion-drive")
    recorded = tui_engine.interactions.record(pack.prompt, project="orion-drive", context_pack=pack.to_dict())
    used = pack.memories_used[0]
    tui_engine.memories.invalidate(used)
    async with app.run_test(size=(100, 32), notifications=True) as pilot:
        screen = await open_interactions(pilot)
        assert screen.detail["id"] == recorded["id"]
        await pilot.press("R")
        await settle(pilot)
        text = str(screen.query_one("#replay", Static).render())
        assert "No changes" not in text and "− memory" in text


async def test_show_item_selects_the_interaction_even_behind_filters(app, tui_engine):
    first = tui_engine.interactions.record("first", project="orion-drive")
    tui_engine.interactions.record("second", project="coldplate")
    async with app.run_test(size=(100, 32), notifications=True) as pilot:
        screen = await open_interactions(pilot)
        screen.show_item("interaction", first["id"])
        await settle(pilot)
        assert screen.detail["id"] == first["id"]
        screen.query_one("#project", Select).value = "coldplate"
        await settle(pilot)
        assert screen.detail["id"] != first["id"]
        app.open_item("interaction", first["id"][:8])
        await settle(pilot)
        await settle(pilot)
        assert screen.detail["id"] == first["id"] and screen.query_one("#project", Select).is_blank()


async def test_layouts(app, tui_engine):
    tui_engine.interactions.record("a question", project="orion-drive")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_interactions(pilot)
        assert screen.has_class("narrow")
        assert screen.query_one("#log").region.height >= 4
        assert screen.query_one("#detail-tabs").region.height >= 8


async def test_wide_layout(app, tui_engine):
    tui_engine.interactions.record("a question", project="orion-drive")
    async with app.run_test(size=(200, 60)) as pilot:
        screen = await open_interactions(pilot)
        assert not screen.has_class("narrow")
        assert screen.query_one("#detail-tabs").region.x > screen.query_one("#log").region.x
