"""Full-text search over chunks (SQLite FTS5, BM25) and the chunk look-ups
that retrieval needs. The only place that speaks FTS5 syntax."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import NamedTuple

from peewee import SqliteDatabase

# Column weights for bm25(): title, heading_path, tags, content.
BM25_WEIGHTS = (3.0, 2.0, 2.0, 1.0)

def match_expression(terms: Sequence[str], all_of: Sequence[str] = ()) -> str | None:
    """A safe FTS5 MATCH expression: any of ``terms`` (OR), or every one of
    ``all_of`` (AND) when given.

    Every term is quoted, which makes user punctuation (``-``, ``:``, ``*``,
    ``"``) literal, so no query text can be an FTS5 syntax error. BM25 then
    ranks chunks that match more (and rarer) terms higher.
    """
    def quote(term: str) -> str:
        return '"' + term.replace('"', '""') + '"'

    if all_of:
        return " AND ".join(quote(term) for term in all_of)
    if not terms:
        return None
    return " OR ".join(quote(term) for term in terms)


TOKENIZER = "porter unicode61 remove_diacritics 2"
"""The chunk index's tokenizer (the schema's ``tokenize=`` option)."""

_PROBE_LOCK = threading.Lock()
_probe: sqlite3.Connection | None = None


@lru_cache(maxsize=65_536)
def index_terms(word: str) -> tuple[str, ...]:
    """The terms the chunk index stores for ``word``: what its own tokenizer
    (porter stems over unicode61) makes of it, asked of an in-memory FTS5
    table with the same tokenizer, so no stem is guessed (``testing`` ->
    ``test``, ``decided`` -> ``decid``; a word with a hyphen gives several)."""
    global _probe
    with _PROBE_LOCK:
        if _probe is None:
            _probe = sqlite3.connect(":memory:", check_same_thread=False)
            _probe.execute(f"CREATE VIRTUAL TABLE probe USING fts5(x, tokenize='{TOKENIZER}')")
            _probe.execute("CREATE VIRTUAL TABLE probe_terms USING fts5vocab(probe, 'instance')")
        _probe.execute("INSERT INTO probe(rowid, x) VALUES (1, ?)", (word,))
        try:
            rows = _probe.execute("SELECT term FROM probe_terms ORDER BY offset").fetchall()
        finally:
            _probe.execute("DELETE FROM probe")
    return tuple(str(term) for (term,) in rows)


SAMPLE_ABOVE = 20_000
"""Indexes with more chunks than this estimate a frequent word's count (below, exact)."""
SAMPLED_CHUNKS = 10_000
"""About how many chunks the estimate reads: those whose key is in the first share of the key space."""
EXACT_BELOW = 50
"""A word seen fewer times than this in the sample is rare: its count is read exactly (cheaply)."""
KEY_SPACE = 1 << 63
"""Chunk keys are the first 63 bits of a SHA-256 (``ingest.pipeline.chunk_key``), so
the chunks in any range of keys are a uniform sample of all of them."""


def _exact_frequency(db: SqliteDatabase, term: str) -> int:
    counts = []
    for stored in index_terms(term):
        row = db.execute_sql("SELECT doc FROM chunk_fts_vocab WHERE term = ?", (stored,)).fetchone()
        counts.append(int(row[0]) if row else 0)
    return min(counts) if counts else 0


def document_frequencies(db: SqliteDatabase, terms: Sequence[str], chunks: int = 0) -> dict[str, int]:
    """How many chunks contain each term (0 when none do).

    Exact counts walk the term's whole list of chunks (fts5vocab stores no
    counts): 1.5 ms for a word in 12k of 100k chunks. So on an index of more
    than ``SAMPLE_ABOVE`` chunks a word is first counted among the chunks of
    a key range holding about ``SAMPLED_CHUNKS`` of them and scaled up (a
    word in 12k of 100k chunks: 0.06 ms, within a few per cent); a word
    rarer than ``EXACT_BELOW`` there is counted exactly, which is cheap
    because its list is short. Estimates are deterministic for given data.

    A term the tokenizer splits (``17-4ph``) is matched as a phrase: its exact
    count is that of its rarest part (an upper bound, which is what a budget needs).
    """
    result: dict[str, int] = {}
    bound = KEY_SPACE * min(1.0, SAMPLED_CHUNKS / chunks) if chunks > SAMPLE_ABOVE else 0
    for term in terms:
        if bound:
            expression = match_expression([term])
            sampled = db.execute_sql("SELECT count(*) FROM chunk_fts WHERE chunk_fts MATCH ? AND rowid < ?",
                                     (expression, int(bound))).fetchone()[0]
            if sampled >= EXACT_BELOW:
                result[term] = round(sampled * KEY_SPACE / bound)
                continue
        result[term] = _exact_frequency(db, term)
    return result


def _filters(project: str | None, tags: Sequence[str] | None, params: list) -> str:
    sql = ""
    if project:
        sql += " AND d.project = ?"
        params.append(project)
    if tags:
        sql += (" AND EXISTS (SELECT 1 FROM json_each(c.tags) WHERE json_each.value IN ("
                + ",".join("?" * len(tags)) + "))")
        params.extend(tags)
    return sql


def search(db: SqliteDatabase, terms: Sequence[str], limit: int, *, project: str | None = None,
           tags: Sequence[str] | None = None, all_of: Sequence[str] = ()) -> list[tuple[int, float]]:
    """(chunk key, bm25 relevance) for chunks matching any term (or all of
    ``all_of``), best first; relevance is positive, higher is better."""
    expression = match_expression(terms, all_of)
    if expression is None or limit <= 0:
        return []
    if not project and not tags:
        # Rank in the FTS table alone; nothing to join for.
        sql = ("SELECT rowid, -bm25(chunk_fts, ?, ?, ?, ?) AS relevance FROM chunk_fts"
               " WHERE chunk_fts MATCH ? ORDER BY relevance DESC LIMIT ?")
        rows = db.execute_sql(sql, [*BM25_WEIGHTS, expression, limit]).fetchall()
        return [(int(key), float(score)) for key, score in rows]
    params: list = [*BM25_WEIGHTS, expression]
    sql = (
        "SELECT c.key, -bm25(chunk_fts, ?, ?, ?, ?) AS relevance"
        " FROM chunk_fts JOIN chunk c ON c.key = chunk_fts.rowid"
        " JOIN document d ON d.id = c.document_id"
        " WHERE chunk_fts MATCH ?"
    )
    sql += _filters(project, tags, params)
    sql += " ORDER BY relevance DESC LIMIT ?"
    params.append(limit)
    return [(int(key), float(score)) for key, score in db.execute_sql(sql, params).fetchall()]


def keys_passing_filters(db: SqliteDatabase, keys: Iterable[int], *, project: str | None = None,
                         tags: Sequence[str] | None = None) -> set[int]:
    """The subset of chunk keys that exist and pass the project/tag filters."""
    keys = list(keys)
    if not keys:
        return set()
    params: list = list(keys)
    sql = ("SELECT c.key FROM chunk c JOIN document d ON d.id = c.document_id"
           " WHERE c.key IN (" + ",".join("?" * len(keys)) + ")")
    sql += _filters(project, tags, params)
    return {int(row[0]) for row in db.execute_sql(sql, params).fetchall()}


class ChunkRow(NamedTuple):
    """What retrieval needs of a chunk and its document (read without model objects)."""

    key: int
    chunk_id: str
    heading_path: str
    title: str
    content: str
    tags: list
    content_hash: str
    line_start: int
    line_end: int
    path: str
    source: str
    project: str


def chunk_rows(db: SqliteDatabase, keys: Sequence[int]) -> dict[int, ChunkRow]:
    """Chunk rows joined with their document, by key."""
    found: dict[int, ChunkRow] = {}
    keys = list(keys)
    for start in range(0, len(keys), 500):
        batch = keys[start:start + 500]
        rows = db.execute_sql(
            "SELECT c.key, c.chunk_id, c.heading_path, c.title, c.content, c.tags, c.content_hash,"
            " c.line_start, c.line_end, d.path, d.source, d.project"
            " FROM chunk c JOIN document d ON d.id = c.document_id"
            " WHERE c.key IN (" + ",".join("?" * len(batch)) + ")", batch).fetchall()
        for row in rows:
            found[int(row[0])] = ChunkRow(int(row[0]), row[1], row[2] or "", row[3] or "", row[4],
                                          json.loads(row[5]) if row[5] else [], row[6], row[7], row[8],
                                          row[9], row[10], row[11] or "")
    return found


def optimize(db: SqliteDatabase) -> None:
    """Merge the index's segments into one (after a bulk write)."""
    with db.atomic():
        db.execute_sql("INSERT INTO chunk_fts(chunk_fts) VALUES ('optimize')")


def rebuild(db: SqliteDatabase) -> None:
    """Rebuild the FTS index from the chunk table (repair after corruption)."""
    db.execute_sql("INSERT INTO chunk_fts(chunk_fts) VALUES ('rebuild')")


def check(db: SqliteDatabase) -> bool:
    """FTS5's own consistency check against the chunk table."""
    try:
        db.execute_sql("INSERT INTO chunk_fts(chunk_fts, rank) VALUES ('integrity-check', 1)")
    except Exception:
        return False
    return True
