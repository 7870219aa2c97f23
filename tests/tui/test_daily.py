"""Issue 14: the workstation as a daily tool (long sessions, fast hands, nothing hidden)."""

from __future__ import annotations

import gc

from textual import events
from textual.widget import Widget

from atocore_tui.tui.screens.context import ContextScreen
from atocore_tui.tui.screens.review import ReviewScreen

from .conftest import record_notifications, settle


def live_widgets() -> int:
    gc.collect()
    return sum(isinstance(o, Widget) for o in gc.get_objects())


async def test_pane_switches_do_not_accumulate_widgets(app):
    """1. Memory: Textual's Footer left ~26 widgets behind per pane switch."""
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("escape")
        for key in "rgipc":
            await pilot.press(key)
        await settle(pilot)
        before = live_widgets()
        for n in range(40):
            await pilot.press("rgipc"[n % 5])
        await settle(pilot)
        assert live_widgets() <= before


def burst(app, *keys: str) -> None:
    """Keys as a terminal delivers a paste or fast typing: all queued before any is handled."""
    for key in keys:
        character = key if len(key) == 1 else {"space": " ", "tab": "\t"}.get(key)
        app.post_message(events.Key("space" if key == " " else key, character))


async def test_a_burst_of_pane_keys_ends_on_the_last_pane(app):
    """2. 60 pane keys queued at once: every switch made, in order."""
    switched: list[str] = []
    original = app.switch_mode

    def record(mode):
        switched.append(mode)
        return original(mode)

    app.switch_mode = record
    names = {"c": "context", "r": "review", "g": "graph", "i": "interactions", "p": "projects"}
    keys = [("rgipc" * 13)[(n * 7) % 65] for n in range(59)] + ["r"]
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        burst(app, *keys)
        await settle(pilot)
        assert isinstance(app.screen, ReviewScreen)
        assert switched == [names[k] for k in keys]


async def test_text_and_tab_in_a_burst_land_in_their_fields(app):
    """2. ``alpha<Tab>al<Tab>Desc`` typed with no gap in the register form."""
    from atocore_tui.tui.screens.projects import ProjectsScreen

    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, ProjectsScreen)
        burst(app, "n", *"alpha", "tab", *"al", "tab", *"Desc")
        await settle(pilot)
        form = app.screen
        values = [i.value for i in form.query("Input")][:3]
        assert values == ["alpha", "al", "Desc"]


async def test_pane_keys_work_at_launch(app):
    """7. The first key at launch is a pane key, not text in the prompt."""
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.screen, ReviewScreen)
        assert screen.query_one("#prompt").text == ""
        await pilot.press("c", "ctrl+l", *"hi")
        assert isinstance(app.screen, ContextScreen)
        assert app.screen.query_one("#prompt").text == "hi"


def queue_ids(screen) -> list[str]:
    from textual.widgets import DataTable

    table = screen.query_one("#queue", DataTable)
    return [table.coordinate_to_cell_key((r, 0)).row_key.value for r in range(table.row_count)]


async def test_review_follows_a_candidate_added_elsewhere(app, tui_engine):
    """5. A candidate written by another connection (the server, the CLI) shows
    up while Review is on screen, the cursor staying on its candidate."""
    import threading

    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_review(pilot)
        before = queue_ids(screen)
        await pilot.press("j")
        await settle(pilot)
        cursor_on = screen.current.memory.id

        def write() -> None:
            with tui_engine.db.connection_context():
                tui_engine.memories.create("preference", "Prefer torque wrenches with a click stop.",
                                           status="candidate")

        thread = threading.Thread(target=write)
        thread.start()
        thread.join()
        app.poll_changes()  # what the one-second timer does
        await settle(pilot)
        after = queue_ids(screen)
        assert len(after) == len(before) + 1
        assert screen.current.memory.id == cursor_on


async def test_a_hidden_pane_reloads_on_return_only_after_a_change(app, tui_engine):
    """5. Coming back to a pane reloads it only when the database changed."""
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_review(pilot)
        loads = []
        original = screen.refresh_pane
        screen.refresh_pane = lambda: (loads.append(1), original())[1]
        await pilot.press("g", "r")
        await settle(pilot)
        assert loads == []
        await pilot.press("g")
        await settle(pilot)
        with tui_engine.db.connection_context():
            tui_engine.memories.create("preference", "Prefer blue loctite on the housing screws.",
                                       status="candidate")
        app.poll_changes()
        await pilot.press("r")
        await settle(pilot)
        assert loads == [1]
        await pilot.press("f5")
        await settle(pilot)
        assert loads == [1, 1]


async def open_review(pilot):
    await settle(pilot)
    await pilot.press("r")
    await settle(pilot)
    assert isinstance(pilot.app.screen, ReviewScreen)
    return pilot.app.screen


async def test_footer_shows_the_pane_keys_first_and_not_the_pane_switches(app):
    """4. Footer: the pane's own keys first; pane switching lives in the pane bar."""
    from atocore_tui.tui.screens.graph import GraphScreen
    from atocore_tui.tui.widgets.key_footer import KeyFooter

    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("g")
        await settle(pilot)
        assert isinstance(app.screen, GraphScreen)
        footer = app.screen.query_one(KeyFooter)
        texts = footer.key_texts()
        assert texts[0].endswith("Detail")
        assert any(t.startswith("esc") for t in texts) and any(t.endswith("Reload") for t in texts)
        assert not any(t.endswith(("Projects", "Review", "Interactions", "Context")) for t in texts)
        # at 80 columns nothing is cut: the footer wraps instead
        shown = " ".join(footer.render_line(y).text for y in range(footer.size.height))
        assert footer.size.height >= 2
        for text in texts:
            assert text in shown


async def test_pane_bar_is_clickable(app):
    """8. A click on a pane in the pane bar goes there."""
    from atocore_tui.tui.screens.base import PaneBar

    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        bar = app.screen.query_one(PaneBar)
        text = str(bar.render())
        await pilot.click(PaneBar, offset=(1 + text.index("Graph"), 0))
        await settle(pilot)
        from atocore_tui.tui.screens.graph import GraphScreen
        assert isinstance(app.screen, GraphScreen)


async def build_pack(pilot, prompt: str, project: str | None = None):
    from textual.widgets import TextArea

    screen = pilot.app.screen
    assert isinstance(screen, ContextScreen)
    if project:
        screen.query_one("#project").value = project
    screen.query_one("#prompt", TextArea).load_text(prompt)
    await settle(pilot)
    while screen.pack is None or screen.pack.prompt != prompt:
        await pilot.pause(0.05)
    await settle(pilot)
    return screen


async def test_receipt_shows_the_reason_and_opens_a_row_in_full(app):
    """3. At 100 columns the reason is on screen; enter opens the row in full,
    and "over budget" says by how much."""
    from textual.widgets import DataTable

    from atocore_tui.tui.screens.context_item import ReceiptItemScreen

    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = await build_pack(pilot, "why did EM-1 miss the cold efficiency requirement?", "orion-drive")
        screen.query_one("#tabs").active = "tab-receipt"
        table = screen.query_one("#receipt", DataTable)
        table.focus()
        await settle(pilot)
        labels = [str(c.label) for c in table.ordered_columns]
        reason_at = labels.index("why left out")
        assert sum(c.get_render_width(table) for c in table.ordered_columns[: reason_at + 1]) <= table.size.width
        rows = [table.get_row_at(r) for r in range(table.row_count)]
        over = [r for r, row in enumerate(rows) if str(row[reason_at]).startswith("over budget")]
        assert over, "the sample prompt leaves something out for budget"
        assert " > " in str(rows[over[0]][reason_at]) and "left" in str(rows[over[0]][reason_at])
        table.move_cursor(row=over[0])
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ReceiptItemScreen)
        item = app.screen.item
        assert str(app.screen.query_one("#item-text").render()) == item.text
        head = str(app.screen.query_one("#item-head").render())
        assert "score" in head and "header, footer" in head and item.ref in head
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen


async def test_a_bad_budget_shows_under_the_field_until_fixed(app):
    """9. Budget: live, under the field, gone when fixed; no toast, no stale pack."""
    from textual.widgets import Input, Label

    shown = record_notifications(app)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        screen = await build_pack(pilot, "what grease did we choose for the gearbox")
        budget = screen.query_one("#budget", Input)
        budget.focus()
        await pilot.press("end", *"999")  # 3000999: over the maximum
        await settle(pilot)
        problem = screen.query_one("#budget-problem", Label)
        assert problem.display and "between" in str(problem.render())
        assert screen.pack is None
        assert not shown
        await pilot.press("backspace", "backspace", "backspace")
        await settle(pilot)
        assert not problem.display
        while screen.pack is None:
            await pilot.pause(0.05)
        assert screen.pack.budget == 3000


async def test_key_help_shows_readable_keys_and_the_ids(app):
    """6. Keys as typed (``?``, ``+``), and the id column on screen at 120 columns."""
    from textual.widgets import DataTable

    from atocore_tui.tui.help import HelpScreen

    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("f1")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        table = app.screen.query_one("#keys", DataTable)
        rows = {table.get_row_at(r)[1]: table.get_row_at(r)[0] for r in range(table.row_count)}
        assert rows["app.help"] == "? / f1"
        assert rows["graph.depth_up"] == "+ / ="
        assert rows["pane.reload"] == "f5"
        assert not any("_" in key for key in rows.values())
        widths = [c.get_render_width(table) for c in table.ordered_columns]
        assert sum(widths[:2]) <= table.size.width


async def test_review_edit_shows_a_bad_confidence_as_typed_and_clears_it(app):
    """9. Review edit: 1.5 is refused as it is typed, not at ctrl+s; fixed, it goes."""
    from textual.widgets import Input, Label

    from atocore_tui.tui.screens.review_forms import EditCandidateScreen

    async with app.run_test(size=(100, 32)) as pilot:
        await open_review(pilot)
        await pilot.press("e")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, EditCandidateScreen)
        error = form.query_one("#form-error", Label)
        assert not error.display
        confidence = form.query_one("#confidence", Input)
        confidence.focus()
        await pilot.press("ctrl+u", *"1.5")
        await settle(pilot)
        assert error.display and "confidence" in str(error.render())
        assert confidence.has_class("-invalid") and form.focused is confidence
        await pilot.press("backspace", "backspace")
        await settle(pilot)
        assert confidence.value == "1"
        assert not error.display and not confidence.has_class("-invalid")


async def test_projects_ingested_at_first_start_do_not_say_never(app):
    """10. A project with notes but no refresh yet is not shown as never refreshed."""
    from textual.widgets import DataTable

    from atocore_tui.tui.screens.projects import ProjectsScreen

    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, ProjectsScreen)
        table = app.screen.query_one("#projects", DataTable)
        cells = [str(table.get_row_at(r)[5]) for r in range(table.row_count)]
        assert cells and all(cell == "not yet (notes ingested)" for cell in cells)


async def test_impact_via_column_is_on_screen(app):
    """10. Impact: the via column is never pushed off by long names."""
    from textual.widgets import DataTable

    from atocore_tui.tui.screens.graph import GraphScreen

    async with app.run_test(size=(200, 50)) as pilot:
        await settle(pilot)
        await pilot.press("g")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, GraphScreen)
        screen.show_item("entity", "odu-housing")
        await settle(pilot)
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        table = screen.query_one("#impact", DataTable)
        assert table.row_count > 0
        widths = [c.get_render_width(table) for c in table.ordered_columns]
        assert sum(widths[:4]) <= table.size.width  # depth, via, type, entity


async def test_interactions_follow_a_new_recording(app, tui_engine):
    """10. With the newest row selected, a new recording becomes the selection."""
    from atocore_tui.tui.screens.interactions import InteractionsScreen

    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        with tui_engine.db.connection_context():
            tui_engine.interactions.record("first question", project="coldplate")
        await pilot.press("i")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, InteractionsScreen)
        assert screen.detail["prompt"] == "first question"
        with tui_engine.db.connection_context():
            newest = tui_engine.interactions.record("second question", project="coldplate")
        app.poll_changes()
        await settle(pilot)
        await settle(pilot)
        assert screen.detail["id"] == newest["id"]


def test_light_theme_tier_bar_share_and_empty_differ():
    """10. atocore-light: the share and the empty part of a tier bar differ clearly."""
    from textual.color import Color

    from atocore_tui.tui.themes import BUNDLED_THEMES, parse_theme

    theme = parse_theme(BUNDLED_THEMES / "atocore-light.yaml")
    share = Color.parse(theme.variables["tier-share"])
    empty = Color.parse(theme.variables["tier-empty"])
    assert abs(share.brightness - empty.brightness) > 0.15


async def test_context_footer_lists_the_clear_key(app):
    """10. The prompt's clear key is listed."""
    from atocore_tui.tui.widgets.key_footer import KeyFooter

    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+l", *"abc")
        texts = app.screen.query_one(KeyFooter).key_texts()
        assert "^n New prompt" in texts and "esc Leave editor" in texts
        await pilot.press("ctrl+n")
        await settle(pilot)
        assert app.screen.query_one("#prompt").text == ""


async def test_slash_finds_rows_of_the_table(app):
    """10. ``/`` in a pane: typing moves to the first matching row, enter to the next."""
    from textual.widgets import DataTable

    from atocore_tui.tui.widgets.find_bar import FindBar

    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_review(pilot)
        table = screen.query_one("#queue", DataTable)
        rows = [" ".join(str(c) for c in table.get_row_at(r)).lower() for r in range(table.row_count)]
        wanted = [r for r, text in enumerate(rows) if "orion-drive" in text]
        assert len(wanted) >= 2
        await pilot.press("slash", *"ORION")
        await settle(pilot)
        bar = screen.query_one(FindBar)
        assert bar.has_class("-open") and table.cursor_row == wanted[0]
        await pilot.press("enter")
        await settle(pilot)
        assert table.cursor_row == wanted[1]
        await pilot.press("escape")
        await settle(pilot)
        assert not bar.has_class("-open") and screen.focused is table and table.cursor_row == wanted[1]
        await pilot.press("a")  # pane keys work again: promote the found candidate
        await settle(pilot)
        assert screen.done == 1


async def test_quit_does_not_wait_behind_typed_keys(app):
    """1. ctrl+q quits at once, dropping pane keys still queued before it."""
    switched: list[str] = []
    original = app.switch_mode

    def record(mode):
        switched.append(mode)
        return original(mode)

    app.switch_mode = record
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        burst(app, *("rgipc" * 20), "ctrl+q")
        await app.wait_for_keys()
        await pilot.pause()
        assert len(switched) < 100
    assert not app.is_running and app.return_code == 0


async def test_focus_is_visible_after_gaps(app):
    """4. After ``a`` in Graph the gaps list has the focus, a highlighted item and
    the accent border; the tree it left has a faint one."""
    from textual.color import Color
    from textual.widgets import OptionList, Tree

    from atocore_tui.tui.screens.graph import GraphScreen

    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("g")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, GraphScreen)
        await pilot.press("down", "a")
        await settle(pilot)
        gaps = screen.query_one("#gaps", OptionList)
        assert screen.focused is gaps
        assert gaps.highlighted is not None and not gaps.get_option_at_index(gaps.highlighted).disabled
        accent = Color.parse(app.current_theme.accent)

        def near(colour: Color) -> bool:
            return sum(abs(a - b) for a, b in zip(colour.rgb, accent.rgb, strict=True)) < 8

        assert near(gaps.styles.border_top[1])
        assert not near(screen.query_one("#tree", Tree).styles.border_top[1])


async def test_typing_into_the_palette_as_it_opens(app):
    """2. Keys typed right after ctrl+p land in the palette that is opening."""
    from atocore_tui.tui.screens.graph import GraphScreen

    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        burst(app, "ctrl+p", *"go to graph")
        await settle(pilot)
        await pilot.pause(0.3)  # the palette searches in a worker of its own
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, GraphScreen)


def test_engine_change_token_moves_on_every_commit_and_only_then(tui_engine):
    """5. The cheap change signal the panes poll: a commit by any other
    connection (another thread here; the server or the CLI) moves it."""
    import threading

    first = tui_engine.change_token()
    assert tui_engine.change_token() == first  # reading is not a change

    def write() -> None:
        with tui_engine.db.connection_context():
            tui_engine.memories.create("preference", "Prefer metric fasteners.", status="candidate")

    thread = threading.Thread(target=write)
    thread.start()
    thread.join()
    second = tui_engine.change_token()
    assert second != first
    assert tui_engine.change_token() == second
