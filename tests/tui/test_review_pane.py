from textual.widgets import Checkbox, DataTable, Input, Label, Select, Static

from atocore_tui.store.models import Entity, Memory
from atocore_tui.tui.screens.review import ReviewScreen
from atocore_tui.tui.screens.review_forms import EditCandidateScreen, GraduateScreen, PickMemoryScreen

from .conftest import open_pane, row_keys, settle


async def open_review(pilot) -> ReviewScreen:
    return await open_pane(pilot, "r", ReviewScreen)


def queue_ids(screen: ReviewScreen) -> list[str]:
    table = screen.query_one("#queue", DataTable)
    return row_keys(table)


def status(memory_id: str) -> str:
    return Memory.get_by_id(memory_id).status


def graduated_from(memory_id: str) -> list[Entity]:
    return [e for e in Entity.select() if f"memory:{memory_id}" in (e.source_refs or [])]


def counters(screen: ReviewScreen) -> str:
    return str(screen.query_one("#counters", Label).render())


async def test_clear_five_candidates_with_keys_only(app):
    async with app.run_test(size=(100, 32), notifications=True) as pilot:
        screen = await open_review(pilot)
        ids = queue_ids(screen)
        assert len(ids) == 7 and all(status(i) == "candidate" for i in ids)
        assert screen.current.memory.id == ids[0]
        # promote, reject, promote, skip one, reject, promote — typed without waiting
        await pilot.press("a", "x", "a", "n", "x", "a")
        await settle(pilot)
        assert [status(i) for i in ids] == ["active", "invalid", "active", "candidate", "invalid", "active",
                                            "candidate"]
        assert queue_ids(screen) == [ids[3], ids[6]]
        assert screen.current.memory.id == ids[6]  # the cursor stayed at the same position
        text = counters(screen)
        assert "2 left" in text and "5 done this session" in text


async def test_undo_walks_back_across_memories(app):
    async with app.run_test(size=(100, 32), notifications=True) as pilot:
        screen = await open_review(pilot)
        ids = queue_ids(screen)
        assert screen.check_action("undo", ()) is None  # nothing to undo yet
        await pilot.press("a")
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)
        assert (status(ids[0]), status(ids[1])) == ("active", "invalid")
        await pilot.press("u")
        await settle(pilot)
        assert (status(ids[0]), status(ids[1])) == ("active", "candidate")
        assert screen.current.memory.id == ids[1]  # the restored candidate is selected
        await pilot.press("u")
        await settle(pilot)
        assert (status(ids[0]), status(ids[1])) == ("candidate", "candidate")
        assert queue_ids(screen) == ids and "0 done this session" in counters(screen)
        assert screen.check_action("undo", ()) is None


async def test_edit_with_bad_confidence_writes_nothing_then_promotes(app):
    async with app.run_test(size=(100, 32), notifications=True) as pilot:
        screen = await open_review(pilot)
        first = screen.current.memory
        await pilot.press("e")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, EditCandidateScreen)
        form.query_one("#confidence", Input).value = "1.5"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form  # still open
        error = form.query_one("#form-error", Label)
        assert error.display and "confidence must be a number from 0 to 1" in str(error.render())
        assert form.query_one("#confidence", Input).has_class("-invalid")
        row = Memory.get_by_id(first.id)
        assert (row.status, row.confidence, row.memory_type) == ("candidate", first.confidence, first.memory_type)
        form.query_one("#confidence", Input).value = "abc"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form and Memory.get_by_id(first.id).status == "candidate"
        form.query_one("#confidence", Input).value = "0.9"
        form.query_one("#memory-type", Select).value = "knowledge"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen
        row = Memory.get_by_id(first.id)
        assert (row.status, row.confidence, row.memory_type) == ("active", 0.9, "knowledge")
        assert first.id not in queue_ids(screen)


async def test_bulk_select_then_promote_and_reject(app):
    async with app.run_test(size=(100, 32), notifications=True) as pilot:
        screen = await open_review(pilot)
        ids = queue_ids(screen)
        await pilot.press("space", "n", "space")  # select 0, skip 1, select 2
        await pilot.pause()
        assert screen.selected == {ids[0], ids[2]} and "2 selected" in counters(screen)
        await pilot.press("a")
        await settle(pilot)
        assert [status(i) for i in ids[:3]] == ["active", "candidate", "active"]
        assert screen.selected == set() and "2 done this session" in counters(screen)
        assert queue_ids(screen) == [ids[1], *ids[3:]]
        await pilot.press("k", "space", "space", "x")  # back to the first row, select two, reject
        await settle(pilot)
        assert [status(i) for i in (ids[1], ids[3])] == ["invalid", "invalid"]
        await pilot.press("u")  # one undo step reverts the whole bulk decision
        await settle(pilot)
        assert [status(i) for i in (ids[1], ids[3])] == ["candidate", "candidate"]


async def test_merge_into_a_near_duplicate(app, tui_engine):
    gearbox = Memory.get(Memory.content.startswith("The ODU-100 gearbox is a two-stage planetary with"))
    async with app.run_test(size=(100, 32), notifications=True) as pilot:
        screen = await open_review(pilot)
        screen.show_item("memory", gearbox.id)
        await settle(pilot)
        assert screen.current.memory.id == gearbox.id
        target = screen.current.neighbours[0].memory
        assert target.content.startswith("The ODU-100 gearbox is a two-stage planetary, 48:1")
        await pilot.press("m")
        await settle(pilot)
        assert isinstance(app.screen, PickMemoryScreen)
        await pilot.press("enter")  # the nearest memory is highlighted first
        await settle(pilot)
        assert status(gearbox.id) == "superseded"
        merged = Memory.get_by_id(target.id)
        assert merged.status == "active" and merged.content == target.content
        assert merged.confidence == max(target.confidence, gearbox.confidence)
        assert gearbox.id not in queue_ids(screen)
        await pilot.press("u")
        await settle(pilot)
        assert status(gearbox.id) == "candidate" and Memory.get_by_id(target.id).confidence == target.confidence


async def test_supersede_an_older_memory(app):
    async with app.run_test(size=(100, 32), notifications=True) as pilot:
        screen = await open_review(pilot)
        candidate = screen.current.memory
        await pilot.press("s")
        await settle(pilot)
        picker = app.screen
        assert isinstance(picker, PickMemoryScreen)
        old_id = picker.neighbours[0].memory.id
        await pilot.press("enter")
        await settle(pilot)
        assert (status(candidate.id), status(old_id)) == ("active", "superseded")


async def test_graduate_promotes_then_proposes_an_entity(app):
    coldplate = Memory.get(Memory.content.startswith("The C-sample cold plate shall be brazed"))
    async with app.run_test(size=(100, 32), notifications=True) as pilot:
        screen = await open_review(pilot)
        screen.show_item("memory", coldplate.id)
        await settle(pilot)
        await pilot.press("G")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, GraduateScreen)
        assert form.query_one("#entity-type", Select).value == "requirement"
        assert form.query_one("#project", Select).value == "coldplate"
        assert form.query_one("#promote", Checkbox).value is True
        form.query_one("#name", Input).value = "   "
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form and "name must not be blank" in str(form.query_one("#form-error").render())
        assert not graduated_from(coldplate.id)
        form.query_one("#name", Input).value = "C-sample brazing"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen
        [entity] = graduated_from(coldplate.id)
        assert (entity.name, entity.entity_type, entity.project, entity.status) == (
            "C-sample brazing", "requirement", "coldplate", "candidate")
        assert status(coldplate.id) == "active"


async def test_graduating_a_cross_project_memory_asks_for_a_project(app):
    async with app.run_test(size=(100, 32), notifications=True) as pilot:
        screen = await open_review(pilot)
        memory = screen.current.memory
        assert memory.project == ""
        await pilot.press("G")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, GraduateScreen)
        assert "Choose the project" in str(form.query_one("#form-error").render())
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen and status(memory.id) == "candidate"


async def test_evidence_order_and_show_item_of_an_active_memory(app, tui_engine):
    recorded = tui_engine.interactions.record(
        "Which fitting do we use on the CP-200 inlet?", project="coldplate", client="claude-code",
        response="We decided to use a 1/4 inch quick disconnect on the CP-200 inlet.")
    [new_id] = recorded["candidates"]
    async with app.run_test(size=(100, 32), notifications=True) as pilot:
        screen = await open_review(pilot)
        assert queue_ids(screen)[-1] == new_id  # oldest first
        await pilot.press("o")
        await settle(pilot)
        assert screen.order == "evidence" and queue_ids(screen)[0] == new_id
        assert "most evidenced first" in counters(screen)
        assert screen.current.memory.id == new_id
        evidence = str(screen.query_one("#evidence", Static).render())
        assert recorded["id"][:8] in evidence and "quick disconnect" in evidence
        active = Memory.get(Memory.status == "active")
        screen.show_item("memory", active.id)
        await settle(pilot)
        assert screen.current is None
        assert "ACTIVE" in str(screen.query_one("#card", Static).render())
        assert screen.check_action("promote", ()) is None  # nothing to act on
        await pilot.press("n")  # back to the queue
        await pilot.pause()
        assert screen.current is not None


async def test_open_item_from_elsewhere_selects_the_candidate(app):
    last = Memory.select().where(Memory.status == "candidate").order_by(Memory.created_at.desc()).first()
    async with app.run_test(size=(100, 32), notifications=True) as pilot:
        await settle(pilot)
        app.open_item("memory", last.id)
        await settle(pilot)
        await settle(pilot)
        assert isinstance(app.screen, ReviewScreen) and app.screen.current.memory.id == last.id


async def test_narrow_layout_stacks(app):
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_review(pilot)
        assert screen.has_class("narrow")
        assert screen.query_one("#queue").region.height >= 5
        assert screen.query_one("#detail").region.height >= 8


async def test_wide_layout_side_by_side(app):
    async with app.run_test(size=(200, 60)) as pilot:
        screen = await open_review(pilot)
        assert not screen.has_class("narrow")
        assert screen.query_one("#detail").region.x > screen.query_one("#queue").region.x
