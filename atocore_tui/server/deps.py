"""What every route module shares: the engine of the app, as a dependency,
and the thread pool of the routes that can run for minutes."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request

from ..engine import Engine


def _engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


EngineDep = Annotated[Engine, Depends(_engine)]
"""The :class:`~atocore_tui.engine.Engine` the app was created with."""


T = TypeVar("T")


async def run_long(request: Request, work: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Run a route's work that can take minutes (an ingestion, a backup) on the
    worker's own threads for such work (``app.LONG_THREADS``), not on the few
    request threads: a long ingestion leaves every request thread to the
    other clients. Errors propagate as from a plain route."""
    import anyio.to_thread

    limiter = getattr(request.app.state, "long_limiter", None)  # None: no lifespan ran (the default pool)
    return await anyio.to_thread.run_sync(functools.partial(work, *args, **kwargs), limiter=limiter)
