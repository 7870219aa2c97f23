"""ASGI guards in front of every route: the bearer token and the body size limit.

Both are plain ASGI middleware so that they answer before FastAPI reads or
parses anything (a refused request costs nothing and reaches no engine code).
"""

from __future__ import annotations

import hmac
import json

OPEN_PATHS = frozenset({"/health"})
"""Reachable without the token: a liveness probe must not need a secret."""
MAX_BODY_BYTES = 1_000_000


async def _answer(send, status: int, detail: str, headers: list[tuple[bytes, bytes]] = ()) -> None:
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
