"""The Interactions pane: the log of LLM round-trips, newest first.

Filters (project, client, session, since) reload the log in a worker after a
short pause in typing; a ``since`` the engine would refuse is shown next to
the filters and the list stays as it was. One interaction's detail shows its
prompt, response and summary, the memories and chunks it used (enter on one
opens it), its recorded pack, and a replay of that pack against today's data.
"""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.coordinate import Coordinate
from textual.reactive import reactive
from textual.timer import Timer
from textual.widgets import DataTable, Input, Label, Select, Static, TabbedContent, TabPane, TextArea

from ...errors import AtoCoreError, ValidationError
from ...interactions.log import MAX_LIMIT, normalise_since
from ..widgets.project_select import ProjectSelect
from .base import PaneScreen
from .interactions_chunk import ChunkScreen

DEBOUNCE_SECONDS = 0.3
NARROW_WIDTH = 110


class InteractionsScreen(PaneScreen):
    PANE = "interactions"
    TITLE = "Interactions"
    CSS_PATH = "interactions.tcss"
    BINDINGS = [
        Binding("R", "replay", "Replay", id="interactions.replay",
                tooltip="Rebuild the interaction's recorded pack against today's data and show what changed"),
        Binding("f", "focus_filters", "Filters", id="interactions.filters",
                tooltip="Put the cursor in the filters (client, session, since)"),
        Binding("l", "focus_log", "Log", id="interactions.log",
                tooltip="Put the cursor in the log of interactions"),
        Binding("u", "focus_used", "Used", id="interactions.used",
                tooltip="Put the cursor on the memories and chunks the interaction used"),
        Binding("escape", "focus_log", "Back to the log", show=False, id="interactions.leave",
                tooltip="Leave a filter field so pane keys work"),
    ]

    detail: reactive[dict | None] = reactive(None, bindings=True)

    def __init__(self) -> None:
        super().__init__()
        self.summaries: dict[str, dict] = {}
        self.loaded = False
        self._timer: Timer | None = None
        self._wanted: str | None = None
        self._filters: dict = {}
        self._opening: str | None = None
        self._since_problem = ""

    # --------------------------------------------------------------- layout
    def compose_body(self) -> ComposeResult:
        with Horizontal(id="filters"):
            yield ProjectSelect("all projects", id="project")
            yield Input(id="client", placeholder="client", compact=True)
            yield Input(id="session", placeholder="session", compact=True)
            yield Input(id="since", placeholder="since YYYY-MM-DD", compact=True)
        yield Label("", id="log-status")
        with Horizontal(id="interactions-body"):
            yield DataTable(id="log", cursor_type="row", zebra_stripes=True)
            with TabbedContent(id="detail-tabs"):
                with TabPane("Detail", id="tab-detail"):
                    with VerticalScroll(id="detail"):
                        yield Static("", id="header")
                        yield Label("Used  (u, then enter opens one)", classes="section")
                        yield DataTable(id="used", cursor_type="row")
                        yield Label("Prompt", classes="section")
                        yield Static("", id="prompt")
                        yield Label("Response", classes="section")
                        yield Static("", id="response")
                        yield Label("Summary", classes="section")
                        yield Static("", id="summary")
                with TabPane("Pack", id="tab-pack"):
                    with Vertical():
                        yield Label("", id="pack-status")
                        yield TextArea("", id="pack", read_only=True, soft_wrap=True, show_cursor=False)
                with TabPane("Replay", id="tab-replay"):
                    with VerticalScroll():
                        yield Static("Press R to rebuild this interaction's pack against today's data.",
                                     id="replay")

    def on_mount(self) -> None:
        log = self.query_one("#log", DataTable)
        log.add_column("when", key="when")
        log.add_column("project", key="project")
        log.add_column("client", key="client")
        log.add_column("mem", key="mem")
        log.add_column("chk", key="chk")
        log.add_column("prompt", key="prompt")
        self.query_one("#used", DataTable).add_columns("kind", "id", "what")
        self._show_detail(None)
        log.focus()
        self.refresh_pane()

    def on_resize(self) -> None:
        self.set_class(self.size.width < NARROW_WIDTH, "narrow")

    def refresh_pane(self) -> None:
        self.query_one("#project", ProjectSelect).reload()
        self.apply_filters()

    # -------------------------------------------------------------- filters
    @on(Select.Changed, "#project")
    def _project_changed(self) -> None:
        self.apply_filters()

    @on(Input.Changed, "#filters Input")
    def _filter_typed(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(DEBOUNCE_SECONDS, self.apply_filters)

    @on(Input.Submitted, "#filters Input")
    def _filter_submitted(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        if self.apply_filters() is False:
            self.notify(self._since_problem, title="Bad since", severity="warning")
        else:
            self.action_focus_log()

    def apply_filters(self) -> bool:
        """Reload the log with the filters; False (and nothing reloaded) for a bad since."""
        since = self.query_one("#since", Input).value.strip()
        try:
            normalise_since(since)
        except ValidationError as error:
            self._since_problem = str(error)
            self.query_one("#since", Input).add_class("-invalid")
            self._show_status(Text("since: use a date like 2026-04-22 or 2026-04-22 13:05 — "
                                   "the list is unchanged", style="bold"), error=True)
            return False
        self.query_one("#since", Input).remove_class("-invalid")
        project = self.query_one("#project", Select).value
        self._filters = {
            "project": project if isinstance(project, str) else None,
            "client": self.query_one("#client", Input).value.strip() or None,
            "session_id": self.query_one("#session", Input).value.strip() or None,
            "since": since or None,
        }
        self.load_log(dict(self._filters))
        return True

    def _show_status(self, text: Text | str, error: bool = False) -> None:
        status = self.query_one("#log-status", Label)
        status.update(text)
        status.set_class(error, "-error")

    # ----------------------------------------------------------------- log
    def load_log(self, filters: dict) -> None:
        """A later load cancels this one (its result is dropped)."""
        interactions = self.engine.interactions
        self.run_engine(lambda: interactions.entries(limit=MAX_LIMIT, **filters),
                        lambda result: self._show_log(result["interactions"], filters),
                        group="interactions-log", description="loading the interaction log")

    def _show_log(self, rows: list[dict], filters: dict) -> None:
        table = self.query_one("#log", DataTable)
        keep = self.detail["id"] if self.detail else None
        if keep is not None and table.row_count and table.cursor_row == 0:
            keep = None  # the cursor was on the newest: it follows the newest (like tail -f)
        self.summaries = {row["id"]: row for row in rows}
        table.clear()
        for row in rows:
            table.add_row(row["created_at"], row["project"] or "—", row["client"] or "—",
                          str(row["memories_used_count"]), str(row["chunks_used_count"]),
                          _one_line(row["prompt"], 160), key=row["id"])
        self.loaded = True
        active = [f"{name.replace('_id', '')} {value}" for name, value in filters.items() if value]
        status = Text()
        status.append(f"{len(rows)}", style="bold")
        status.append(" interaction" + ("s" if len(rows) != 1 else "") + ", newest first")
        if len(rows) == MAX_LIMIT:
            status.append(f" (the newest {MAX_LIMIT} shown: narrow the filters)")
        if active:
            status.append("  ·  " + ", ".join(active))
        self._show_status(status)
        wanted, self._wanted = self._wanted, None
        target = wanted if wanted in self.summaries else keep if keep in self.summaries else None
        if target is not None:
            table.move_cursor(row=table.get_row_index(target))
        elif rows:
            table.move_cursor(row=0)
        key = table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key.value if rows else None
        if key is not None:
            self._open(key)
        else:
            self._opening = None
            self.detail = None
            self._show_detail(None)
        if wanted is not None and wanted not in self.summaries:
            self._find(wanted)

    @on(DataTable.RowHighlighted, "#log")
    def _highlighted(self) -> None:
        """Follow the table's cursor (not the event's row: events of a refill arrive late)."""
        table = self.query_one("#log", DataTable)
        if table.row_count:
            key = table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key.value
            if key is not None and key != self._opening and (self.detail is None or self.detail["id"] != key):
                self._open(key)

    # --------------------------------------------------------------- detail
    def _open(self, interaction_id: str) -> None:
        self._opening = interaction_id
        self.load_detail(interaction_id)

    @work(thread=True, exclusive=True, group="interactions-detail", exit_on_error=False,
          description="loading the interaction")
    def load_detail(self, interaction_id: str) -> None:
        with self.engine.db.connection_context():
            detail = self.engine.interactions.get(interaction_id)
            memories = {m.id: m for m in self.engine.memories.records(detail["memories_used"])}
            chunks = self.engine.chunks(detail["chunks_used"])
        used = [("memory", memory_id, _memory_label(memories.get(memory_id)))
                for memory_id in detail["memories_used"]]
        used += [("chunk", chunk_id, _chunk_label(chunks.get(chunk_id))) for chunk_id in detail["chunks_used"]]
        self.app.call_from_thread(self._set_detail, {**detail, "used": used})

    def _set_detail(self, detail: dict) -> None:
        if detail["id"] != self._opening:
            return  # the cursor has moved on
        self.detail = detail
        self._show_detail(detail)

    def _show_detail(self, detail: dict | None) -> None:
        header = self.query_one("#header", Static)
        used = self.query_one("#used", DataTable)
        used.clear()
        self.query_one("#replay", Static).update(
            Text("Press R to rebuild this interaction's pack against today's data.", style="italic"))
        if detail is None:
            header.update(Text("No interaction selected. Interactions are recorded by the Context pane "
                               "(ctrl+r), the HTTP API and MCP clients.", style="italic"))
            for name in ("#prompt", "#response", "#summary"):
                self.query_one(name, Static).update("")
            self.query_one("#pack-status", Label).update("")
            self.query_one("#pack", TextArea).load_text("")
            return
        text = Text()
        text.append(f"{detail['id'][:8]}", style="bold")
        text.append(f"  {detail['created_at']}  ·  project {detail['project'] or '—'}  ·  "
                    f"client {detail['client'] or '—'}  ·  session {detail['session_id'] or '—'}")
        header.update(text)
        self.query_one("#prompt", Static).update(Text(detail["prompt"]))
        self.query_one("#response", Static).update(
            Text(detail["response"]) if detail["response"] else Text("no response recorded", style="italic"))
        self.query_one("#summary", Static).update(
            Text(detail["response_summary"]) if detail["response_summary"]
            else Text("no summary", style="italic"))
        for kind, ref, label in detail["used"]:
            used.add_row(kind, ref[:8], label, key=f"{kind}:{ref}")
        if not detail["used"]:
            used.add_row("", "", Text("no memories or chunks recorded", style="italic"))
        pack = detail["context_pack"]
        if isinstance(pack, dict) and "tiers" in pack:
            status = Text()
            status.append("Recorded pack", style="bold")
            status.append(f"  ·  built {pack.get('built_at', '?')}  ·  {pack.get('total_chars', 0):,} of "
                          f"{pack.get('budget', 0):,} chars  ·  project {pack.get('project') or '—'}")
            self.query_one("#pack-status", Label).update(status)
            self.query_one("#pack", TextArea).load_text(pack.get("formatted_context") or "")
        else:
            self.query_one("#pack-status", Label).update(
                Text("This interaction has no recorded pack (its client did not send one).", style="italic"))
            self.query_one("#pack", TextArea).load_text("")

    @on(DataTable.RowSelected, "#used")
    def _used_selected(self, event: DataTable.RowSelected) -> None:
        key = event.row_key.value or ""
        kind, _, ref = key.partition(":")
        if kind == "memory":
            self.app.open_item("memory", ref)
        elif kind == "chunk":
            self.load_chunk(ref)

    def load_chunk(self, chunk_id: str) -> None:
        engine = self.engine

        def chunk() -> dict:
            info = engine.chunks([chunk_id]).get(chunk_id)
            if info is None:
                raise ValidationError(f"chunk {chunk_id} is no longer in the store (its note was re-ingested "
                                      "or deleted)")
            return info

        self.run_engine(chunk, lambda info: self.app.push_screen(ChunkScreen(info)),
                        group="interactions-chunk", description="opening the chunk")

    # --------------------------------------------------------------- replay
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("replay", "focus_used"):
            return True if self.detail is not None else None
        return True

    def action_replay(self) -> None:
        if self.detail is None:
            return
        tabs = self.query_one("#detail-tabs", TabbedContent)
        tabs.active = "tab-replay"
        pack = self.detail["context_pack"]
        if not (isinstance(pack, dict) and "tiers" in pack):
            self.query_one("#replay", Static).update(Text(
                "Nothing to replay: this interaction has no recorded pack. Packs are recorded when the "
                "client sends one (the Context pane's ctrl+r does).", style="bold"))
            return
        self.query_one("#replay", Static).update(Text("Rebuilding the pack…", style="italic"))
        self.replay(self.detail["id"], pack)

    @work(thread=True, exclusive=True, group="interactions-replay", exit_on_error=False,
          description="replaying the pack")
    def replay(self, interaction_id: str, recorded: dict) -> None:
        try:
            with self.engine.db.connection_context():
                result = self.engine.context.replay(interaction_id)
        except AtoCoreError as error:
            self.app.call_from_thread(self.query_one("#replay", Static).update, Text(str(error), style="bold"))
            raise
        self.app.call_from_thread(self._show_replay, interaction_id, recorded, result)

    def _show_replay(self, interaction_id: str, recorded: dict, result: dict) -> None:
        if self.detail is None or self.detail["id"] != interaction_id:
            return
        titles = {t["key"]: f"Tier {t['tier']} · {t['title']}"
                  for pack in (recorded, result["pack"]) for t in pack.get("tiers", [])}
        changes = result["changes"]
        text = Text()
        text.append("Replay", style="bold")
        text.append(f"  recorded {result.get('recorded_at') or '?'}  ·  rebuilt {result['rebuilt_at']}  ·  "
                    f"budget {result['budget']:,}\n\n")
        if not any(c["added"] or c["removed"] for c in changes):
            text.append("No changes: today's pack includes exactly the items the recorded pack did.\n\n",
                        style="bold")
        for change in changes:
            if not (change["added"] or change["removed"]):
                text.append(f"{titles.get(change['tier'], change['tier'])}: unchanged "
                            f"({change['kept']} kept)\n", style="dim")
                continue
            text.append(f"{titles.get(change['tier'], change['tier'])}: ", style="bold")
            text.append(f"+{len(change['added'])} −{len(change['removed'])}, {change['kept']} kept\n")
            for sign, items in (("+", change["added"]), ("−", change["removed"])):
                for item in items:
                    text.append(f"  {sign} ", style="bold")
                    text.append(f"{item['kind']} ")
                    text.append(_one_line(item["label"] or item["ref"], 120) + "\n")
        text.rstrip()
        self.query_one("#replay", Static).update(text)

    # ---------------------------------------------------------------- focus
    def action_focus_filters(self) -> None:
        self.query_one("#client", Input).focus()

    def action_focus_log(self) -> None:
        self.query_one("#log", DataTable).focus()

    def action_focus_used(self) -> None:
        self.query_one("#detail-tabs", TabbedContent).active = "tab-detail"
        self.query_one("#used", DataTable).focus()

    # ------------------------------------------------------------ show_item
    def show_item(self, kind: str, ref: str) -> None:
        if kind != "interaction":
            return
        match = [i for i in self.summaries if i == ref or i.startswith(ref)]
        if len(match) == 1:
            table = self.query_one("#log", DataTable)
            table.move_cursor(row=table.get_row_index(match[0]))
            table.focus()
            return
        self._wanted = ref
        if self.loaded:
            self._find(ref)

    def _find(self, ref: str) -> None:
        """An interaction the filters hide: clear them, then select it."""
        interactions = self.engine.interactions
        self.run_engine(lambda: interactions.get(ref), lambda detail: self._clear_filters_for(detail["id"]),
                        group="interactions-find", description="opening the interaction")

    def _clear_filters_for(self, interaction_id: str) -> None:
        self._wanted = interaction_id
        self.query_one("#project", Select).clear()
        for name in ("#client", "#session", "#since"):
            self.query_one(name, Input).value = ""
        if self._timer is not None:
            self._timer.stop()
        self.apply_filters()


def _memory_label(memory) -> Text | str:
    if memory is None:
        return Text("(memory not found)", style="italic")
    return f"{memory.status} · {_one_line(memory.content, 100)}"


def _chunk_label(chunk) -> Text | str:
    if chunk is None:
        return Text("(chunk no longer in the store)", style="italic")
    where = chunk["heading_path"] or chunk["title"] or ""
    return f"{chunk['path']} · {_one_line(where, 60)}"


def _one_line(text: str, limit: int) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[:limit - 1].rstrip() + "…"
