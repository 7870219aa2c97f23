"""Full-text search over chunks (SQLite FTS5, BM25) and the chunk look-ups
that retrieval needs. The only place that speaks FTS5 syntax."""

from __future__ import annotations

from typing import Iterable, Sequence

from peewee import SqliteDatabase

from .models import Chunk

# Column weights for bm25(): title, heading_path, tags, content.
BM25_WEIGHTS = (3.0, 2.0, 2.0, 1.0)

def match_expression(terms: Sequence[str]) -> str | None:
    """A safe FTS5 MATCH expression: every term quoted, OR-ed together.

    Quoting makes user punctuation (``-``, ``:``, ``*``, ``"``) literal, so no
    query text can be an FTS5 syntax error. BM25 then ranks chunks that match
    more (and rarer) terms higher.
    """
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


def search(db: SqliteDatabase, terms: Sequence[str], limit: int, *, project: str | None = None,
           tags: Sequence[str] | None = None) -> list[tuple[int, float]]:
    """(chunk key, bm25 relevance) for chunks matching any term, best first;
    relevance is positive, higher is better."""
    expression = match_expression(terms)
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
