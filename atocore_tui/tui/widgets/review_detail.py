"""The Review pane's detail: the candidate's card, its evidence, its near memories."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Label, Static

from ...memory.review import ReviewItem
from ...memory.service import MemoryRecord


class ReviewDetail(VerticalScroll):
    """What a reviewer reads before deciding."""

    def compose(self) -> ComposeResult:
        yield Static("", id="card")
        yield Label("Evidence", classes="section")
        yield Static("", id="evidence")
        yield Label("Near memories", classes="section")
        yield Static("", id="neighbours")

    def show_loading(self) -> None:
        self.query_one("#card", Static).update(Text("Loading the review queue…", style="italic"))

    def show_empty(self) -> None:
        self.query_one("#card", Static).update(Text.assemble(
            ("The review queue is empty.", "bold"), "\n",
            ("Recorded interactions propose new candidates; they will show up here.", "italic")))
        self.query_one("#evidence", Static).update("")
        self.query_one("#neighbours", Static).update("")

    def show_candidate(self, item: ReviewItem) -> None:
        memory = item.memory
        self.query_one("#card", Static).update(memory_card(memory, item))
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

    def show_other(self, record: MemoryRecord, audit: list[Any]) -> None:
        """A memory that is not in the queue (opened from elsewhere): its card and history."""
        self.query_one("#card", Static).update(memory_card(record, None))
        trail = Text()
        trail.append("Not in the review queue. Its history:\n", style="italic")
        for entry in audit[-8:]:
            trail.append(f"{entry.at}  {entry.action:<16} {entry.actor}\n")
        self.query_one("#evidence", Static).update(trail)
        self.query_one("#neighbours", Static).update(
            Text("Move the cursor (j/k) to go back to the queue.", style="italic"))


def memory_card(memory: MemoryRecord, item: ReviewItem | None) -> Text:
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
