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
from textual.widgets import DataTable, Input, Label, Select, TabbedContent, Tabs, TabPane, TextArea

from ...context.receipt import ContextPack
from ..widgets.project_select import ProjectSelect
from ..widgets.tier_bars import TierBars
from .base import PaneScreen

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
        Binding("escape", "leave_editor", "Leave editor", show=False, id="context.leave",
                tooltip="Move focus out of the editor so pane keys work"),
    ]

    pack: reactive[ContextPack | None] = reactive(None)
    building = reactive(False)

    def __init__(self) -> None:
        super().__init__()
        self._timer: Timer | None = None
        self._generation = 0

    def compose_body(self) -> ComposeResult:
        yield TextArea(id="prompt", placeholder="ctrl+l (or a click) to type a prompt; the pack rebuilds as you type",
                       soft_wrap=True, tab_behavior="focus")
        with Horizontal(id="controls"):
            yield ProjectSelect("no project", id="project")
            yield Label("budget", classes="field-label")
            yield Input(str(self.app.engine.settings.context.budget), id="budget", type="integer",
                        compact=True, max_length=7)
            yield Label("", id="build-status")
        yield TierBars(id="bars")
        with TabbedContent(id="tabs"):
            with TabPane("Pack", id="tab-pack"):
                yield TextArea("", id="pack", read_only=True, soft_wrap=True, show_cursor=False)
            with TabPane("Receipt", id="tab-receipt"):
                yield DataTable(id="receipt", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        table = self.query_one("#receipt", DataTable)
        table.add_columns("tier", "", "kind", "item", "score", "chars", "why left out")
        self.refresh_pane()
        # Pane keys work until the user chooses to type (ctrl+l or a click).
        self.query_one("#tabs Tabs", Tabs).focus()

    def refresh_pane(self) -> None:
        self.query_one("#project", ProjectSelect).reload()

    # ---------------------------------------------------------------- build
    @on(TextArea.Changed, "#prompt")
    @on(Select.Changed, "#project")
    @on(Input.Changed, "#budget")
    def schedule_build(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(DEBOUNCE_SECONDS, self.request_build)

    def request_build(self) -> None:
        prompt = self.query_one("#prompt", TextArea).text
        if not prompt.strip():
            self.pack = None
            return
        budget_text = self.query_one("#budget", Input).value.strip()
        try:
            budget = int(budget_text) if budget_text else None
        except ValueError:
            self.notify("The budget must be a whole number of characters.", severity="warning")
            return
        project = self.query_one("#project", Select).value
        project = project if isinstance(project, str) else None
        self._generation += 1
        self.building = True
        self.build(self._generation, prompt, project, budget)

    @work(thread=True, exclusive=True, group="context-build", exit_on_error=False,
          description="building the context pack")
    def build(self, generation: int, prompt: str, project: str | None, budget: int | None) -> None:
        with self.engine.db.connection_context():
            pack = self.engine.context.build(prompt, project, budget)
        self.app.call_from_thread(self._show_pack, generation, pack)

    def _show_pack(self, generation: int, pack: ContextPack) -> None:
        if generation != self._generation:
            return  # a newer build is on its way
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
        for tier in pack.tiers:
            for item in tier.items:
                table.add_row(str(tier.number), "✓" if item.included else "·", item.kind,
                              item.label[:80], f"{item.score:.2f}", str(item.chars), item.reason or "",
                              key=f"{tier.number}:{item.kind}:{item.ref}")

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

    @work(thread=True, group="context-record", exit_on_error=False,
          description="recording the interaction")
    def record(self, pack: ContextPack) -> None:
        with self.engine.db.connection_context():
            result = self.engine.interactions.record(
                pack.prompt, project=pack.project or "", client="atocore-tui",
                memories_used=pack.memories_used, chunks_used=[c["chunk_id"] for c in pack.chunks],
                context_pack=pack.to_dict())
        self.app.call_from_thread(self.notify, f"Recorded interaction {result['id'][:8]}.")

    def action_focus_prompt(self) -> None:
        self.query_one("#prompt", TextArea).focus()

    def action_leave_editor(self) -> None:
        self.query_one("#tabs Tabs", Tabs).focus()
