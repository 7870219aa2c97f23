"""The original AtoCore service's answers, where ours say more or differently.

The engine's own answers carry more detail than the original's; the routes of
the original contract pass them through the helpers here so that a client of
the original finds every field it reads, with the type and status string it
expects (extra fields are left in). Every deliberate difference that remains
is listed in ``docs/serve.md``.
"""

from __future__ import annotations

import hmac
import os
from typing import TYPE_CHECKING, Any

from ..config import SOURCE_NAMES
from ..context.builder import debug_fields, unknown_hint_warning
from ..errors import NotFound

if TYPE_CHECKING:
    from ..engine import Engine

NO_PACK_MESSAGE = "No context pack built yet."
ENV_VARIABLE = "ATOCORE_ENV"
DEFAULT_ENV = "local"


# ------------------------------------------------------------ project names
def read_project(engine: Engine, name: Any) -> tuple[str | None, list[str]]:
    """A project name on a read: its canonical id, or — for a name nobody uses —
    ``None`` and a warning (the original treated it as a free-text hint)."""
    try:
        return engine.resolve_project(name), []
    except NotFound:
        return None, [unknown_hint_warning(name)]


def unknown_read(engine: Engine, name: Any) -> list[str] | None:
    """The warnings when ``name`` is a project nobody uses (the read then finds
    nothing), ``None`` when it is blank or known."""
    if name is None or not str(name).strip():
        return None
    canonical, warnings = read_project(engine, name)
    return warnings if canonical is None else None


# ---------------------------------------------------------------- answers
def ok(answer: dict, result: str) -> dict:
    """The original's ``"status": "ok"``; our finer outcome stays in ``result``."""
    return {**answer, "status": "ok", "result": result}


def pack(data: dict) -> dict:
    """A pack's dict form with the original's keys added (``/context/build`` and
    ``/debug/context``): chunks with ``char_count`` and ``content_preview``,
    whole-millisecond ``duration_ms``, characters and presence per section."""
    return {**data, **debug_fields(data)}


def no_pack() -> dict:
    return {"message": NO_PACK_MESSAGE}


# ----------------------------------------------------------------- status
def authenticated(request, token: str | None) -> bool:
    """True without a token, or when the request carries the right one."""
    if not token:
        return True
    given = request.headers.get("authorization", "")
    return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())


def source_status(engine: Engine, *, show_paths: bool = True) -> list[dict]:
    """Every source the original knew (vault, drive): configured or not, and ready."""
    configured = engine.settings.configured_sources()
    status = []
    for name in SOURCE_NAMES:
        path = configured.get(name)
        entry = {"name": name, "enabled": path is not None,
                 "path": str(path) if (path is not None and show_paths) else "",
                 "exists": bool(path is not None and path.exists()),
                 "is_dir": bool(path is not None and path.is_dir())}
        status.append(entry)
    return status


def sources_ready(status: list[dict]) -> bool:
    return all((not s["enabled"]) or (s["exists"] and s["is_dir"]) for s in status)


def machine_paths(engine: Engine, status: dict) -> dict:
    """The original's ``machine_paths``, mapped onto one data dir: the database,
    the vector index folder (its ``chroma_path``), backups, the data dir itself as
    the run dir; ``log_dir`` is empty (the server logs to stderr). ``status``
    is :meth:`Engine.status`."""
    return {"db_path": status["database"]["path"],
            "chroma_path": str(engine.vectors.index.path.parent),
            "log_dir": "",
            "backup_dir": str(engine.backups.root),
            "run_dir": status["data_dir"]}


def env_name() -> str:
    return os.environ.get(ENV_VARIABLE, "").strip() or DEFAULT_ENV
