import threading

from textual.widgets import DataTable, OptionList, TabbedContent, Tree

from atocore_tui.store.models import Alert, Conflict, Entity
from atocore_tui.tui.screens.graph import LOADING, GraphScreen
from atocore_tui.tui.screens.graph_resolve import ResolveDialog

from .conftest import open_pane, settle, wait_until


async def open_graph(pilot) -> GraphScreen:
    return await open_pane(pilot, "g", GraphScreen)


async def select_project(pilot, name: str) -> None:
    tree = pilot.app.screen.query_one("#tree", Tree)
    tree.focus()
    for _ in range(len(tree.root.children)):
        if tree.cursor_node is not None and tree.cursor_node.data.project == name:
            break
        await pilot.press("down")
    await settle(pilot)
    assert tree.cursor_node.data.kind == "project" and tree.cursor_node.data.project == name
    assert pilot.app.screen.project == name


async def test_find_the_orphan_requirements_of_a_project(app, tui_engine):
    async with app.run_test(size=(100, 32), notifications=True) as pilot:
        screen = await open_graph(pilot)
        await select_project(pilot, "orion-drive")
        await pilot.press("a")
        await settle(pilot)
        assert screen.query_one("#views", TabbedContent).active == "tab-gaps"
        expected = tui_engine.graph.gaps("orion-drive")
        wanted = [item["name"] for item in expected["orphan_requirements"]]
        assert len(wanted) == 2
        assert screen.gap_names("orphan_requirements") == wanted
        assert screen.gap_names("risky_decisions") == [i["name"] for i in expected["risky_decisions"]]
        assert screen.gap_names("unsupported_claims") == [i["name"] for i in expected["unsupported_claims"]]
        # each item carries its why, and enter on it opens the entity
        options = screen.query_one("#gaps", OptionList)
        assert "nothing active SATISFIES it" in str(options.get_option(
            f"orphan_requirements:{expected['orphan_requirements'][0]['id']}").prompt)
        first_orphan = expected["orphan_requirements"][0]["id"]
        options.highlighted = options.get_option_index(f"orphan_requirements:{first_orphan}")
        await pilot.press("enter")
        await settle(pilot)
        assert screen.entity["id"] == expected["orphan_requirements"][0]["id"]
        assert screen.query_one("#tree", Tree).cursor_node.data.entity_id == screen.entity["id"]


async def test_resolve_a_conflict_keeping_a_winner(app, tui_engine):
    async with app.run_test(size=(100, 32), notifications=True) as pilot:
        screen = await open_graph(pilot)
        await select_project(pilot, "orion-drive")
        await pilot.press("x")
        await settle(pilot)
        conflict = tui_engine.graph.conflicts("orion-drive", status="open")[0]
        assert conflict["subject"]["name"] == "ODU-110 housing"
        options = screen.query_one("#conflicts", OptionList)
        assert options.has_focus and options.get_option_at_index(options.highlighted).id == conflict["id"]
        await pilot.press("enter")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ResolveDialog)
        winner = next(m["id"] for m in conflict["members"] if m["name"].startswith("7075-T6"))
        loser = next(m["id"] for m in conflict["members"] if m["id"] != winner)
        dialog.choose("supersede_others", winner)
        await pilot.pause()
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen
        row = Conflict.get_by_id(conflict["id"])
        assert row.status == "resolved" and row.resolution == f"supersede_others:{winner}"
        alert = Alert.get(Alert.source == f"conflict:{conflict['id']}")
        assert alert.acknowledged
        statuses = {e.id: e.status for e in Entity.select().where(Entity.id.in_([winner, loser]))}
        assert statuses == {winner: "active", loser: "superseded"}  # as the original's supersede_others
        assert "No open conflicts." in str(options.get_option_at_index(0).prompt)


async def test_supersede_others_needs_a_winner(app, tui_engine):
    async with app.run_test(size=(100, 32), notifications=True) as pilot:
        screen = await open_graph(pilot)
        await pilot.press("x")  # the first project (coldplate) has none
        await settle(pilot)
        assert screen.project == "coldplate"
        await pilot.press("s")
        await pilot.pause()
        assert app.screen is screen
        await select_project(pilot, "orion-drive")
        await pilot.press("x", "s")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ResolveDialog)
        await pilot.press("ctrl+s")  # supersede_others is preselected, no winner
        await pilot.pause()
        assert app.screen is dialog
        assert "Choose the winner" in str(dialog.query_one("#resolve-problem").render())
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen
        assert Conflict.select().where(Conflict.status == "open").count() == 1


async def test_the_tree_loads_entities_lazily(app, tui_engine):
    async with app.run_test(size=(100, 32)) as pilot:
        screen = await open_graph(pilot)
        await select_project(pilot, "orion-drive")
        tree = screen.query_one("#tree", Tree)
        project_node = tree.cursor_node
        assert not project_node.is_expanded
        await pilot.press("space")  # expand the project: its entity types
        await settle(pilot)
        types = [n.data.entity_type for n in project_node.children]
        assert "requirement" in types and types.index("system") < types.index("requirement")
        requirement = next(n for n in project_node.children if n.data.entity_type == "requirement")
        assert requirement.data.state == "unloaded" and not requirement.children
        tree.move_cursor(requirement)
        await pilot.pause()
        gate = threading.Event()
        entities = tui_engine.graph.entities

        def held_entities(**kwargs):
            gate.wait(10)
            return entities(**kwargs)

        tui_engine.graph.entities = held_entities  # hold the worker until we have looked
        await pilot.press("space")
        await pilot.pause()
        assert [str(c.label) for c in requirement.children] == [LOADING]
        assert requirement.data.state == "loading"
        gate.set()
        await settle(pilot)
        tui_engine.graph.entities = entities
        expected = tui_engine.graph.entities(project="orion-drive", entity_type="requirement")
        assert requirement.data.state == "loaded"
        assert sorted(c.data.entity_id for c in requirement.children) == sorted(e["id"] for e in expected)
        await pilot.press("down")  # the first requirement: its detail
        await settle(pilot)
        first = requirement.children[0].data.entity_id
        assert screen.entity["id"] == first
        detail = tui_engine.graph.entity(first)
        relations = screen.query_one("#relations", DataTable)
        assert relations.row_count == len(detail["outgoing"]) + len(detail["incoming"])


async def test_impact_view_with_depth(app, tui_engine):
    async with app.run_test(size=(100, 32)) as pilot:
        screen = await open_graph(pilot)
        screen.show_item("entity", "odu-if-chassis")
        await settle(pilot)
        await settle(pilot)
        tree = screen.query_one("#tree", Tree)
        assert tree.cursor_node.data.entity_id == "odu-if-chassis"
        await pilot.press("t")
        await settle(pilot)
        assert screen.query_one("#views", TabbedContent).active == "tab-impact"
        impact = tui_engine.graph.impact("odu-if-chassis", 3)
        table = screen.query_one("#impact", DataTable)
        assert table.row_count == impact["count"] > 0
        assert [str(table.get_row_at(i)[3]) for i in range(table.row_count)] == [
            r["name"] if len(r["name"]) <= 40 else r["name"][:39] + "…" for r in impact["reached"]]
        await pilot.press("minus")
        await settle(pilot)
        assert screen.depth == 2
        assert table.row_count == tui_engine.graph.impact("odu-if-chassis", 2)["count"] < impact["count"]
        # enter on a reached entity opens it
        table.focus()
        await pilot.press("enter")
        await settle(pilot)
        await settle(pilot)
        assert screen.entity["id"] == impact["reached"][0]["id"]


async def test_evidence_and_promote_a_candidate(app, tui_engine):
    candidate = Entity.get((Entity.project == "orion-drive") & (Entity.status == "candidate"))
    async with app.run_test(size=(100, 32), notifications=True) as pilot:
        screen = await open_graph(pilot)
        screen.show_item("entity", candidate.id)
        await settle(pilot)
        await settle(pilot)
        assert screen.entity["id"] == candidate.id
        assert screen.check_action("promote", ()) is True
        await pilot.press("v")
        await settle(pilot)
        evidence = tui_engine.graph.evidence(candidate.id)
        assert screen.query_one("#evidence", DataTable).row_count == evidence["count"]
        await pilot.press("P")
        await settle(pilot)
        assert Entity.get_by_id(candidate.id).status == "active"
        assert screen.entity["status"] == "active"
        assert not screen.check_action("promote", ())


async def test_acknowledge_an_alert(app, tui_engine):
    async with app.run_test(size=(100, 32), notifications=True) as pilot:
        screen = await open_graph(pilot)
        waiting = tui_engine.graph.alerts()
        assert waiting
        await pilot.press("l")
        await settle(pilot)
        options = screen.query_one("#alerts", OptionList)
        assert options.option_count == len(waiting)
        await pilot.press("enter")
        await settle(pilot)
        assert Alert.get_by_id(waiting[0]["id"]).acknowledged
        assert options.option_count == max(1, len(waiting) - 1)


async def test_wide_screen_keeps_the_detail_beside_the_views(app, tui_engine):
    async with app.run_test(size=(200, 60)) as pilot:
        screen = await open_graph(pilot)
        assert screen.has_class("wide")
        screen.show_item("entity", "odu-housing")
        await settle(pilot)
        await settle(pilot)
        assert screen.query_one("#side-detail").display
        assert "ODU-110 housing" in str(screen.query_one("#side-entity-detail").render())
        side = screen.query_one("#side-relations", DataTable)
        detail = tui_engine.graph.entity("odu-housing")
        assert side.row_count == len(detail["outgoing"]) + len(detail["incoming"])
        await pilot.press("t")
        await settle(pilot)
        assert screen.query_one("#views", TabbedContent).active == "tab-impact"
        assert screen.query_one("#impact", DataTable).row_count == tui_engine.graph.impact("odu-housing")["count"]


async def test_an_entity_load_overtaken_by_a_jump_is_dropped(app, tui_engine):
    """The cursor's entity loads slowly; a jump to another entity meanwhile
    wins, and the slow load, finishing last, changes nothing."""
    async with app.run_test(size=(100, 32)) as pilot:
        screen = await open_graph(pilot)
        await select_project(pilot, "orion-drive")
        tree = screen.query_one("#tree", Tree)
        await pilot.press("space")
        await settle(pilot)
        requirement = next(n for n in tree.cursor_node.children if n.data.entity_type == "requirement")
        tree.move_cursor(requirement)
        await pilot.press("space")
        await settle(pilot)
        slow = requirement.children[0].data.entity_id
        gate = threading.Event()
        entity = tui_engine.graph.entity

        def held_entity(entity_id):
            if entity_id == slow:
                gate.wait(10)  # hold this load until the jump has landed
            return entity(entity_id)

        tui_engine.graph.entity = held_entity
        await pilot.press("down")  # the cursor on the first requirement: its load waits
        await pilot.pause()
        screen.show_item("entity", "odu-if-chassis")
        await wait_until(pilot, lambda: tree.cursor_node.data.entity_id == "odu-if-chassis")
        assert screen.entity["id"] == "odu-if-chassis"
        gate.set()
        await settle(pilot)
        tui_engine.graph.entity = entity
        assert screen.entity["id"] == "odu-if-chassis"
        assert tree.cursor_node.data.entity_id == "odu-if-chassis"
        assert "odu-if-chassis" in str(screen.query_one("#entity-detail").render())


async def test_a_jump_from_the_impact_table_lands_on_its_entity(app, tui_engine):
    """Enter on a reached entity whose type sits above the current one in the
    tree: filling that type moves the lines under the tree's cursor, and that
    is not taken for a choice of the entity the cursor was on."""
    async with app.run_test(size=(100, 32)) as pilot:
        screen = await open_graph(pilot)
        screen.show_item("entity", "odu-if-chassis")  # an interface
        await settle(pilot)
        tree = screen.query_one("#tree", Tree)
        assert tree.cursor_node.data.entity_id == "odu-if-chassis"
        await pilot.press("t")
        await settle(pilot)
        target = tui_engine.graph.impact("odu-if-chassis", 3)["reached"][0]
        assert target["entity_type"] == "system"  # its type is above the interfaces
        gate = threading.Event()
        entities, entity = tui_engine.graph.entities, tui_engine.graph.entity
        loaded: list[str] = []

        def held_entities(**kwargs):
            gate.wait(10)  # hold the tree on its way to the target
            return entities(**kwargs)

        def counted_entity(entity_id):
            loaded.append(entity_id)
            return entity(entity_id)

        tui_engine.graph.entities, tui_engine.graph.entity = held_entities, counted_entity
        table = screen.query_one("#impact", DataTable)
        table.focus()
        await pilot.press("enter")  # the first row: the target
        await wait_until(pilot, lambda: screen.entity["id"] == target["id"])
        assert tree.cursor_node.data.entity_id == "odu-if-chassis"  # the tree is still on its way
        gate.set()
        await settle(pilot)
        tui_engine.graph.entities, tui_engine.graph.entity = entities, entity
        assert tree.cursor_node.data.entity_id == target["id"]
        assert screen.entity["id"] == target["id"]
        assert loaded == [target["id"]]  # the entity the cursor left was not loaded again
