"""ASGI guards in front of every route: the bearer token and the body size limit.

Both are plain ASGI middleware so that they answer before FastAPI reads or
parses anything (a refused request costs nothing and reaches no engine code).
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Sequence
from typing import Any

OPEN_PATHS = frozenset({"/health"})
"""Reachable without the token: a liveness probe must not need a secret."""
MAX_BODY_BYTES = 1_000_000


async def _answer(send, status: int, detail: str, headers: Sequence[tuple[bytes, bytes]] = ()) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()), *headers]})
    await send({"type": "http.response.body", "body": body})


class TokenGuard:
    """With a token configured, every route but :data:`OPEN_PATHS` needs
    ``Authorization: Bearer <token>`` (compared in constant time)."""

    def __init__(self, app, token: str | None):
        self.app = app
        self.expected = f"Bearer {token}".encode() if token else None

    async def __call__(self, scope, receive, send):
        if self.expected is None or scope["type"] != "http" or scope.get("path") in OPEN_PATHS:
            return await self.app(scope, receive, send)
        given = dict(scope.get("headers") or ()).get(b"authorization", b"")
        if not hmac.compare_digest(given, self.expected):
            return await _answer(send, 401, "missing or wrong bearer token (Authorization: Bearer <token>)",
                                 [(b"www-authenticate", b"Bearer")])
        return await self.app(scope, receive, send)


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes with 413: by Content-Length
    up front, and by counting when the body is streamed without one."""

    api: Any
    """The FastAPI app inside the guards (set by ``create_app``: the engine is in its state)."""

    def __init__(self, app, limit: int = MAX_BODY_BYTES):
        self.app = app
        self.limit = limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > self.limit
            except ValueError:
                return await _answer(send, 400, "invalid Content-Length")
            if too_big:
                return await _answer(send, 413, f"request body is larger than {self.limit:,} bytes")
            return await self.app(scope, receive, send)
        # No Content-Length (chunked): read the body here, up to the limit, and replay it.
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.limit:
                return await _answer(send, 413, f"request body is larger than {self.limit:,} bytes")
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay():
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}

        return await self.app(scope, replay, send)


# ------------------------------------------------------------ issue 11 guards
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})
WRITE_METHODS = frozenset({b"POST", b"PUT", b"DELETE", b"PATCH"})
MAX_JSON_DEPTH = 32
"""Deepest nesting of arrays and objects accepted in a request body (a
``context_pack`` 300 deep used to be stored and could never be read back)."""
MAX_JSON_VALUES = 100_000
MAX_PATH_SEGMENT = 256
"""Longest path segment (an id in the URL); longer ones are refused before any route runs."""


def _host_name(value: str) -> str:
    """``host:port`` / ``[v6]:port`` -> the host name, lower-cased."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[: value.find("]") + 1] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def is_loopback_name(host: str) -> bool:
    name = _host_name(host)
    return name in LOOPBACK_HOSTS or name.startswith("127.") or name.endswith(".localhost")


def _is_json_type(content_type: bytes) -> bool:
    media = content_type.split(b";", 1)[0].strip().lower()
    return media == b"application/json" or (media.startswith(b"application/") and media.endswith(b"+json"))


class BadJSON(ValueError):
    pass


def check_json_value(value, *, max_depth: int = MAX_JSON_DEPTH, max_values: int = MAX_JSON_VALUES) -> None:
    """Raise :class:`BadJSON` for lone surrogates (in keys or strings), nesting
    deeper than ``max_depth`` or more than ``max_values`` values. Iterative:
    a hostile body cannot exhaust the stack."""
    stack = [(value, 1)]
    seen = 0
    while stack:
        item, depth = stack.pop()
        seen += 1
        if seen > max_values:
            raise BadJSON(f"request body has more than {max_values:,} values")
        if isinstance(item, str):
            _check_text(item)
        elif isinstance(item, (dict, list)):
            if depth > max_depth:
                raise BadJSON(f"request body is nested deeper than {max_depth} levels")
            if isinstance(item, dict):
                for key, child in item.items():
                    _check_text(key)
                    stack.append((child, depth + 1))
            else:
                stack.extend((child, depth + 1) for child in item)


def _check_text(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise BadJSON("request body holds text that is not valid Unicode (a lone UTF-16 surrogate such "
                      "as \\ud800); nothing was written") from None


class RequestGuard:
    """What a request must be before any route sees it (issue 11, items 5-8):

    - Host: a loopback name unless the server was started with --allow-remote
      (DNS rebinding would otherwise hand a web page the API);
    - Origin: a browser's cross-site request (Origin not loopback,
      ``Sec-Fetch-Site: cross-site``) is refused unless --allow-remote;
    - writes (POST/PUT/DELETE/PATCH): a body or a Content-Type must be JSON
      (form posts, which browsers send cross-site without asking, are refused);
    - a JSON body: valid UTF-8, no lone surrogates, nesting and value count bounded;
    - path segments (ids) at most :data:`MAX_PATH_SEGMENT` characters.

    Sits inside :class:`BodyLimit`, so the body it reads is already bounded.
    """

    def __init__(self, app, allow_remote: bool = False):
        self.app = app
        self.allow_remote = allow_remote

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or ())
        if not self.allow_remote:
            host = headers.get(b"host", b"").decode("latin-1")
            if host and not is_loopback_name(host):
                return await _answer(send, 421, f"this server answers only to loopback host names, not "
                                                f"{host!r} (start it with --allow-remote to serve others)")
            origin = headers.get(b"origin", b"").decode("latin-1").strip()
            cross_site = headers.get(b"sec-fetch-site", b"").strip().lower() == b"cross-site"
            # "null" is what a sandboxed frame or a file:// page sends: not ours either
            if cross_site or (origin and not is_loopback_name(origin.split("://", 1)[-1])):
                return await _answer(send, 403, "cross-site requests are refused (Origin "
                                                f"{origin or 'from another site'})")
        path = scope.get("path", "")
        if any(len(segment) > MAX_PATH_SEGMENT for segment in path.split("/")):
            return await _answer(send, 400, f"a path segment is longer than {MAX_PATH_SEGMENT} characters "
                                            "(ids are much shorter)")
        if scope.get("method", "").encode() not in WRITE_METHODS:
            return await self.app(scope, receive, send)
        content_type = headers.get(b"content-type")
        if content_type is not None and not _is_json_type(content_type):
            return await _answer(send, 415, "send JSON: Content-Type must be application/json")
        chunks = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if body.strip():
            if content_type is None:
                return await _answer(send, 415, "send JSON: Content-Type must be application/json")
            try:
                check_json_value(json.loads(body))
            except UnicodeDecodeError:
                return await _answer(send, 400, "request body is not valid UTF-8; nothing was written")
            except RecursionError:
                return await _answer(send, 400, f"request body is nested deeper than {MAX_JSON_DEPTH} levels")
            except BadJSON as problem:
                return await _answer(send, 400, str(problem))
            except ValueError:
                pass  # malformed JSON: the route's own parser answers 422 as before
        replayed = False

        async def replay():
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        return await self.app(scope, replay, send)


def install_storage_errors(api) -> None:
    """Failures of the disk or the database file under a route (full disk,
    read-only folder, damaged file, a write lock held too long) answer with
    what happened and what to do (503; 409 when busy), not a bare 500."""
    import sqlite3

    from fastapi.responses import JSONResponse
    from peewee import DatabaseError

    from ..failures import busy_error, storage_error

    async def storage(request, error):
        engine = getattr(request.app.state, "engine", None)
        found = storage_error(error, getattr(engine, "data_dir", None))
        if found is not None:
            return JSONResponse({"detail": str(found)}, status_code=503)
        busy = busy_error(error)
        if busy is not None:
            return JSONResponse({"detail": str(busy)}, status_code=409)
        raise error

    for kind in (DatabaseError, sqlite3.Error, OSError):
        api.add_exception_handler(kind, storage)
