"""The Review pane: the memory review queue, built for keyboard triage.

One key per decision (promote, reject, edit, merge, supersede, graduate), one
to skip and one to undo. A decision takes the candidate out of the table at
once and runs in a thread worker; the queue then reloads in another worker and
the cursor stays at the same position, which now holds the next candidate.
Candidates with a decision still in flight are kept out of any reload, so a
fast reviewer never acts twice on the same memory.

Undo walks back this session's decisions, newest first, across memories (a
bulk decision is one step); each step is ``engine.memories.undo`` of every
memory the decision touched.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.reactive import reactive
from textual.widgets import DataTable, Label, Static

from ...errors import AtoCoreError
from ...memory.review import ORDERS, ReviewItem
from ...memory.service import MemoryRecord
from .base import PaneScreen
from .review_forms import EditCandidateScreen, GraduateScreen, PickMemoryScreen

QUEUE_LIMIT = 500
NARROW_WIDTH = 110
ORDER_NAMES = {"oldest": "oldest first", "evidence": "most evidenced first"}


@dataclass
class Decision:
    """One step of the session's undo stack."""

    verb: str
    memory_ids: list[str]


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
        self.history: list[Decision] = []
        self.loaded = False
        self.contents: dict[str, str] = {}
        """Content of the candidates decided this session, for messages."""
        self._loaded_rows = 0
        self._wanted: str | None = None
        self._other_at: int | None = None
        """The queue row under the cursor while a memory from elsewhere is shown."""
        self._generation = 0

    # --------------------------------------------------------------- layout
    def compose_body(self) -> ComposeResult:
        yield Label("", id="counters")
        with Horizontal(id="review-body"):
            yield DataTable(id="queue", cursor_type="row", zebra_stripes=True)
            with VerticalScroll(id="detail"):
                yield Static("", id="card")
                yield Label("Evidence", classes="section")
                yield Static("", id="evidence")
                yield Label("Near memories", classes="section")
                yield Static("", id="neighbours")

    def on_mount(self) -> None:
        queue = self.query_one("#queue", DataTable)
        queue.add_column("", key="mark", width=1)
        queue.add_column("type", key="type")
        queue.add_column("project", key="project")
        queue.add_column("conf", key="conf")
        queue.add_column("ev", key="ev")
        queue.add_column("≈", key="dup", width=1)
        queue.add_column("candidate", key="content")
        self.query_one("#card", Static).update(Text("Loading the review queue…", style="italic"))
        queue.focus()
        self.refresh_pane()

    def on_resize(self) -> None:
        self.set_class(self.size.width < NARROW_WIDTH, "narrow")

    def refresh_pane(self) -> None:
        self.load_queue()

    # ---------------------------------------------------------------- loading
    def load_queue(self, focus_id: str | None = None, *, top: bool = False) -> None:
        """Reload; the cursor goes to ``focus_id``, to the top, or stays on its candidate."""
        self._generation += 1
        self._load(self._generation, self.order, focus_id, top)

    @work(thread=True, exclusive=True, group="review-load", exit_on_error=False,
          description="loading the review queue")
    def _load(self, generation: int, order: str, focus_id: str | None, top: bool) -> None:
        with self.engine.db.connection_context():
            items = self.engine.review.list(order=order, limit=QUEUE_LIMIT)
            total = self.engine.review.count()
        self.app.call_from_thread(self._show_queue, generation, items, total, focus_id, top)

    def _show_queue(self, generation: int, items: list[ReviewItem], total: int, focus_id: str | None,
                    top: bool = False) -> None:
        if generation != self._generation:
            return  # a newer load is on its way
        table = self.query_one("#queue", DataTable)
        keep = focus_id or (self.current.memory.id if self.current and not top else None)
        position = 0 if top else table.cursor_row
        self._loaded_rows = len(items)
        items = [item for item in items if item.memory.id not in self.pending]
        self.items = {item.memory.id: item for item in items}
        self.total = total
        self.selected &= set(self.items)
        self.selected_count = len(self.selected)
        table.clear()
        for item in items:
            table.add_row(*self._cells(item), key=item.memory.id)
        self.loaded = True
        ids = list(self.items)
        if keep in self.items:
            position = ids.index(keep)
        self._place_cursor(position)
        self._show_counters()
        if self._wanted is not None:
            wanted, self._wanted = self._wanted, None
            self.show_item("memory", wanted)

    def _cells(self, item: ReviewItem) -> tuple:
        memory = item.memory
        return (Text("●" if memory.id in self.selected else " ", style="bold"),
                memory.memory_type, memory.project or "—", f"{memory.confidence:.2f}",
                str(item.evidence_score), Text("≈" if item.likely_duplicate else " ", style="bold"),
                _one_line(memory.content, 200))

    def _place_cursor(self, position: int) -> None:
        self._other_at = None
        table = self.query_one("#queue", DataTable)
        if table.row_count == 0:
            self.current = None
            return
        position = max(0, min(position, table.row_count - 1))
        table.move_cursor(row=position, scroll=True)
        self._follow_cursor()

    def _follow_cursor(self) -> None:
        table = self.query_one("#queue", DataTable)
        if table.row_count == 0:
            self.current = None
            return
        key = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value
        self.current = self.items.get(key)

    @on(DataTable.RowHighlighted, "#queue")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        """Follow the table's cursor (not the event's row: events of a refill arrive late)."""
        table = self.query_one("#queue", DataTable)
        if self._other_at is not None and table.cursor_row == self._other_at:
            return  # a memory from elsewhere is shown until the cursor moves
        self._other_at = None
        self._follow_cursor()

    def _show_counters(self) -> None:
        shown = len(self.items)
        left = shown + max(0, self.total - self._loaded_rows)
        text = Text()
        text.append(f"{left if self.loaded else '…'}", style="bold")
        text.append(" left")
        if left > shown:
            text.append(f" (showing {shown})")
        text.append("  ·  ")
        text.append(str(self.selected_count), style="bold")
        text.append(" selected  ·  ")
        text.append(str(self.done), style="bold")
        text.append(" done this session  ·  order: ")
        text.append(ORDER_NAMES[self.order], style="bold")
        self.query_one("#counters", Label).update(text)

    def watch_done(self) -> None:
        self._show_counters()

    def watch_selected_count(self) -> None:
        self._show_counters()

    # ----------------------------------------------------------------- detail
    def watch_current(self, item: ReviewItem | None) -> None:
        if item is not None:
            self._show_candidate(item)
        elif self.loaded:
            self._show_empty()

    def _show_empty(self) -> None:
        self.query_one("#card", Static).update(Text.assemble(
            ("The review queue is empty.", "bold"), "\n",
            ("Recorded interactions propose new candidates; they will show up here.", "italic")))
        self.query_one("#evidence", Static).update("")
        self.query_one("#neighbours", Static).update("")

    def _show_candidate(self, item: ReviewItem) -> None:
        memory = item.memory
        self.query_one("#card", Static).update(_memory_card(memory, item))
        evidence = item.evidence
        if evidence is None:
            text = Text("No source interaction: seeded or added by hand.", style="italic")
        else:
            text = Text()
            text.append(f"interaction {evidence.interaction_id[:8]}", style="bold")
            text.append(f"  {evidence.created_at}  {evidence.client or 'unknown client'}"
                        f"  {evidence.project or ''}\n")
            if evidence.quote:
                text.append(f"“{evidence.quote}”", style="italic")
                text.append(f"  (from the {evidence.quote_from})\n")
            text.append("prompt: ", style="bold")
            text.append(evidence.prompt + "\n")
            if evidence.response:
                text.append("response: ", style="bold")
                text.append(evidence.response)
        self.query_one("#evidence", Static).update(text)
        self._fill_neighbours(item)

    def _fill_neighbours(self, item: ReviewItem) -> None:
        text = Text()
        for n in item.neighbours:
            text.append(f"{n.score:.2f} ", style="bold")
            if n.likely_duplicate:
                text.append("≈ likely duplicate ", style="bold reverse")
            text.append(f" {n.memory.status} · {n.memory.memory_type} · {n.memory.project or 'all projects'}\n",
                        style="dim")
            text.append(f"  {n.memory.content}\n")
        if not item.neighbours:
            text.append("No near memories.", style="italic")
        text.rstrip()
        self.query_one("#neighbours", Static).update(text)

    def _show_other(self, record: MemoryRecord, audit: list) -> None:
        """A memory that is not in the queue (opened from elsewhere)."""
        self.current = None
        self._other_at = self.query_one("#queue", DataTable).cursor_row
        self.query_one("#card", Static).update(_memory_card(record, None))
        trail = Text()
        trail.append("Not in the review queue. Its history:\n", style="italic")
        for entry in audit[-8:]:
            trail.append(f"{entry.at}  {entry.action:<16} {entry.actor}\n")
        self.query_one("#evidence", Static).update(trail)
        self.query_one("#neighbours", Static).update(
            Text("Move the cursor (j/k) to go back to the queue.", style="italic"))

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
        table = self.query_one("#queue", DataTable)
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
            self._show_empty()
        self._show_counters()

    def _decide(self, verb: str, memory_ids: list[str], decide: Callable[[str], object],
                message: Callable[[list[str]], str] | None = None) -> None:
        if not memory_ids:
            return
        self._take_out(memory_ids)
        self._run_decision(verb, memory_ids, decide, message)

    @work(thread=True, group="review-decide", exit_on_error=False, description="a review decision")
    def _run_decision(self, verb: str, memory_ids: list[str], decide: Callable[[str], object],
                      message: Callable[[list[str]], str] | None) -> None:
        done: list[str] = []
        errors: list[str] = []
        with self.engine.db.connection_context():
            for memory_id in memory_ids:
                try:
                    decide(memory_id)
                    done.append(memory_id)
                except AtoCoreError as error:
                    errors.append(str(error))
        self.app.call_from_thread(self._decided, verb, memory_ids, done, errors, message)

    def _decided(self, verb: str, memory_ids: list[str], done: list[str], errors: list[str],
                 message: Callable[[list[str]], str] | None) -> None:
        self.pending.difference_update(memory_ids)
        if done:
            self.history.append(Decision(verb, done))
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
        self.history.append(Decision(verb, [memory_id]))
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
        if self.current is not None:
            self._propose(self.current.memory)

    @work(thread=True, exclusive=True, group="review-propose", exit_on_error=False,
          description="proposing a graph entity")
    def _propose(self, memory: MemoryRecord) -> None:
        with self.engine.db.connection_context():
            proposal = self.engine.graph.propose_graduation(memory.id)
            projects = sorted(self.engine.projects.known())
        self.app.call_from_thread(self._open_graduate, memory, proposal, projects)

    def _open_graduate(self, memory: MemoryRecord, proposal: dict, projects: list[str]) -> None:
        def graduated(result: dict | None) -> None:
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
        table = self.query_one("#queue", DataTable)
        if self.current is None and table.row_count:
            self._place_cursor(table.cursor_row)
        else:
            self._place_cursor(table.cursor_row + 1)

    def action_previous(self) -> None:
        table = self.query_one("#queue", DataTable)
        self._place_cursor(table.cursor_row - 1)

    def action_toggle_select(self) -> None:
        if self.current is None:
            return
        memory_id = self.current.memory.id
        self.selected ^= {memory_id}
        self.selected_count = len(self.selected)
        table = self.query_one("#queue", DataTable)
        table.update_cell(memory_id, "mark", Text("●" if memory_id in self.selected else " ", style="bold"))
        self._place_cursor(table.cursor_row + 1)

    def action_toggle_order(self) -> None:
        self.order = ORDERS[(ORDERS.index(self.order) + 1) % len(ORDERS)]
        self._show_counters()
        self.load_queue(top=True)

    # ------------------------------------------------------------------- undo
    def action_undo(self) -> None:
        if not self.history:
            self.notify("Nothing to undo in this session.", severity="warning")
            return
        step = self.history.pop()
        self.undo_depth = len(self.history)
        self._undo(step)

    @work(thread=True, group="review-decide", exit_on_error=False, description="undoing a decision")
    def _undo(self, step: Decision) -> None:
        undone: list[str] = []
        errors: list[str] = []
        with self.engine.db.connection_context():
            for memory_id in reversed(step.memory_ids):
                try:
                    self.engine.memories.undo(memory_id)
                    undone.append(memory_id)
                except AtoCoreError as error:
                    errors.append(str(error))
        self.app.call_from_thread(self._undone, step, undone, errors)

    def _undone(self, step: Decision, undone: list[str], errors: list[str]) -> None:
        left = [memory_id for memory_id in step.memory_ids if memory_id not in undone]
        if left:
            self.history.append(Decision(step.verb, left))
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
            table = self.query_one("#queue", DataTable)
            self._place_cursor(table.get_row_index(match[0]))
            table.focus()
            return
        self._lookup(ref)

    @work(thread=True, exclusive=True, group="review-lookup", exit_on_error=False,
          description="opening the memory")
    def _lookup(self, ref: str) -> None:
        with self.engine.db.connection_context():
            record = self.engine.memories.get(ref)
            audit = self.engine.memories.audit(record.id)
        if record.status == "candidate":
            self.app.call_from_thread(self.load_queue, record.id)
        else:
            self.app.call_from_thread(self._show_other, record, audit)


def _memory_card(memory: MemoryRecord, item: ReviewItem | None) -> Text:
    text = Text()
    text.append(memory.status.upper(), style="bold reverse")
    text.append(" ")
    text.append(f" {memory.memory_type}", style="bold")
    text.append(f"  ·  {memory.project or 'all projects'}  ·  confidence {memory.confidence:.2f}")
    if item is not None:
        text.append(f"  ·  evidence {item.evidence_score}")
        if item.likely_duplicate:
            text.append("  ·  ≈ likely duplicate", style="bold")
    text.append(f"\n{memory.id[:8]}  created {memory.created_at}", style="dim")
    if memory.reference_count:
        text.append(f"  ·  used {memory.reference_count}×", style="dim")
    if memory.graduated_to_entity:
        text.append(f"  ·  graduated to {memory.graduated_to_entity}", style="dim")
    text.append("\n\n")
    text.append(memory.content)
    return text


def _one_line(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit - 1].rstrip() + "…"


def _short(text: str) -> str:
    return _one_line(text, 60)
