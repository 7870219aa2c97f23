"""The interaction log: record, list and read LLM round-trips.

Recording an interaction is also when the knowledge layers learn from it:
memories the response used are *reinforced* (in the same transaction as the
record, so a record never exists without its reinforcement), and cue-based
*extraction* proposes candidate memories for the review queue.

Extraction runs after the record's transaction has committed, in its own
transaction: it may embed text and may call an external command (up to 30 s),
and neither should hold the database's write lock that the other process (the
workstation or the server) waits on; an extraction fault must not lose the
record either — it is reported in the answer, and ``Extractor.run_all`` can
redo it later.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from peewee import SQL, fn

from ..errors import AtoCoreError, ValidationError
from ..store.lookup import find_interaction, normalise_since
from ..store.models import Interaction, utc_now

if TYPE_CHECKING:
    from ..engine import Engine

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
PROMPT_PREVIEW_CHARS = 200
"""Faces may name an interaction by a unique id prefix of at least this many characters."""

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "Extraction", "InteractionLog", "find_interaction", "normalise_since"]


class Extraction(Protocol):
    """What the log needs from extraction (``memory.extraction.Extractor``): the
    Engine hands one to the log, so the log never imports the memory layer."""

    def run(self, interaction_id: str) -> list[str]: ...

    def run_all(self, since: str | None = None, project: str | None = None) -> dict: ...


def _command(value: Any) -> list[str] | None:
    """An external command from settings: an argument list, or a string split
    like a shell would (it is never run through a shell)."""
    if not value:
        return None
    return shlex.split(value) if isinstance(value, str) else [str(part) for part in value]


class InteractionLog:
    """Record / list / get interactions; the one way faces touch the log."""

    def __init__(self, engine: Engine, *, extractor: Extraction | None = None,
                 extract_on_record: bool | None = None, external_command: Sequence[str] | None = None):
        """``extractor``: the extraction service to call (by default the Engine
        makes one for ``external_command`` or the configured command)."""
        self.engine = engine
        settings = engine.settings.extraction
        self.extract_on_record = (settings.on_record if extract_on_record is None
                                  else bool(extract_on_record))
        if extractor is None:
            command = external_command if external_command is not None else _command(settings.command)
            extractor = engine.extractor(command or None)
        self.extractor = extractor

    # -------------------------------------------------------------- record
    def record(self, prompt: str, response: str = "", response_summary: str = "", project: str = "",
               client: str = "", session_id: str = "", memories_used: Sequence[str] = (),
               chunks_used: Sequence[str] = (), context_pack: Any = None, *,
               new_label: bool = False) -> dict:
        """Store one round-trip; reinforce the memories its response used; extract candidates.

        Returns ``{status: "recorded", id, created_at, reinforced: [memory ids],
        candidates: [memory ids]}``, plus ``extraction_error`` when extraction
        failed (the interaction is recorded all the same).
        """
        if not isinstance(prompt, str) or not prompt.strip():
            raise ValidationError("prompt must not be blank")
        fields = {name: _text(name, value) for name, value in (
            ("response", response), ("response_summary", response_summary),
            ("client", client), ("session_id", session_id))}
        fields["client"], fields["session_id"] = fields["client"].strip(), fields["session_id"].strip()
        memories = _id_list("memories_used", memories_used)
        chunks = _id_list("chunks_used", chunks_used)
        _check_json("context_pack", context_pack)
        canonical = self.engine.resolve_project(project, new_label=new_label) or ""

        with self.engine.db.atomic():
            row = Interaction.create(prompt=prompt, project=canonical, memories_used=memories,
                                     chunks_used=chunks, context_pack=context_pack,
                                     created_at=utc_now(), **fields)
            reinforced: list[str] = (list(self.engine.memories.reinforce(memories, fields["response"],
                                                              project=canonical or None))
                          if fields["response"].strip() else [])
        result = {"status": "recorded", "id": row.id, "created_at": row.created_at,
                  "reinforced": reinforced, "candidates": []}
        if self.extract_on_record:
            try:
                result["candidates"] = self.extractor.run(row.id)
            except AtoCoreError as error:
                result["extraction_error"] = str(error)
        return result

    # ---------------------------------------------------------------- read
    def entries(self, project: str | None = None, session_id: str | None = None, client: str | None = None,
             since: str | None = None, limit: int | None = DEFAULT_LIMIT, *, full: bool = False) -> dict:
        """Newest first (equal times: the later record first); ``since`` inclusive.

        ``limit`` above the hard cap of 500 is capped; below 1 is an error.
        ``full``: each summary has the whole prompt, the ``memories_used`` and
        ``chunks_used`` lists and ``response_chars`` (the original service's list).
        """
        limit = _limit(limit)
        since_at = normalise_since(since)
        canonical = self.engine.resolve_project(project)
        query = Interaction.select(
            Interaction.id, fn.substr(Interaction.prompt, 1, PROMPT_PREVIEW_CHARS + 1).alias("preview"),
            Interaction.response_summary, Interaction.project, Interaction.client,
            Interaction.session_id, Interaction.created_at,
            fn.COALESCE(fn.json_array_length(Interaction.memories_used), 0).alias("memories_count"),
            fn.COALESCE(fn.json_array_length(Interaction.chunks_used), 0).alias("chunks_count"))
        if full:
            query = query.select_extend(Interaction.prompt, Interaction.memories_used, Interaction.chunks_used,
                                        fn.length(Interaction.response).coerce(False).alias("response_chars"))
        if canonical:
            query = query.where(Interaction.project == canonical)
        for column, value in ((Interaction.session_id, session_id), (Interaction.client, client)):
            if value is not None and str(value).strip():
                query = query.where(column == str(value).strip())
        if since_at:
            query = query.where(Interaction.created_at >= since_at)
        query = query.order_by(Interaction.created_at.desc(), SQL("rowid").desc()).limit(limit)
        summaries = [_summary(row, full) for row in query.dicts()]
        return {"count": len(summaries), "interactions": summaries}

    def get(self, interaction_id: str) -> dict:
        """The full record of one interaction."""
        row = find_interaction(interaction_id)
        return {"id": row.id, "prompt": row.prompt, "response": row.response,
                "response_summary": row.response_summary, "project": row.project, "client": row.client,
                "session_id": row.session_id, "memories_used": row.memories_used or [],
                "chunks_used": row.chunks_used or [], "context_pack": row.context_pack,
                "created_at": row.created_at}

    # ---------------------------------------------------------- extraction
    def extract(self, interaction_id: str) -> list[str]:
        """Extract candidates from one past interaction (ids of new candidates)."""
        return self.extractor.run(interaction_id)

    def extract_all(self, since: str | None = None, project: str | None = None) -> dict:
        """Extract over past interactions; re-running creates no duplicates."""
        return self.extractor.run_all(since=since, project=project)

    # The old public name (callers outside the package and older tests use it);
    # last in the class, so it shadows no ``list[...]`` annotation.
    list = entries


# ---------------------------------------------------------------- helpers

def _text(name: str, value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError(f"{name} must be text")
    return value


def _id_list(name: str, values: Any) -> list[str]:
    """A list of ids: strings, blanks refused, order kept, repeats dropped."""
    if values is None:
        return []
    if isinstance(values, (str, bytes)) or not isinstance(values, (list, tuple)):
        raise ValidationError(f"{name} must be a list of ids")
    out: list[str] = []
    for value in values:
        if not isinstance(value, str) or not value.strip():
            raise ValidationError(f"{name} must contain only non-blank id strings, got {value!r}")
        if value.strip() not in out:
            out.append(value.strip())
    return out


def _check_json(name: str, value: Any) -> None:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise ValidationError(f"{name} must be JSON data: {error}") from None


def _limit(limit: Any) -> int:
    if limit is None:
        return DEFAULT_LIMIT
    if isinstance(limit, bool) or not isinstance(limit, int):
        raise ValidationError(f"limit must be a whole number from 1 to {MAX_LIMIT}")
    if limit < 1:
        raise ValidationError(f"limit must be at least 1 (at most {MAX_LIMIT}), got {limit}")
    return min(limit, MAX_LIMIT)


def _summary(row: dict, full: bool = False) -> dict:
    preview = row["preview"] or ""
    if len(preview) > PROMPT_PREVIEW_CHARS:
        preview = preview[:PROMPT_PREVIEW_CHARS - 1].rstrip() + "…"
    if full:
        return {"id": row["id"], "prompt": row["prompt"], "response_summary": row["response_summary"],
                "response_chars": row["response_chars"] or 0, "project": row["project"],
                "client": row["client"], "session_id": row["session_id"],
                "memories_used": _as_ids(row["memories_used"]), "chunks_used": _as_ids(row["chunks_used"]),
                "created_at": row["created_at"], "memories_used_count": row["memories_count"],
                "chunks_used_count": row["chunks_count"]}
    return {"id": row["id"], "prompt": preview, "response_summary": row["response_summary"],
            "project": row["project"], "client": row["client"], "session_id": row["session_id"],
            "created_at": row["created_at"], "memories_used_count": row["memories_count"],
            "chunks_used_count": row["chunks_count"]}


def _as_ids(value: Any) -> list[str]:
    """A stored id list as a list (JSONField gives it decoded; be tolerant of old rows)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return []
    return list(value) if isinstance(value, list) else []
