"""Full-text search over chunks (SQLite FTS5, BM25) and the chunk look-ups
that retrieval needs. The only place that speaks FTS5 syntax."""

from __future__ import annotations

import re
from typing import Iterable, Sequence

from peewee import SqliteDatabase

from .models import Chunk

# Column weights for bm25(): title, heading_path, tags, content.
BM25_WEIGHTS = (3.0, 2.0, 2.0, 1.0)

STOPWORDS = frozenset("""
a about above after again against all am an and any are as at be because been
before being below between both but by can could did do does doing down during
each few for from further had has have having he her here hers herself him
himself his how i if in into is it its itself just me more most my myself no
nor not now of off on once only or other our ours ourselves out over own same
she should so some such than that the their theirs them themselves then there
these they this those through to too under until up very was we were what when
where which while who whom why will with would you your yours yourself
yourselves did does tell know whats which show find give get got
""".split())

_WORD = re.compile(r"[\w][\w\-.]*[\w]|[\w]", re.UNICODE)


def query_terms(text: str) -> list[str]:
    """The distinct, meaningful words of a query, in order."""
    seen: dict[str, None] = {}
    for match in _WORD.finditer(text.lower()):
        word = match.group(0)
        if word in STOPWORDS or (len(word) < 2 and not word.isdigit()):
            continue
        seen.setdefault(word, None)
    return list(seen)


def match_expression(text: str) -> str | None:
    """A safe FTS5 MATCH expression: every term quoted, OR-ed together.

    Quoting makes user punctuation (``-``, ``:``, ``*``, ``"``) literal, so no
    query text can be an FTS5 syntax error. BM25 then ranks chunks that match
    more (and rarer) terms higher.
    """
    terms = query_terms(text)
    if not terms:
        return None
    return " OR ".join('"' + term.replace('"', '""') + '"' for term in terms)


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


def search(db: SqliteDatabase, text: str, limit: int, *, project: str | None = None,
           tags: Sequence[str] | None = None) -> list[tuple[int, float]]:
    """(chunk key, bm25 relevance) best first; relevance is positive, higher is better."""
    expression = match_expression(text)
    if expression is None or limit <= 0:
        return []
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


def chunks_with_documents(keys: Sequence[int]) -> dict[int, Chunk]:
    """Chunk rows (with their document joined in) by key."""
    if not keys:
        return {}
    from .models import Document

    query = (Chunk.select(Chunk, Document)
             .join(Document)
             .where(Chunk.key.in_(list(keys))))
    return {row.key: row for row in query}


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
