"""What every route module shares: the engine of the app, as a dependency."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from ..engine import Engine


def _engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


EngineDep = Annotated[Engine, Depends(_engine)]
"""The :class:`~atocore_tui.engine.Engine` the app was created with."""
