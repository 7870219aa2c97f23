"""The words of a text that carry meaning: written once, used by full-text
queries, reinforcement, duplicate checks and context relevance.

Tokens are lowercase words, numbers and engineering identifiers (``7075-t6``,
``0.31``, ``odu-req-003``), stopwords dropped.
"""

from __future__ import annotations

import re
import sys
from functools import lru_cache

STOPWORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further get
give got had has have having he her here hers herself him himself his how i if in into is it its
itself just know let like me more most my myself no nor not now of off on once only or other our ours
ourselves out over own per same she should show so some such tell than that the their theirs them
themselves then there these they this those through to too under until up very via was we were
what whats when where which while who whom why will with would you your yours yourself yourselves
""".split())

_TOKEN = re.compile(r"[^\W_]+(?:[.\-][^\W_]+)*")


@lru_cache(maxsize=16_384)
def tokens(text: str) -> frozenset[str]:
    """The distinct meaningful tokens of a text (interned: the cached sets of
    many texts share one string per word; 16,384 texts of 360 characters held
    120 MB in this cache and :func:`stems`' without, 75 MB with)."""
    return frozenset(map(sys.intern, query_terms(text)))


def query_terms(text: str) -> list[str]:
    """The meaningful tokens of a text, in order of first appearance."""
    seen: dict[str, None] = {}
    for token in _TOKEN.findall(text.lower()):
        if token in STOPWORDS or (len(token) < 2 and not token.isdigit()):
            continue
        seen.setdefault(token, None)
    return list(seen)


def stem(token: str) -> str:
    """A light English stem (plural and -ing/-ed endings), for matching
    ``bearings`` with ``bearing`` outside FTS5 (which has its own porter stemmer)."""
    for suffix, keep in (("ies", "y"), ("sses", "ss"), ("ing", ""), ("ed", ""), ("s", "")):
        if token.endswith(suffix) and len(token) - len(suffix) >= 3 and not token[-len(suffix) - 1].isdigit():
            return token[: -len(suffix)] + keep
    return token


@lru_cache(maxsize=16_384)
def stems(text: str) -> frozenset[str]:
    return frozenset(sys.intern(stem(t)) for t in tokens(text))


def coverage(query: str, text: str) -> float:
    """Share of the query's (stemmed) terms that the text contains."""
    wanted = stems(query)
    if not wanted:
        return 0.0
    return len(wanted & stems(text)) / len(wanted)
