"""The FastAPI app: the engine behind the HTTP contract of SPEC §3.

Routes are plain ``def`` functions: FastAPI runs them in its thread pool, and
the engine is synchronous. That is safe because Peewee's SqliteDatabase gives
each thread its own connection (WAL: readers see every committed write, also
another process's), the vector index is guarded by its own lock and reloads
when another process saved a newer file, and ingestion takes the data dir's
ingestion lock (a second one answers 409).
"""

from __future__ import annotations

import contextlib
import os
from typing import TYPE_CHECKING

from fastapi import FastAPI

from .. import __version__
from . import errors, routes_admin, routes_core, routes_graph, routes_interactions, routes_memory, routes_projects
from .guards import MAX_BODY_BYTES, BodyLimit, RequestGuard, TokenGuard, install_storage_errors

if TYPE_CHECKING:
    from ..engine import Engine

TOKEN_ENV = "ATOCORE_API_TOKEN"


def token_from_env(env: dict | None = None) -> str | None:
    value = (os.environ if env is None else env).get(TOKEN_ENV, "").strip()
    return value or None


REQUEST_THREADS = 2
"""Threads that run requests in a worker (the routes are plain ``def``; anyio's
default is 40). Python runs one of them at a time, so more only wait for the
GIL and hold memory. 100k chunks, 8 clients, a connection per request
(bench/serve_load.py): 40 threads 33.8 req/s, p99 1,499 ms; 4 threads
40.6-43.2 req/s, p99 530-545 ms. Once numpy's BLAS stopped spinning
(``server.BLAS_THREADS``), 2 threads beat 3 and 4 in interleaved runs: one
worker 106.6 / 99.0 / 79.6 req/s, p99 152 / 187 / 227 ms; two workers 125.3 /
123.3 / 106.9 req/s, p99 188 / 208 / 290 ms. Routes that can run for minutes
use their own threads (LONG_THREADS), so they never hold these."""
LONG_THREADS = 2
"""Threads for the routes that can run for minutes (ingestion, backups and
their checks, extraction over the whole log): :func:`~.deps.run_long`."""


@contextlib.asynccontextmanager
async def _lifespan(app):
    import anyio
    import anyio.to_thread

    anyio.to_thread.current_default_thread_limiter().total_tokens = REQUEST_THREADS
    app.state.long_limiter = anyio.CapacityLimiter(LONG_THREADS)
    yield


def create_app(engine: Engine, *, token: str | None = None, max_body_bytes: int = MAX_BODY_BYTES,
               allow_remote: bool = False):
    """The ASGI app for ``engine``: the FastAPI app wrapped in the body limit
    the request guard (loopback Host unless ``allow_remote``, JSON writes, no lone
    surrogates, bounded nesting and ids) and, when a token is given, the
    bearer-token guard. ``app.state.engine``
    (on the inner app, reachable as ``.api``) is the engine every route uses."""
    api = FastAPI(
        lifespan=_lifespan,
        title="AtoCore TUI",
        version=__version__,
        description="A local-first context engine: the HTTP face of atocore-tui (`--serve`). "
                    "Compatible with the original AtoCore service; plus the review queue, "
                    "the engineering graph, alerts and context receipts.")
    api.state.engine = engine
    api.state.token = token
    errors.install(api)
    install_storage_errors(api)
    for module in (routes_core, routes_projects, routes_memory, routes_interactions, routes_admin):
        api.include_router(module.router)
    api.include_router(routes_graph.router)
    api.include_router(routes_graph.alerts_router)
    app = BodyLimit(TokenGuard(RequestGuard(api, allow_remote), token), max_body_bytes)
    app.api = api
    return app
