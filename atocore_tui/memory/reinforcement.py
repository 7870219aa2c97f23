"""Reinforcement: memories that a response actually used grow in trust.

Called by :meth:`atocore_tui.memory.service.MemoryService.reinforce` when an
interaction with a response is recorded. This module is pure (no database):
it decides *which* memories were used and *how much* their confidence moves,
so the rule is deterministic and testable on its own.

A memory counts as used when

* it is listed in the interaction's ``memories_used`` and is ``active``, or
* it is ``active`` and the response repeats it: of the memory's normalised
  content tokens (lowercase, punctuation stripped, stopwords dropped), at least
  :data:`OVERLAP_THRESHOLD` appear in the response, and the memory has at least
  :data:`MIN_TOKENS` such tokens (shorter memories would match nearly anything).

A used memory gains one reference, a last-referenced time and a confidence
nudge ``c + STEP * (1 - c)`` capped at :data:`CONFIDENCE_CAP`: each use closes
a fixed share of the remaining distance to certainty, so many uses approach
the cap but one lucky use never makes a guess look certain. The nudge never
lowers a confidence that is already above the cap (a user's 1.0 stays 1.0).
Candidates, invalid, superseded and graduated memories are never reinforced:
only what the user trusts is in play.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from ..search import terms

CONFIDENCE_STEP = 0.1
"""Share of the remaining distance to 1.0 that one use closes."""
CONFIDENCE_CAP = 0.99
"""Reinforcement never raises confidence above this; only a person sets 1.0."""
OVERLAP_THRESHOLD = 0.6
"""Share of a memory's tokens that must appear in the response."""
MIN_TOKENS = 3
"""A memory needs this many content tokens to be matched by overlap alone."""

tokens = terms.tokens
"""Normalised content tokens (see :mod:`atocore_tui.search.terms`)."""


def overlap(memory_tokens: frozenset[str], response_tokens: frozenset[str]) -> float:
    """|memory ∩ response| / |memory|: how much of the memory the response repeats."""
    if not memory_tokens:
        return 0.0
    return len(memory_tokens & response_tokens) / len(memory_tokens)


def repeats(memory_content: str, response_tokens: frozenset[str]) -> bool:
    """Whether a response repeats a memory strongly enough to count as using it."""
    mine = tokens(memory_content)
    return len(mine) >= MIN_TOKENS and overlap(mine, response_tokens) >= OVERLAP_THRESHOLD


MIN_SHARED = math.ceil(MIN_TOKENS * OVERLAP_THRESHOLD)
"""Tokens a response shares with any memory it repeats: a memory has at least
MIN_TOKENS of them and the response holds OVERLAP_THRESHOLD of those."""


def may_repeat(response_text: str) -> bool:
    """Whether a response has enough tokens to repeat any memory at all (an
    "ok" repeats none, so the memories need not be read to know it)."""
    return len(tokens(response_text or "")) >= MIN_SHARED


def nudged(confidence: float) -> float:
    """The confidence after one use: a step towards 1.0, capped, never lowered."""
    raised = min(CONFIDENCE_CAP, confidence + CONFIDENCE_STEP * (1.0 - confidence))
    return round(max(confidence, raised), 6)


def used_memories(active: Sequence[tuple[str, str]], listed_ids: Iterable[str],
                  response_text: str) -> list[str]:
    """The ids of the active memories a response used, in a stable order.

    ``active`` holds ``(id, content)`` of the active memories in scope (the
    caller has already excluded every other status); ``listed_ids`` are the
    ids the client said it used. Listed ones come first in the order given,
    then overlap matches in the order of ``active``; no id appears twice.
    """
    known = {memory_id for memory_id, _ in active}
    chosen: list[str] = []
    for memory_id in listed_ids:
        if memory_id in known and memory_id not in chosen:
            chosen.append(memory_id)
    response_tokens = tokens(response_text or "")
    if response_tokens:
        for memory_id, content in active:
            if memory_id not in chosen and repeats(content, response_tokens):
                chosen.append(memory_id)
    return chosen
