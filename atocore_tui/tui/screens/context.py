"""The Context pane: preview the pack a prompt would get, before sending it.

The pack rebuilds as you type: edits restart a short debounce timer, the build
runs in a thread worker (exclusive: a newer build supersedes an older one), and
a generation counter drops the result of any build that was overtaken.
"""

from __future__ import annotations

import time
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.reactive import reactive
from textual.timer import Timer
from textual.widgets import DataTable, Input, Label, Select, TabbedContent, TabPane, Tabs, TextArea

from ...context.builder import validate_budget
from ...context.receipt import ContextPack
from ...errors import ValidationError
from ..widgets.project_select import ProjectSelect
from ..widgets.tier_bars import TierBars
from .base import PaneScreen
from .context_item import ReceiptItemScreen, short_reason

DEBOUNCE_SECONDS = 0.35
NO_PROJECT = "__none__"


class ContextScreen(PaneScreen):
    PANE = "context"
    TITLE = "Context"
    BINDINGS = [
        Binding("ctrl+o", "copy_prompt", "Copy prompt", id="context.copy",
                tooltip="Copy the full prompt (preamble + pack + your prompt) to the clipboard"),
        Binding("ctrl+s", "save_prompt", "Save", id="context.save",
                tooltip="Save the full prompt to a file in the data dir's exports/ folder"),
        Binding("ctrl+r", "record", "Record", id="context.record",
                tooltip="Record the prompt and its pack as an interaction"),
        Binding("ctrl+l", "focus_prompt", "Prompt", id="context.focus_prompt",
                tooltip="Put the cursor in the prompt editor"),
        Binding("escape", "leave_editor", "Leave editor", id="context.leave",
                tooltip="Move focus out of the editor so pane keys work"),
        Binding("ctrl+n", "clear_prompt", "New prompt", id="context.clear",
                tooltip="Empty the prompt editor for a new prompt"),
    ]

    pack: reactive[ContextPack | None] = reactive(None)
    building = reactive(False)

    def __init__(self) -> None:
        super().__init__()
        self._timer: Timer | None = None
        self._rows: dict[str, tuple] = {}

    def compose_body(self) -> ComposeResult:
        yield TextArea(id="prompt", placeholder="ctrl+l (or a click) to type a prompt; the pack rebuilds as you type",
                       soft_wrap=True, tab_behavior="focus")
        with Horizontal(id="controls"):
            yield ProjectSelect("no project", id="project")
            yield Label("budget", classes="field-label")
            yield Input(str(self.app.engine.settings.context.budget), id="budget", type="integer",
                        compact=True, max_length=7)
            yield Label("", id="build-status")
        yield Label("", id="budget-problem", classes="problem")
        yield TierBars(id="bars")
        with TabbedContent(id="tabs"):
            with TabPane("Pack", id="tab-pack"):
                yield TextArea("", id="pack", read_only=True, soft_wrap=True, show_cursor=False)
            with TabPane("Receipt", id="tab-receipt"):
                yield DataTable(id="receipt", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        table = self.query_one("#receipt", DataTable)
        # the reason before the item's label: at 100 columns it shows without scrolling
        table.add_columns("tier", "", "kind", "score", "chars", "why left out", "item")
        self.refresh_pane()
        # Pane keys work until the user chooses to type (ctrl+l or a click).
        self.query_one("#tabs Tabs", Tabs).focus()

    def refresh_pane(self) -> None:
        self.query_one("#project", ProjectSelect).reload()

    # ---------------------------------------------------------------- build
    @on(Input.Changed, "#budget")
    def _budget_changed(self) -> None:
        """A bad budget is shown under the field as it is typed, gone when fixed;
        the pack built for another budget is cleared rather than left standing."""
        problem = self.budget_problem()
        label = self.query_one("#budget-problem", Label)
        label.update(problem or "")
        label.display = bool(problem)
        if problem:
            if self._timer is not None:
                self._timer.stop()
            self.workers.cancel_group(self, "context-build")  # its pack would be for another budget
            self.building = False
            self.pack = None
        else:
            self.schedule_build()

    def budget_problem(self) -> str | None:
        text = self.query_one("#budget", Input).value.strip()
        if not text:
            return None
        try:
            validate_budget(int(text))
        except ValueError:
            return "The budget must be a whole number of characters."
        except ValidationError as error:
            return str(error).capitalize()
        return None

    @on(TextArea.Changed, "#prompt")
    @on(Select.Changed, "#project")
    def schedule_build(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(DEBOUNCE_SECONDS, self.request_build)

    def request_build(self) -> None:
        prompt = self.query_one("#prompt", TextArea).text
        if not prompt.strip():
            self.pack = None
            return
        if self.budget_problem():
            return  # shown under the field
        budget_text = self.query_one("#budget", Input).value.strip()
        budget = int(budget_text) if budget_text else None
        project = self.query_one("#project", Select).value
        project = project if isinstance(project, str) else None
        self.building = True
        self.build(prompt, project, budget)

    def build(self, prompt: str, project: str | None, budget: int | None) -> None:
        """A later build cancels this one (its pack is dropped)."""
        context = self.engine.context
        self.run_engine(lambda: context.build(prompt, project, budget), self._show_pack,
                        group="context-build", description="building the context pack")

    def _show_pack(self, pack: ContextPack) -> None:
        self.building = False
        self.pack = pack

    def on_worker_state_changed(self, event) -> None:
        super().on_worker_state_changed(event)
        if event.worker.group == "context-build" and event.worker.is_finished:
            self.building = False

    def watch_building(self, building: bool) -> None:
        self.query_one("#build-status", Label).update("building…" if building else "")

    def watch_pack(self, pack: ContextPack | None) -> None:
        self.query_one("#bars", TierBars).pack = pack
        self.query_one("#pack", TextArea).load_text(pack.formatted_context if pack else "")
        table = self.query_one("#receipt", DataTable)
        table.clear()
        if pack is None:
            return
        self._rows = {}
        for tier in pack.tiers:
            for item in tier.items:
                key = f"{tier.number}:{item.kind}:{item.ref}"
                self._rows[key] = (tier, item)
                table.add_row(str(tier.number), "✓" if item.included else "·", item.kind,
                              f"{item.score:.2f}", str(item.chars), short_reason(pack, tier, item),
                              item.label[:80], key=key)

    @on(DataTable.RowSelected, "#receipt")
    def _open_row(self, event: DataTable.RowSelected) -> None:
        """Enter on a receipt row: the item in full, with why it was left out."""
        row = self._rows.get(event.row_key.value or "")
        if row is not None and self.pack is not None:
            self.app.push_screen(ReceiptItemScreen(self.pack, *row))

    # -------------------------------------------------------------- actions
    def _require_pack(self) -> ContextPack | None:
        if self.pack is None:
            self.notify("Type a prompt first: there is no pack yet.", severity="warning")
        return self.pack

    def action_copy_prompt(self) -> None:
        if (pack := self._require_pack()) is not None:
            self.app.copy_to_clipboard(pack.full_prompt)
            self.notify(f"Copied the full prompt ({len(pack.full_prompt):,} chars).")

    def action_save_prompt(self) -> None:
        if (pack := self._require_pack()) is not None:
            self.save(pack)

    @work(thread=True, group="context-save", exit_on_error=False, description="saving the prompt")
    def save(self, pack: ContextPack) -> None:
        folder = Path(self.engine.data_dir) / "exports"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / time.strftime("prompt-%Y%m%d-%H%M%S.md")
        path.write_text(pack.full_prompt + "\n", encoding="utf-8")
        self.app.call_from_thread(self.notify, f"Saved to {path}")

    def action_record(self) -> None:
        if (pack := self._require_pack()) is not None:
            self.record(pack)

    def record(self, pack: ContextPack) -> None:
        interactions = self.engine.interactions
        self.run_engine(lambda: interactions.record(
                            pack.prompt, project=pack.project or "", client="atocore-tui",
                            memories_used=pack.memories_used, chunks_used=[c["chunk_id"] for c in pack.chunks],
                            context_pack=pack.to_dict()),
                        lambda result: self.notify(f"Recorded interaction {result['id'][:8]}."),
                        group="context-record", description="recording the interaction", exclusive=False)

    def action_focus_prompt(self) -> None:
        self.query_one("#prompt", TextArea).focus()

    def action_leave_editor(self) -> None:
        self.query_one("#tabs Tabs", Tabs).focus()

    def action_clear_prompt(self) -> None:
        prompt = self.query_one("#prompt", TextArea)
        prompt.load_text("")
        prompt.focus()

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "leave_editor":  # only offered where it does something
            focused = self.focused
            return focused is not None and focused.id in ("prompt", "budget")
        return True
