"""The Review pane: the memory review queue, built for keyboard triage.

One key per decision (promote, reject, edit, merge, supersede, graduate), one
to skip and one to undo. A decision takes the candidate out of the table at
once and runs in a thread worker; the queue then reloads in another worker and
the cursor stays at the same position, which now holds the next candidate.
Candidates with a decision still in flight are kept out of any reload, so a
fast reviewer never acts twice on the same memory.

Undo walks back this session's decisions, newest first, across memories (a
bulk decision is one step); each step is ``engine.memories.undo`` of every
memory the decision touched (:class:`UndoStack`). A queue load started later
cancels the one in flight, whose result is dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.reactive import reactive
from textual.widgets import DataTable, Label

from ...errors import AtoCoreError
from ...memory.review import ORDERS, ReviewItem
from ...memory.service import MemoryRecord
from ..widgets.review_detail import ReviewDetail
from ..widgets.review_queue import QueueTable, counters_text, one_line
from .base import PaneScreen
from .review_forms import EditCandidateScreen, GraduateScreen, PickMemoryScreen
from .review_undo import Decision, UndoStack

QUEUE_LIMIT = 500
NARROW_WIDTH = 110
ORDER_NAMES = {"oldest": "oldest first", "evidence": "most evidenced first"}


class ReviewScreen(PaneScreen):
    PANE = "review"
    TITLE = "Review"
    CSS_PATH = "review.tcss"
    BINDINGS = [
        Binding("a", "promote", "Promote", id="review.promote",
                tooltip="Promote the candidate (or every selected one) to an active memory"),
        Binding("x", "reject", "Reject", id="review.reject",
                tooltip="Reject the candidate (or every selected one): it becomes invalid"),
        Binding("e", "edit", "Edit", id="review.edit",
                tooltip="Edit the candidate's content, type and confidence, then promote it"),
        Binding("m", "merge", "Merge", id="review.merge",
                tooltip="Merge the candidate into one of its near memories"),
        Binding("s", "supersede", "Supersede", id="review.supersede",
                tooltip="Promote the candidate in place of an older active memory"),
        Binding("G", "graduate", "Graduate", id="review.graduate",
                tooltip="Propose a graph entity from the candidate (and promote it)"),
        Binding("n,j", "next", "Skip", id="review.next", tooltip="Skip to the next candidate"),
        Binding("k", "previous", "Back", id="review.previous", show=False,
                tooltip="Go back to the previous candidate"),
        Binding("u", "undo", "Undo", id="review.undo",
                tooltip="Undo this session's last decision (across memories)"),
        Binding("space", "toggle_select", "Select", id="review.select",
                tooltip="Select or unselect the candidate for a bulk promote/reject"),
        Binding("o", "toggle_order", "Order", id="review.order",
                tooltip="Order the queue oldest first or most evidenced first"),
    ]

    current: reactive[ReviewItem | None] = reactive(None, bindings=True)
    selected_count = reactive(0, bindings=True)
    undo_depth = reactive(0, bindings=True)
    order = reactive("oldest")
    done = reactive(0)

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[str, ReviewItem] = {}
        self.total = 0
        self.selected: set[str] = set()
        self.pending: set[str] = set()
        self.history = UndoStack()
        self.loaded = False
        self.contents: dict[str, str] = {}
        """Content of the candidates decided this session, for messages."""
        self._loaded_rows = 0
        self._wanted: str | None = None
        self._other_at: int | None = None
        """The queue row under the cursor while a memory from elsewhere is shown."""

    # --------------------------------------------------------------- layout
    def compose_body(self) -> ComposeResult:
        yield Label("", id="counters")
        with Horizontal(id="review-body"):
            yield QueueTable(id="queue")
            yield ReviewDetail(id="detail")

    @property
    def queue(self) -> QueueTable:
        return self.query_one(QueueTable)

    def on_mount(self) -> None:
        self.query_one(ReviewDetail).show_loading()
        self.queue.focus()
        self.refresh_pane()

    def on_resize(self) -> None:
        self.set_class(self.size.width < NARROW_WIDTH, "narrow")

    def refresh_pane(self) -> None:
        self.load_queue()

    # ---------------------------------------------------------------- loading
    def load_queue(self, focus_id: str | None = None, *, top: bool = False) -> None:
        """Reload; the cursor goes to ``focus_id``, to the top, or stays on its candidate."""
        review, order = self.engine.review, self.order

        def load() -> tuple[list[ReviewItem], int]:
            return review.list(order=order, limit=QUEUE_LIMIT), review.count()

        self.run_engine(load, lambda found: self._show_queue(*found, focus_id, top),
                        group="review-load", description="loading the review queue")

    def _show_queue(self, items: list[ReviewItem], total: int, focus_id: str | None, top: bool = False) -> None:
        table = self.queue
        keep = focus_id or (self.current.memory.id if self.current and not top else None)
        position = 0 if top else table.cursor_row
        self._loaded_rows = len(items)
        items = [item for item in items if item.memory.id not in self.pending]
        self.items = {item.memory.id: item for item in items}
        self.total = total
        self.selected &= set(self.items)
        self.selected_count = len(self.selected)
        table.fill(items, self.selected)
        self.loaded = True
        ids = list(self.items)
        if keep in self.items:
            position = ids.index(keep)
        self._place_cursor(position)
        self._show_counters()
        if self._wanted is not None:
            wanted, self._wanted = self._wanted, None
            self.show_item("memory", wanted)

    def _place_cursor(self, position: int) -> None:
        self._other_at = None
        if not self.queue.place_cursor(position):
            self.current = None
            return
        self._follow_cursor()

    def _follow_cursor(self) -> None:
        key = self.queue.key_at_cursor()
        self.current = self.items.get(key) if key is not None else None

    @on(DataTable.RowHighlighted, "#queue")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        """Follow the table's cursor (not the event's row: events of a refill arrive late)."""
        if self._other_at is not None and self.queue.cursor_row == self._other_at:
            return  # a memory from elsewhere is shown until the cursor moves
        self._other_at = None
        self._follow_cursor()

    def _show_counters(self) -> None:
        shown = len(self.items)
        left = shown + max(0, self.total - self._loaded_rows)
        self.query_one("#counters", Label).update(
            counters_text(left if self.loaded else None, shown, self.selected_count, self.done,
                          ORDER_NAMES[self.order]))

    def watch_done(self) -> None:
        self._show_counters()

    def watch_selected_count(self) -> None:
        self._show_counters()

    # ----------------------------------------------------------------- detail
    def watch_current(self, item: ReviewItem | None) -> None:
        if item is not None:
            self.query_one(ReviewDetail).show_candidate(item)
        elif self.loaded:
            self.query_one(ReviewDetail).show_empty()

    def _show_other(self, record: MemoryRecord, audit: list[Any]) -> None:
        """A memory that is not in the queue (opened from elsewhere)."""
        self.current = None
        self._other_at = self.queue.cursor_row
        self.query_one(ReviewDetail).show_other(record, audit)

    # --------------------------------------------------------------- bindings
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("promote", "reject"):
            return True if (self.current is not None or self.selected_count) else None
        if action in ("edit", "merge", "supersede", "graduate", "toggle_select"):
            return True if self.current is not None else None
        if action == "undo":
            return True if self.undo_depth else None
        return True

    # ------------------------------------------------------------- decisions
    def _targets(self) -> list[str]:
        """The selected candidates in queue order, else the one under the cursor."""
        if self.selected:
            return [memory_id for memory_id in self.items if memory_id in self.selected]
        return [self.current.memory.id] if self.current is not None else []

    def _take_out(self, memory_ids: list[str]) -> None:
        """Remove decided candidates from the table now; the cursor keeps its row."""
        table = self.queue
        position = table.cursor_row
        for memory_id in memory_ids:
            if memory_id in self.items:
                self.contents[memory_id] = self.items[memory_id].memory.content
                if list(self.items).index(memory_id) < position:
                    position -= 1
                del self.items[memory_id]
                table.remove_row(memory_id)
            self.selected.discard(memory_id)
        self.pending.update(memory_ids)
        self.selected_count = len(self.selected)
        self._place_cursor(position)
        if not self.items:
            self.current = None
            self.query_one(ReviewDetail).show_empty()
        self._show_counters()

    def _decide(self, verb: str, memory_ids: list[str], decide: Callable[[str], object],
                message: Callable[[list[str]], str] | None = None) -> None:
        if not memory_ids:
            return
        self._take_out(memory_ids)
        self.run_engine(lambda: _each(memory_ids, decide),
                        lambda outcome: self._decided(verb, memory_ids, *outcome, message),
                        group="review-decide", description="a review decision", exclusive=False)

    def _decided(self, verb: str, memory_ids: list[str], done: list[str], errors: list[str],
                 message: Callable[[list[str]], str] | None) -> None:
        self.pending.difference_update(memory_ids)
        if done:
            self.history.push(verb, done)
            self.undo_depth = len(self.history)
            self.done += len(done)
            text = message(done) if message else (
                f"{verb.capitalize()} {len(done)} candidates." if len(done) > 1
                else f"{verb.capitalize()}: {_short(self._content_of(done[0]))}")
            self.notify(text, timeout=3)
        if errors:
            more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
            self.notify(errors[0] + more, title=f"Could not finish: {verb}", severity="error", timeout=10)
        self.load_queue()

    def _content_of(self, memory_id: str) -> str:
        return self.contents.get(memory_id, memory_id[:8])

    def action_promote(self) -> None:
        targets = self._targets()
        review = self.engine.review
        self._decide("promoted", targets, review.promote)

    def action_reject(self) -> None:
        targets = self._targets()
        review = self.engine.review
        self._decide("rejected", targets, review.reject)

    def action_edit(self) -> None:
        item = self.current
        if item is None:
            return

        def edited(record: MemoryRecord | None) -> None:
            if record is not None:
                self._recorded("edited and promoted", record.id, f"Edited and promoted: {_short(record.content)}")

        self.app.push_screen(EditCandidateScreen(item.memory), edited)

    def _recorded(self, verb: str, memory_id: str, message: str) -> None:
        """A decision a form already wrote: take it out, add it to undo, reload."""
        self._take_out([memory_id])
        self.pending.discard(memory_id)
        self.history.push(verb, [memory_id])
        self.undo_depth = len(self.history)
        self.done += 1
        self.notify(message, timeout=3)
        self.load_queue()

    def action_merge(self) -> None:
        item = self.current
        if item is None:
            return
        if not item.neighbours:
            self.notify("This candidate has no near memories to merge into.", severity="warning")
            return
        candidate = item.memory

        def picked(target_id: str | None) -> None:
            if target_id is None:
                return
            target = next(n.memory for n in item.neighbours if n.memory.id == target_id)
            review = self.engine.review
            self._decide("merged", [candidate.id], lambda memory_id: review.merge(memory_id, target_id),
                         lambda done: f"Merged into: {_short(target.content)}")

        self.app.push_screen(PickMemoryScreen(
            "Merge into…", "The chosen memory absorbs this candidate (keeping its own content and the "
            "higher confidence); the candidate becomes superseded.", item.neighbours), picked)

    def action_supersede(self) -> None:
        item = self.current
        if item is None:
            return
        olds = [n for n in item.neighbours if n.memory.status == "active"]
        if not olds:
            self.notify("None of this candidate's near memories is active: there is nothing to supersede.",
                        severity="warning")
            return
        candidate = item.memory

        def picked(old_id: str | None) -> None:
            if old_id is None:
                return
            old = next(n.memory for n in olds if n.memory.id == old_id)
            review = self.engine.review
            self._decide("superseded", [candidate.id], lambda memory_id: review.supersede(memory_id, old_id),
                         lambda done: f"Promoted in place of: {_short(old.content)}")

        self.app.push_screen(PickMemoryScreen(
            "Supersede which memory?", "The candidate becomes active and the chosen older memory is marked "
            "superseded by it.", olds), picked)

    def action_graduate(self) -> None:
        if self.current is None:
            return
        memory, engine = self.current.memory, self.engine

        def propose() -> tuple[dict[str, Any], list[str]]:
            return engine.graph.propose_graduation(memory.id), sorted(engine.projects.known())

        self.run_engine(propose, lambda found: self._open_graduate(memory, *found),
                        group="review-propose", description="proposing a graph entity")

    def _open_graduate(self, memory: MemoryRecord, proposal: dict[str, Any], projects: list[str]) -> None:
        def graduated(result: dict[str, Any] | None) -> None:
            if not result:
                return
            entity = result["entity"]
            note = f"Proposed entity “{entity['name']}” ({entity['entity_type']}) in {entity['project']}"
            if result["promoted"] is not None:
                self._recorded("promoted and graduated", memory.id, note + "; the memory is promoted.")
            else:
                self.notify(note + "; the memory stays in the queue.", timeout=5)
                self.load_queue()

        self.app.push_screen(GraduateScreen(memory, proposal, projects), graduated)

    # ---------------------------------------------------------------- moving
    def action_next(self) -> None:
        table = self.queue
        if self.current is None and table.row_count:
            self._place_cursor(table.cursor_row)
        else:
            self._place_cursor(table.cursor_row + 1)

    def action_previous(self) -> None:
        self._place_cursor(self.queue.cursor_row - 1)

    def action_toggle_select(self) -> None:
        if self.current is None:
            return
        memory_id = self.current.memory.id
        self.selected ^= {memory_id}
        self.selected_count = len(self.selected)
        self.queue.mark(memory_id, memory_id in self.selected)
        self._place_cursor(self.queue.cursor_row + 1)

    def action_toggle_order(self) -> None:
        self.order = ORDERS[(ORDERS.index(self.order) + 1) % len(ORDERS)]
        self._show_counters()
        self.load_queue(top=True)

    # ------------------------------------------------------------------- undo
    def action_undo(self) -> None:
        step = self.history.pop()
        if step is None:
            self.notify("Nothing to undo in this session.", severity="warning")
            return
        self.undo_depth = len(self.history)
        memories = self.engine.memories
        self.run_engine(lambda: _each(list(reversed(step.memory_ids)), memories.undo),
                        lambda outcome: self._undone(step, *outcome),
                        group="review-decide", description="undoing a decision", exclusive=False)

    def _undone(self, step: Decision, undone: list[str], errors: list[str]) -> None:
        left = [memory_id for memory_id in step.memory_ids if memory_id not in undone]
        if left:
            self.history.push(step.verb, left)
            self.undo_depth = len(self.history)
            self.notify(errors[0], title="Could not undo", severity="error", timeout=10)
        if undone:
            self.done = max(0, self.done - len(undone))
            what = f"{len(undone)} candidates" if len(undone) > 1 else _short(self._content_of(undone[0]))
            self.notify(f"Undid “{step.verb}”: {what}", timeout=3)
        self.load_queue(focus_id=undone[-1] if undone else None)

    # ------------------------------------------------------------ show_item
    def show_item(self, kind: str, ref: str) -> None:
        if kind != "memory":
            return
        if not self.loaded:
            self._wanted = ref
            return
        match = [memory_id for memory_id in self.items if memory_id == ref or memory_id.startswith(ref)]
        if len(match) == 1:
            self._place_cursor(self.queue.get_row_index(match[0]))
            self.queue.focus()
            return
        memories = self.engine.memories

        def lookup() -> tuple[MemoryRecord, list[Any]]:
            record = memories.get(ref)
            return record, memories.audit(record.id)

        self.run_engine(lookup, lambda found: self._looked_up(*found),
                        group="review-lookup", description="opening the memory")

    def _looked_up(self, record: MemoryRecord, audit: list[Any]) -> None:
        if record.status == "candidate":
            self.load_queue(record.id)
        else:
            self._show_other(record, audit)


def _each(memory_ids: list[str], act: Callable[[str], object]) -> tuple[list[str], list[str]]:
    """``act`` on each memory in turn (in a worker): the ones done, and the errors of the others."""
    done: list[str] = []
    errors: list[str] = []
    for memory_id in memory_ids:
        try:
            act(memory_id)
            done.append(memory_id)
        except AtoCoreError as error:
            errors.append(str(error))
    return done, errors


def _short(text: str) -> str:
    return one_line(text, 60)
