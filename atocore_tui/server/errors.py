"""Engine errors -> HTTP answers, in one place.

Every route lets :mod:`atocore_tui.errors` exceptions escape; the handlers
below turn them into a status code and a JSON body with a readable
``detail`` string (the shape FastAPI clients already parse). Bad input never
becomes a 500 with a traceback.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import AtoCoreError, Busy, ConfigError, ModelError, NotFound, ValidationError

log = logging.getLogger("atocore_tui.server")

STATUS: list[tuple[type[AtoCoreError], int]] = [
    (ValidationError, 400),
    (NotFound, 404),
    (Busy, 409),
    (ConfigError, 500),
    (ModelError, 503),
    (AtoCoreError, 400),
]
"""First match wins. Other AtoCoreError subclasses (e.g. an extraction
error) are refusals of a request, hence 400."""


def status_for(error: AtoCoreError) -> int:
    return next(code for kind, code in STATUS if isinstance(error, kind))


def error_body(detail: str, **extra) -> dict:
    return {"detail": detail, **extra}


def describe_validation(errors: list[dict]) -> str:
    """Pydantic's error list as one line: ``body.prompt: Field required; …``."""
    parts = []
    for error in errors:
        where = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "body"
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""

    @app.exception_handler(AtoCoreError)
    async def engine_error(request: Request, error: AtoCoreError) -> JSONResponse:
        return JSONResponse(error_body(str(error)), status_code=status_for(error))

    @app.exception_handler(RequestValidationError)
    async def schema_error(request: Request, error: RequestValidationError) -> JSONResponse:
        errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
                  for e in error.errors()]
        return JSONResponse(error_body(describe_validation(errors), errors=errors), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(error_body(str(error.detail)), status_code=error.status_code,
                            headers=getattr(error, "headers", None))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return JSONResponse(error_body(f"internal error ({type(error).__name__}); see the server log"),
                            status_code=500)
