"""Duplicate scoring: when two memories state the same fact."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from . import reinforcement
from .records import LiveMemory

DUPLICATE_THRESHOLD = 0.75
"""Duplicate score (below) at or above which a memory is flagged as a likely
duplicate. Measured with ``bench/memory_duplicates.py`` (bundled model2vec
model) on 40 paraphrase pairs and 42 related-but-different pairs from the
sample vault's domain (Orion drive unit, CP-200 cold plate, preferences):
precision 0.97, recall 0.78 (31 of 40 found, 1 false flag). Precision is worth
more than recall: a false flag invites a merge of two different facts and makes
extraction drop a new one, while a missed duplicate is still shown as the
nearest memory with its score. Below 0.75 numberless related pairs ("planetary
gearbox" vs "PFPE grease for the gearbox", 0.73) start to be flagged; from
0.80 up recall falls to 0.65 and below. A query over 5,000 memories takes
about 20 ms once their vectors are cached (320 ms to embed them the first time)."""
NUMBER_CONFLICT_CEILING = 0.70
"""Static embeddings barely see numbers: "stage 1 ratio is 8:1" and "stage 2
ratio is 6:1" score 1.00, and on the bench set plain cosine reaches only
0.70-0.79 precision at any threshold (0.74 at 0.75). When two statements
carry numbers or identifiers (tokens with a digit) and neither set contains
the other, they state different values, so their duplicate score is capped
here, below the threshold: still a near neighbour (perhaps one to supersede),
never a duplicate."""


@lru_cache(maxsize=16_384)
def numbers(text: str) -> frozenset[str]:
    """Numbers and identifiers in a statement: its tokens that contain a digit."""
    return frozenset(t for t in reinforcement.tokens(text) if any(c.isdigit() for c in t))


def duplicate_score(similarity: float, text: str, other: str) -> float:
    """Cosine similarity, capped at :data:`NUMBER_CONFLICT_CEILING` when the two
    texts state different numbers (see there). Compare with DUPLICATE_THRESHOLD."""
    mine, theirs = numbers(text), numbers(other)
    if mine <= theirs or theirs <= mine:
        return similarity
    return min(similarity, NUMBER_CONFLICT_CEILING)


def rank_neighbours(text: str, pool: Sequence[LiveMemory], similarities: np.ndarray, limit: int,
                    exclude: set[str]) -> list[tuple[str, float]]:
    """Ids and rounded duplicate scores of the ``limit`` pool members closest
    to ``text`` (ties: older first). Only similarities above the
    number-conflict ceiling can be capped, so only those texts are tokenised.
    A similarity of ``-inf`` marks a member that is out of scope."""
    scores = np.round(similarities.astype(np.float64), 4)
    for i in np.flatnonzero(scores > NUMBER_CONFLICT_CEILING):
        scores[i] = round(duplicate_score(float(scores[i]), text, pool[int(i)].content), 4)
    picked: list[tuple[str, float]] = []
    for i in np.lexsort((np.arange(len(pool)), -scores)):
        if len(picked) == limit or not np.isfinite(scores[i]):
            break
        if pool[int(i)].id not in exclude:
            picked.append((pool[int(i)].id, float(scores[i])))
    return picked
