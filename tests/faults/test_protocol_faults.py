"""Hostile input and cross-site requests at the HTTP face (issue 11, items 5-8)."""

from __future__ import annotations

import json

import httpx
import pytest

from atocore_tui.engine import Engine
from atocore_tui.errors import ValidationError
from atocore_tui.server.app import create_app
from atocore_tui.server.background import ServerThread
from atocore_tui.store.models import Interaction, Memory, ProjectState

from ..conftest import make_settings, write

pytestmark = pytest.mark.faults

SURROGATE = '"\\ud800"'
"""A lone UTF-16 surrogate as it appears in JSON text."""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("protocol")
    write(root / "v" / "a.md", "# Alpha\n\nalpha text about flanges\n")
    engine = Engine(make_settings(root / "data", root / "v"))
    engine.ingest()
    app, remote = create_app(engine), create_app(engine, allow_remote=True)
    with ServerThread(app) as local, ServerThread(remote) as open_to_all:
        yield {"engine": engine, "url": local.url, "remote_url": open_to_all.url}
    engine.close()


@pytest.fixture
def http(server):
    server["engine"].activate()
    with httpx.Client(base_url=server["url"], timeout=30) as client:
        yield client


def _raw(http, method, path, text, content_type="application/json", **headers):
    return http.request(method, path, content=text.encode("utf-8"),
                        headers={"content-type": content_type, **headers})


def _state(engine) -> tuple:
    backups = engine.data_dir / "backups"
    return (Memory.select().count(), Interaction.select().count(), ProjectState.select().count(),
            sorted(p.name for p in backups.iterdir()) if backups.exists() else [])


# ------------------------------------------------------------------ item 5
@pytest.mark.parametrize("method, path, body", [
    ("POST", "/memory", '{"memory_type": "knowledge", "content": %s}'),
    ("POST", "/query", '{"prompt": %s}'),
    ("POST", "/context/build", '{"prompt": %s}'),
    ("POST", "/interactions", '{"prompt": %s, "response": "r"}'),
    ("POST", "/project/state", '{"project": "p", "category": "status", "key": %s, "value": "v"}'),
    ("POST", "/graph/entities", '{"entity_type": "component", "name": %s}'),
    ("POST", "/ingest", '{"path": %s}'),
    ("PUT", "/memory/0123456789abcdef0123456789abcdef", '{"content": %s}'),
    ("POST", "/admin/backup", '{"label": %s}'),
    ("POST", "/memory", '{%s: "key is the surrogate"}'),
])
def test_a_lone_surrogate_is_refused_with_400_and_writes_nothing(server, http, method, path, body):
    before = _state(server["engine"])
    answer = _raw(http, method, path, body % SURROGATE)
    assert answer.status_code == 400, answer.text
    assert "surrogate" in answer.json()["detail"]
    assert _state(server["engine"]) == before
    assert http.get("/admin/backup").status_code == 200


def test_a_body_that_is_not_utf8_is_refused(http):
    answer = http.post("/memory", content=b'{"memory_type": "knowledge", "content": "\xff"}',
                       headers={"content-type": "application/json"})
    assert answer.status_code == 400 and "UTF-8" in answer.json()["detail"]


# ------------------------------------------------------------------ item 6
def _nested(depth: int):
    value: object = "leaf"
    for _ in range(depth):
        value = {"x": value}
    return value


def test_a_context_pack_nested_300_deep_is_refused_and_a_shallow_one_reads_back(server, http):
    before = Interaction.select().count()
    deep = http.post("/interactions", json={"prompt": "p", "response": "r", "context_pack": _nested(300)})
    assert deep.status_code == 400 and "nested deeper" in deep.json()["detail"]
    assert Interaction.select().count() == before
    shallow = http.post("/interactions", json={"prompt": "p", "response": "r", "context_pack": _nested(10)})
    assert shallow.status_code == 200
    assert http.get("/interactions").status_code == 200


# ------------------------------------------------------------------ item 7
@pytest.mark.parametrize("method, path", [
    ("POST", "/memory/{id}/undo"), ("POST", "/memory/{id}/supersede"), ("POST", "/review/{id}/merge"),
    ("POST", "/review/{id}/supersede"), ("DELETE", "/memory/{id}"),
])
def test_an_id_of_50000_characters_is_refused_with_400(http, method, path):
    answer = http.request(method, path.format(id="a" * 50_000), json={"content": "c", "into_id": "b",
                                                                       "old_id": "b"})
    assert answer.status_code == 400


def test_a_long_id_in_a_body_is_refused_by_the_lookup(server, http):
    made = http.post("/memory", json={"memory_type": "knowledge", "content": "a candidate fact",
                                      "status": "candidate"}).json()
    answer = http.post(f"/review/{made['id']}/merge", json={"into_id": "a" * 50_000})
    assert answer.status_code == 400 and "too long" in answer.json()["detail"]
    with pytest.raises(ValidationError):
        server["engine"].memories.get("f" * 50_000)


# ------------------------------------------------------------------ item 8
def test_a_host_that_is_not_loopback_is_refused_unless_allow_remote(server, http):
    rebound = http.get("/health", headers={"host": "attacker.example:8100"})
    assert rebound.status_code == 421
    assert http.get("/health", headers={"host": "localhost:8100"}).status_code == 200
    with httpx.Client(base_url=server["remote_url"]) as remote:
        assert remote.get("/health", headers={"host": "atocore.lan:8100"}).status_code == 200


def test_writes_need_a_json_content_type_so_a_form_post_cannot_back_up(server, http):
    before = _state(server["engine"])
    form = http.post("/admin/backup", content=b"", headers={"content-type": "application/x-www-form-urlencoded"})
    assert form.status_code == 415
    plain = http.post("/memory", content=json.dumps({"memory_type": "knowledge", "content": "x"}),
                      headers={"content-type": "text/plain"})
    assert plain.status_code == 415
    assert _state(server["engine"]) == before


def test_a_cross_site_browser_request_is_refused(server, http):
    before = _state(server["engine"])
    answer = http.post("/admin/backup", headers={"origin": "https://evil.example"})
    assert answer.status_code == 403
    fetched = http.post("/admin/backup", headers={"sec-fetch-site": "cross-site"})
    assert fetched.status_code == 403
    sandboxed = http.post("/admin/backup", headers={"origin": "null"})
    assert sandboxed.status_code == 403
    assert _state(server["engine"]) == before
    assert http.get("/health", headers={"origin": "http://127.0.0.1:8100"}).status_code == 200
