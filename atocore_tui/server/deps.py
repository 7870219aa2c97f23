"""What every route module shares: the engine of the app, as a dependency."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request


def _engine(request: Request) -> Any:
    return request.app.state.engine


EngineDep = Annotated[Any, Depends(_engine)]
"""The :class:`~atocore_tui.engine.Engine` the app was created with."""
