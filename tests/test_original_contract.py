"""The original AtoCore service's HTTP contract, checked strictly.

Written from ``shared/reference/original-http-routes.txt`` and
``original-context-builder.txt`` (``_pack_to_dict``) alone, plus the three
admin routes issue 10 names (conflicts, graduation stats). ``Original`` below
knows nothing of this project: it sends the original's request bodies and
checks, for every route, the status code, the status string and every field
name with its JSON type. Extra fields are allowed; a missing, renamed or
retyped field is not.
"""

from __future__ import annotations

import json
import shutil
import urllib.error
import urllib.request
from urllib.parse import quote, urlencode

import pytest

from atocore_tui.engine import Engine
from atocore_tui.ops.first_run import first_run
from atocore_tui.server.app import create_app
from atocore_tui.server.background import ServerThread

from .conftest import SAMPLE_VAULT, make_settings


# ------------------------------------------------------------ the shapes
class Nullable:
    def __init__(self, kind):
        self.kind = kind


def check(value, shape, where: str = "answer") -> None:
    """``shape``: a JSON type (str, int, float, bool, list, dict), a dict of
    field -> shape (every field required, more allowed), ``[item shape]``, a
    literal (the exact status string, count or flag) or ``Nullable(shape)``."""
    if isinstance(shape, Nullable):
        if value is not None:
            check(value, shape.kind, where)
        return
    if isinstance(shape, (str, bool, int)) and not isinstance(shape, type):
        assert value == shape and type(value) is type(shape), f"{where}: expected {shape!r}, got {value!r}"
    elif shape is int:
        assert isinstance(value, int) and not isinstance(value, bool), f"{where}: int expected, got {value!r}"
    elif shape is float:
        assert isinstance(value, float), f"{where}: float expected, got {value!r}"
    elif shape is bool:
        assert isinstance(value, bool), f"{where}: bool expected, got {value!r}"
    elif shape in (str, list, dict):
        assert isinstance(value, shape), f"{where}: {shape.__name__} expected, got {value!r}"
    elif isinstance(shape, list):
        assert isinstance(value, list), f"{where}: list expected, got {value!r}"
        for index, item in enumerate(value):
            check(item, shape[0], f"{where}[{index}]")
    elif isinstance(shape, dict):
        assert isinstance(value, dict), f"{where}: object expected, got {value!r}"
        for name, inner in shape.items():
            assert name in value, f"{where}: field {name!r} missing (has {sorted(value)})"
            check(value[name], inner, f"{where}.{name}")
    else:  # pragma: no cover - a mistake in this file
        raise TypeError(shape)


RESULTS = {"results": [dict]}
QUERY_HIT = {"chunk_id": str, "content": str, "score": float, "heading_path": str, "source_file": str,
             "title": str}
PACK_CHUNK = {"source_file": str, "heading_path": str, "score": float, "char_count": int,
              "content_preview": str}
CONTEXT_BUILD = {"formatted_context": str, "full_prompt": str, "chunks_used": int, "total_chars": int,
                 "budget": int, "budget_remaining": int, "duration_ms": int, "chunks": [PACK_CHUNK]}
DEBUG_CONTEXT = {"query": str, "project_hint": str, "project_state_chars": int, "memory_chars": int,
                 "project_memory_chars": int, "domain_knowledge_chars": int, "chunks_used": int,
                 "total_chars": int, "budget": int, "budget_remaining": int, "duration_ms": int,
                 "has_project_state": bool, "has_memories": bool, "has_project_memories": bool,
                 "has_domain_knowledge": bool, "has_engineering_context": bool, "chunks": [PACK_CHUNK]}
MEMORY = {"id": str, "memory_type": str, "content": str, "project": str, "confidence": float, "status": str,
          "updated_at": str}
STATE_ENTRY = {"id": str, "category": str, "key": str, "value": str, "source": str, "confidence": float,
               "status": str, "updated_at": str}
INTERACTION_SUMMARY = {"id": str, "prompt": str, "response_summary": str, "response_chars": int, "project": str,
                       "client": str, "session_id": str, "memories_used": [str], "chunks_used": [str],
                       "created_at": str}
INTERACTION = {"id": str, "prompt": str, "response": str, "response_summary": str, "project": str, "client": str,
               "session_id": str, "memories_used": [str], "chunks_used": [str], "context_pack": Nullable(dict),
               "created_at": str}
REFRESH = {"project": str, "aliases": [str], "description": str, "purge_deleted": bool, "status": str,
           "roots_ingested": int, "roots_skipped": int, "roots": [dict]}
HEALTH = {"status": "ok", "version": str, "vectors_count": int, "env": str,
          "machine_paths": {"db_path": str, "chroma_path": str, "log_dir": str, "backup_dir": str, "run_dir": str},
          "sources_ready": bool, "source_status": [{"enabled": bool, "exists": bool, "is_dir": bool}]}


# ------------------------------------------------------------ the client
class Original:
    """A client of the original service: urllib, JSON, the original's bodies."""

    def __init__(self, base: str, token: str | None = None):
        self.base, self.token = base, token

    def call(self, method: str, path: str, body=None, **query) -> tuple[int, object]:
        query = {k: v for k, v in query.items() if v is not None}
        url = self.base + path + (("?" + urlencode(query)) if query else "")
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(url, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:
                return answer.status, json.loads(answer.read() or b"null")
        except urllib.error.HTTPError as error:
            raw = error.read()
            return error.code, json.loads(raw) if raw else None

    def expect(self, status: int, shape, method: str, path: str, body=None, **query):
        code, data = self.call(method, path, body, **query)
        assert code == status, (method, path, body, code, data)
        if status >= 400:
            check(data, {"detail": str}, f"{method} {path}")
        else:
            check(data, shape, f"{method} {path}")
        return data


# ------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("original")
    vault = root / "vault"
    shutil.copytree(SAMPLE_VAULT, vault)
    engine = Engine(make_settings(root / "data", vault))
    first_run(engine)
    app = create_app(engine)
    with ServerThread(app) as running:
        yield {"engine": engine, "url": running.url, "vault": vault, "app": app}
    engine.close()


@pytest.fixture
def client(server):
    server["engine"].activate()
    return Original(server["url"])


# ---------------------------------------------------------------- routes
def test_debug_context_before_any_pack_is_a_message(client):
    check(client.expect(200, {"message": str}, "GET", "/debug/context"), {"message": str})


def test_status_routes(client):
    client.expect(200, HEALTH, "GET", "/health")
    client.expect(200, {"sources": [dict], "vault_enabled": bool, "drive_enabled": bool}, "GET", "/sources")
    client.expect(200, dict, "GET", "/stats")


def test_ingest_routes(client):
    client.expect(200, RESULTS, "POST", "/ingest", {"path": "projects/coldplate"})
    client.expect(404, None, "POST", "/ingest", {"path": "no/such/folder"})
    client.expect(200, RESULTS, "POST", "/ingest/sources")


def test_project_routes(client):
    client.expect(200, {"projects": list, "registry_path": str}, "GET", "/projects")
    client.expect(200, {"template": dict, "registry_path": str, "allowed_sources": list}, "GET", "/projects/template")
    registration = {"project_id": "pump-rig", "aliases": ["pr"], "description": "Pump test rig",
                    "ingest_roots": [{"source": "vault", "subpath": "knowledge"}]}
    client.expect(200, dict, "POST", "/projects/proposal", registration)
    client.expect(400, None, "POST", "/projects/proposal", {**registration, "project_id": "Not a slug!"})
    client.expect(200, dict, "POST", "/projects/register", registration)
    client.expect(400, None, "POST", "/projects/register", registration)  # already registered
    client.expect(200, dict, "PUT", "/projects/pump-rig", {"description": "Pump rig, v2"})
    client.expect(404, None, "PUT", "/projects/no-such-project", {"description": "x"})
    client.expect(400, None, "PUT", "/projects/pump-rig", {"aliases": ["coldplate"]})
    refreshed = client.expect(200, REFRESH, "POST", "/projects/pump-rig/refresh", purge_deleted="false")
    assert refreshed["project"] == "pump-rig" and refreshed["purge_deleted"] is False
    client.expect(404, None, "POST", "/projects/no-such-project/refresh")


def test_query_and_context_routes(client):
    hits = client.expect(200, {"results": [QUERY_HIT]}, "POST", "/query",
                         {"prompt": "cold plate pressure drop", "top_k": 5, "filter_tags": None,
                          "project": "coldplate"})
    assert 0 < len(hits["results"]) <= 5
    pack = client.expect(200, CONTEXT_BUILD, "POST", "/context/build",
                         {"prompt": "What lubricant does the gearbox use?", "project": "orion-drive",
                          "budget": 3000})
    assert pack["chunks"] and pack["budget"] == 3000
    assert pack["budget_remaining"] == pack["budget"] - pack["total_chars"]
    assert pack["chunks_used"] == len(pack["chunks"])
    assert all(c["char_count"] >= len(c["content_preview"]) and len(c["content_preview"]) <= 100
               for c in pack["chunks"])
    last = client.expect(200, DEBUG_CONTEXT, "GET", "/debug/context")
    assert last["query"] == "What lubricant does the gearbox use?" and last["project_hint"] == "orion-drive"
    assert last["total_chars"] == pack["total_chars"] and last["chunks"] == pack["chunks"]
    client.expect(400, None, "POST", "/query", {"prompt": "   "})
    client.expect(400, None, "POST", "/context/build", {"prompt": ""})


def test_memory_routes(client):
    made = client.expect(200, {"status": "ok", "id": str, "memory_type": "preference"}, "POST", "/memory",
                         {"memory_type": "preference", "content": "Answers in SI units", "project": "",
                          "confidence": 0.9})
    listed = client.expect(200, {"memories": [MEMORY], "types": [str]}, "GET", "/memory",
                           memory_type="preference", active_only="true", min_confidence=0.0, limit=50)
    assert made["id"] in {m["id"] for m in listed["memories"]}
    assert client.expect(200, {"memories": [], "types": [str]}, "GET", "/memory", limit=0)
    client.expect(200, {"status": "updated", "id": made["id"]}, "PUT", f"/memory/{made['id']}",
                  {"content": "Answers in SI units, always", "confidence": None, "status": None})
    client.expect(200, {"status": "invalidated", "id": made["id"]}, "DELETE", f"/memory/{made['id']}")
    client.expect(400, None, "POST", "/memory", {"memory_type": "gossip", "content": "x"})
    client.expect(404, None, "PUT", "/memory/ffffffffffffffff", {"content": "x"})
    client.expect(404, None, "DELETE", "/memory/ffffffffffffffff")


def test_project_state_routes(client):
    client.expect(200, {"status": "ok", "id": str, "category": "status", "key": "gate"}, "POST", "/project/state",
                  {"project": "coldplate", "category": "status", "key": "gate", "value": "B-sample review",
                   "source": "weekly", "confidence": 1.0})
    got = client.expect(200, {"project": str, "entries": [STATE_ENTRY], "categories": [str]}, "GET",
                        "/project/state/coldplate", category="status")
    assert "gate" in {e["key"] for e in got["entries"]}
    client.expect(200, {"status": "invalidated", "project": str, "category": "status", "key": "gate"},
                  "DELETE", "/project/state", {"project": "coldplate", "category": "status", "key": "gate"})
    client.expect(404, None, "DELETE", "/project/state", {"project": "coldplate", "category": "status",
                                                          "key": "gate"})
    client.expect(400, None, "POST", "/project/state", {"project": "coldplate", "category": "gossip", "key": "k",
                                                        "value": "v"})


def test_interaction_routes(client):
    body = {"prompt": "Which lubricant?", "response": "Braycote 601EF.", "response_summary": "lube",
            "project": "orion-drive", "client": "contract", "session_id": "s-1", "memories_used": [],
            "chunks_used": [], "context_pack": {"budget": 1}}
    made = client.expect(200, {"status": "recorded", "id": str, "created_at": str}, "POST", "/interactions", body)
    listed = client.expect(200, {"count": int, "interactions": [INTERACTION_SUMMARY]}, "GET", "/interactions",
                           project="orion-drive", session_id="s-1", client="contract", limit=50)
    assert listed["count"] == 1 and listed["interactions"][0]["response_chars"] == len("Braycote 601EF.")
    assert client.expect(200, {"count": int, "interactions": list}, "GET", "/interactions", limit=0)["count"] == 0
    client.expect(200, INTERACTION, "GET", f"/interactions/{made['id']}")
    long_prompt = "Which lubricant survives thermal vacuum? " * 10
    client.expect(200, dict, "POST", "/interactions", {**body, "prompt": long_prompt, "session_id": "s-long"})
    listed = client.expect(200, {"count": 1, "interactions": [INTERACTION_SUMMARY]}, "GET", "/interactions",
                           session_id="s-long")
    assert listed["interactions"][0]["prompt"] == long_prompt  # whole, as the original listed it
    client.expect(404, None, "GET", "/interactions/ffffffffffffffff")
    client.expect(400, None, "POST", "/interactions", {"prompt": "  "})


def test_backup_routes(client):
    made = client.expect(200, dict, "POST", "/admin/backup", {"include_chroma": False})
    client.expect(200, dict, "POST", "/admin/backup")  # the original's body is optional
    listed = client.expect(200, {"backup_dir": str, "backups": [dict]}, "GET", "/admin/backup")
    assert made["stamp"] in {b["stamp"] for b in listed["backups"]}
    client.expect(200, {"exists": True}, "GET", f"/admin/backup/{made['stamp']}/validate")
    client.expect(404, None, "GET", "/admin/backup/20990101T000000Z/validate")
    client.expect(404, None, "GET", "/admin/backup/not-a-stamp/validate")


def test_admin_conflict_and_graduation_routes(client):
    open_ = client.expect(200, {"conflicts": [dict]}, "GET", "/admin/conflicts")
    assert open_["conflicts"]
    conflict = next(c for c in open_["conflicts"] if c["status"] == "open")
    client.expect(400, None, "POST", f"/admin/conflicts/{conflict['id']}/resolve", {"action": "explode"})
    client.expect(200, dict, "POST", f"/admin/conflicts/{conflict['id']}/resolve", {"action": "dismiss"})
    client.expect(404, None, "POST", "/admin/conflicts/nope/resolve", {"action": "dismiss"})
    client.expect(200, {"graduated": int, "graduation_rate": float}, "GET", "/admin/graduation/stats")


def test_unknown_projects_are_hints_on_reads_and_labels_on_writes(client):
    """The original's project is free text: reads boost nothing (and say so), writes keep it."""
    hits = client.expect(200, {"results": [QUERY_HIT], "warnings": [str]}, "POST", "/query",
                         {"prompt": "pressure drop", "project": "p05-interferometer"})
    assert hits["results"] and "p05-interferometer" in hits["warnings"][0]
    pack = client.expect(200, {**CONTEXT_BUILD, "warnings": [str]}, "POST", "/context/build",
                         {"prompt": "pressure drop", "project": "p05-interferometer"})
    assert pack["warnings"]
    for path in ("/memory", "/interactions"):
        assert client.expect(200, dict, "GET", path, project="p05-interferometer")["warnings"]
    assert client.expect(200, {"entries": []}, "GET", "/project/state/p05-interferometer")["warnings"]

    memory = client.expect(200, {"status": "ok"}, "POST", "/memory",
                           {"memory_type": "project", "content": "The p05 interferometer uses a HeNe laser",
                            "project": "p05-interferometer"})
    client.expect(200, {"status": "ok"}, "POST", "/project/state",
                  {"project": "p05-interferometer", "category": "decision", "key": "laser", "value": "HeNe 633 nm"})
    client.expect(200, {"status": "recorded"}, "POST", "/interactions",
                  {"prompt": "laser?", "project": "p05-interferometer"})
    listed = client.expect(200, {"memories": [MEMORY]}, "GET", "/memory", project="p05-interferometer")
    assert [m["id"] for m in listed["memories"]] == [memory["id"]]
    assert listed["memories"][0]["project"] == "p05-interferometer" and "warnings" not in listed
    state = client.expect(200, {"entries": [STATE_ENTRY]}, "GET", "/project/state/p05-interferometer")
    assert [e["value"] for e in state["entries"]] == ["HeNe 633 nm"]
    assert client.expect(200, {"count": 1}, "GET", "/interactions", project="p05-interferometer")
    scoped = client.expect(200, CONTEXT_BUILD, "POST", "/context/build",
                           {"prompt": "Which laser does the interferometer use?", "project": "p05-interferometer"})
    assert "HeNe 633 nm" in scoped["formatted_context"] and not scoped.get("warnings")
    assert client.expect(200, DEBUG_CONTEXT, "GET", "/debug/context")["has_project_state"] is True


def test_the_pack_says_trusted_state_wins(client):
    pack = client.expect(200, CONTEXT_BUILD, "POST", "/context/build", {"prompt": "gearbox lubricant"})
    preamble = pack["full_prompt"].split(pack["formatted_context"])[0].lower()
    assert "project state" in preamble and "conflict" in preamble and "trust the project state" in preamble


# --------------------------------------------------- a client's session
def test_an_original_client_session_end_to_end(client, server):
    """Ingest, query, build, record what was used, list and fetch it, memory and
    state round trips, backup with include_chroma — as an original client does."""
    ingested = client.expect(200, RESULTS, "POST", "/ingest", {"path": str(server["vault"] / "knowledge")})
    assert ingested["results"]
    hits = client.expect(200, {"results": [QUERY_HIT]}, "POST", "/query",
                         {"prompt": "bolted joint preload", "top_k": 3})
    assert hits["results"]

    state = client.expect(200, {"status": "ok"}, "POST", "/project/state",
                          {"project": "orion-drive", "category": "decision", "key": "lubricant",
                           "value": "Braycote 601EF", "source": "design review", "confidence": 1.0})
    memory = client.expect(200, {"status": "ok", "id": str}, "POST", "/memory",
                           {"memory_type": "project", "content": "The ODU gearbox is grease-lubricated",
                            "project": "orion-drive", "confidence": 0.9})
    prompt = "What lubricant does the ODU gearbox use?"
    pack = client.expect(200, CONTEXT_BUILD, "POST", "/context/build", {"prompt": prompt, "project": "orion-drive"})
    assert "Braycote 601EF" in pack["formatted_context"] and pack["full_prompt"].endswith(prompt)

    used_chunks = [h["chunk_id"] for h in hits["results"]]
    recorded = client.expect(200, {"status": "recorded", "id": str, "created_at": str}, "POST", "/interactions",
                             {"prompt": prompt, "response": "Braycote 601EF, per the design review.",
                              "response_summary": "Braycote 601EF", "project": "orion-drive",
                              "client": "original-client", "session_id": "session-9",
                              "memories_used": [memory["id"]], "chunks_used": used_chunks,
                              "context_pack": pack})
    listed = client.expect(200, {"count": int, "interactions": [INTERACTION_SUMMARY]}, "GET", "/interactions",
                           client="original-client", since=recorded["created_at"])
    summary = listed["interactions"][0]
    assert summary["id"] == recorded["id"] and summary["prompt"] == prompt
    assert summary["memories_used"] == [memory["id"]] and summary["chunks_used"] == used_chunks
    full = client.expect(200, INTERACTION, "GET", f"/interactions/{recorded['id']}")
    assert full["context_pack"]["formatted_context"] == pack["formatted_context"]

    memories = client.expect(200, {"memories": [MEMORY]}, "GET", "/memory", project="orion-drive",
                             memory_type="project")
    assert memory["id"] in {m["id"] for m in memories["memories"]}
    client.expect(200, {"status": "updated"}, "PUT", f"/memory/{memory['id']}", {"confidence": 0.95})
    entries = client.expect(200, {"entries": [STATE_ENTRY]}, "GET", "/project/state/orion-drive",
                            category="decision")["entries"]
    assert {(e["id"], e["value"]) for e in entries} >= {(state["id"], "Braycote 601EF")}

    backup = client.expect(200, {"stamp": str}, "POST", "/admin/backup", {"include_chroma": True})
    listed = client.expect(200, {"backup_dir": str, "backups": [dict]}, "GET", "/admin/backup")
    entry = next(b for b in listed["backups"] if b["stamp"] == backup["stamp"])
    assert entry["include_index"] is True  # include_chroma saved the index
    validated = client.expect(200, {"exists": True, "valid": True}, "GET",
                              f"/admin/backup/{quote(backup['stamp'])}/validate")
    assert any(c["name"] == "index" and c["ok"] for c in validated["checks"])


# --------------------------------------------------------------- OpenAPI
ORIGINAL_ROUTES = {
    ("post", "/ingest"), ("post", "/ingest/sources"), ("get", "/projects"), ("get", "/projects/template"),
    ("post", "/projects/proposal"), ("post", "/projects/register"), ("put", "/projects/{name}"),
    ("post", "/projects/{name}/refresh"), ("post", "/query"), ("post", "/context/build"), ("post", "/memory"),
    ("get", "/memory"), ("put", "/memory/{memory_id}"), ("delete", "/memory/{memory_id}"),
    ("post", "/project/state"), ("get", "/project/state/{project}"), ("delete", "/project/state"),
    ("post", "/interactions"), ("get", "/interactions"), ("get", "/interactions/{interaction_id}"),
    ("post", "/admin/backup"), ("get", "/admin/backup"), ("get", "/admin/backup/{stamp}/validate"),
    ("get", "/health"), ("get", "/sources"), ("get", "/stats"), ("get", "/debug/context"),
    ("get", "/admin/conflicts"), ("post", "/admin/conflicts/{conflict_id}/resolve"),
    ("get", "/admin/graduation/stats"),
}
EXTENSIONS = {
    ("get", "/review"), ("post", "/review/{memory_id}/promote"), ("get", "/graph/entities"),
    ("get", "/graph/impact/{entity_id}"), ("post", "/graph/conflicts/{conflict_id}/reopen"),
    ("get", "/context/replay/{interaction_id}"), ("post", "/memory/{memory_id}/undo"), ("get", "/alerts"),
    ("get", "/projects/labels"),
}


def test_openapi_shows_the_original_routes_and_the_extensions(client):
    schema = client.expect(200, {"paths": dict}, "GET", "/openapi.json")
    offered = {(method, path) for path, operations in schema["paths"].items() for method in operations}
    assert ORIGINAL_ROUTES <= offered, ORIGINAL_ROUTES - offered
    assert EXTENSIONS <= offered, EXTENSIONS - offered
    backup = schema["components"]["schemas"]["BackupBody"]["properties"]
    assert {"include_chroma", "include_index"} <= set(backup)
