"""The HTTP face against a real server: uvicorn on a free loopback port, a
first-run copy of the sample vault, requests over HTTP.

``SpecClient`` is written from SPEC §3 alone (urllib, no project imports): it
is the acceptance line that clients of the original service keep working.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import urllib.error
import urllib.request
from pathlib import Path

import httpx
import pytest

from atocore_tui.engine import Engine
from atocore_tui.locks import ingest_lock
from atocore_tui.ops.first_run import first_run
from atocore_tui.server.app import create_app
from atocore_tui.server.background import ServerThread
from atocore_tui.store.models import Chunk, Document, Interaction, Memory, ProjectState

from .conftest import SAMPLE_VAULT, make_settings

TOKEN = "s3cret-token"


# ------------------------------------------------------------- the client
class SpecClient:
    """A client of the original AtoCore HTTP contract, from SPEC §3 only."""

    def __init__(self, base: str, token: str | None = None):
        self.base, self.token = base, token

    def call(self, method: str, path: str, body=None, **query) -> tuple[int, dict]:
        from urllib.parse import urlencode

        query = {k: v for k, v in query.items() if v is not None}
        url = self.base + path + (("?" + urlencode(query)) if query else "")
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(url, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                raw = answer.read()
                status = answer.status
        except urllib.error.HTTPError as error:
            raw, status = error.read(), error.code
        try:
            return status, json.loads(raw or b"null")
        except ValueError:
            return status, {"text": raw.decode()}

    def ok(self, method: str, path: str, body=None, **query) -> dict:
        status, data = self.call(method, path, body, **query)
        assert status == 200, (method, path, status, data)
        return data

    # The original routes, one method each.
    def ingest(self, path): return self.ok("POST", "/ingest", {"path": path})
    def ingest_sources(self): return self.ok("POST", "/ingest/sources")
    def projects(self): return self.ok("GET", "/projects")
    def template(self): return self.ok("GET", "/projects/template")
    def proposal(self, **reg): return self.ok("POST", "/projects/proposal", reg)
    def register(self, **reg): return self.ok("POST", "/projects/register", reg)
    def update_project(self, name, **fields): return self.ok("PUT", f"/projects/{name}", fields)
    def refresh(self, name, purge_deleted=False):
        return self.ok("POST", f"/projects/{name}/refresh", purge_deleted=str(purge_deleted).lower())
    def query(self, prompt, **kw): return self.ok("POST", "/query", {"prompt": prompt, **kw})
    def context(self, prompt, **kw): return self.ok("POST", "/context/build", {"prompt": prompt, **kw})
    def create_memory(self, **kw): return self.ok("POST", "/memory", kw)
    def memories(self, **query): return self.ok("GET", "/memory", **query)
    def update_memory(self, mid, **kw): return self.ok("PUT", f"/memory/{mid}", kw)
    def delete_memory(self, mid): return self.ok("DELETE", f"/memory/{mid}")
    def set_state(self, **kw): return self.ok("POST", "/project/state", kw)
    def state(self, project, **query): return self.ok("GET", f"/project/state/{project}", **query)
    def delete_state(self, **kw): return self.ok("DELETE", "/project/state", kw)
    def record(self, **kw): return self.ok("POST", "/interactions", kw)
    def interactions(self, **query): return self.ok("GET", "/interactions", **query)
    def interaction(self, iid): return self.ok("GET", f"/interactions/{iid}")
    def backup(self, include_index=False): return self.ok("POST", "/admin/backup", {"include_index": include_index})
    def backups(self): return self.ok("GET", "/admin/backup")
    def validate_backup(self, stamp): return self.ok("GET", f"/admin/backup/{stamp}/validate")
    def health(self): return self.ok("GET", "/health")
    def sources(self): return self.ok("GET", "/sources")
    def stats(self): return self.ok("GET", "/stats")
    def debug_context(self): return self.ok("GET", "/debug/context")


# ------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """One first-run data dir served twice: without a token and with one."""
    root = tmp_path_factory.mktemp("served")
    vault = root / "vault"
    shutil.copytree(SAMPLE_VAULT, vault)
    (root / "outside").mkdir()
    (root / "outside" / "secret.md").write_text("# Secret\n\nnot for the index\n", encoding="utf-8")
    engine = Engine(make_settings(root / "data", vault))
    first_run(engine)
    open_app, guarded_app = create_app(engine), create_app(engine, token=TOKEN)
    with ServerThread(open_app) as plain, ServerThread(guarded_app) as guarded:
        yield {"engine": engine, "root": root, "vault": vault, "url": plain.url, "guarded": guarded.url,
               "app": open_app}
    engine.close()


@pytest.fixture
def api(served):
    served["engine"].activate()
    return SpecClient(served["url"])


@pytest.fixture
def http(served):
    served["engine"].activate()
    with httpx.Client(base_url=served["url"], timeout=30) as client:
        yield client


def counts() -> dict:
    return {m.__name__: m.select().count() for m in (Document, Chunk, Memory, ProjectState, Interaction)}


# ------------------------------------------------- the original contract
def test_spec_client_speaks_the_original_contract(api, served):
    health = api.health()
    assert health["status"] == "ok" and health["chunks"] > 0
    assert {"name", "path", "exists"} <= set(api.sources()["sources"][0])
    assert api.stats()["counts"]["chunk"] == health["chunks"]

    projects = api.projects()
    assert set(projects) >= {"projects", "registry_path"}
    assert {"coldplate", "orion-drive"} <= {p["id"] for p in projects["projects"]}
    template = api.template()
    assert set(template) >= {"template", "registry_path", "allowed_sources"}
    registration = {"project_id": "pump-rig", "aliases": ["pr"], "description": "Pump test rig",
                    "ingest_roots": [{"source": "vault", "subpath": "knowledge"}]}
    proposal = api.proposal(**registration)
    assert proposal["valid"] is True
    registered = api.register(**registration)
    assert registered["id"] == "pump-rig" and registered["aliases"] == ["pr"]
    assert api.update_project("pr", description="Pump rig v2")["description"] == "Pump rig v2"
    refreshed = api.refresh("pump-rig")
    assert set(refreshed) == {"project", "aliases", "description", "purge_deleted", "status",
                              "roots_ingested", "roots_skipped", "roots"}
    assert refreshed["project"] == "pump-rig" and refreshed["roots_ingested"] == 1

    ingested = api.ingest("projects/coldplate")
    assert isinstance(ingested["results"], list) and ingested["results"]
    assert isinstance(api.ingest_sources()["results"], list)

    results = api.query("cold plate pressure drop", top_k=3, project="cp")["results"]
    assert 0 < len(results) <= 3
    assert {"chunk_id", "content", "score", "heading_path", "source_file", "title"} <= set(results[0])
    assert api.query("pressure drop", filter_tags=["no-such-tag"])["results"] == []

    pack = api.context("What lubricant does the gearbox use?", project="orion-drive", budget=4000)
    assert {"formatted_context", "full_prompt", "chunks_used", "total_chars", "budget", "budget_remaining",
            "duration_ms", "chunks"} <= set(pack)
    assert pack["budget"] == 4000 and pack["total_chars"] <= 4000
    assert pack["budget_remaining"] == 4000 - pack["total_chars"] and pack["chunks_used"] == len(pack["chunks"])
    assert api.debug_context()["formatted_context"] == pack["formatted_context"]

    stored = api.create_memory(memory_type="preference", content="Prefers SI units in every answer")
    assert stored["status"] == "ok" and stored["result"] == "stored"
    assert stored["memory_type"] == "preference" and stored["id"]
    listed = api.memories(memory_type="preference", limit=50)
    assert stored["id"] in {m["id"] for m in listed["memories"]} and "preference" in listed["types"]
    assert api.update_memory(stored["id"], confidence=0.8) == {"status": "updated", "id": stored["id"]}
    assert api.delete_memory(stored["id"]) == {"status": "invalidated", "id": stored["id"]}
    assert stored["id"] not in {m["id"] for m in api.memories(active_only="true")["memories"]}

    state = api.set_state(project="cp", category="status", key="gate", value="B-sample review")
    assert {"status", "id", "category", "key"} <= set(state) and state["category"] == "status"
    got = api.state("coldplate", category="status")
    assert got["project"] == "coldplate" and "status" in got["categories"]
    assert "gate" in {e["key"] for e in got["entries"]}
    assert api.delete_state(project="coldplate", category="status", key="gate")["status"] == "invalidated"

    recorded = api.record(prompt="Which lubricant?", response="Braycote 601EF", response_summary="lube",
                          project="orion-drive", client="spec-client", session_id="s1", memories_used=[],
                          chunks_used=[c["chunk_id"] for c in pack["chunks"]], context_pack=pack)
    assert recorded["status"] == "recorded" and recorded["id"] and recorded["created_at"]
    log = api.interactions(client="spec-client", limit=50)
    assert log["count"] == 1 and log["interactions"][0]["id"] == recorded["id"]
    assert api.interactions(since=recorded["created_at"], session_id="s1")["count"] == 1
    full = api.interaction(recorded["id"])
    assert full["prompt"] == "Which lubricant?" and full["client"] == "spec-client"
    assert full["chunks_used"] == [c["chunk_id"] for c in pack["chunks"]]
    assert full["context_pack"]["budget"] == 4000

    meta = api.backup()
    assert meta["stamp"]
    assert meta["stamp"] in {b["stamp"] for b in api.backups()["backups"]}
    assert api.validate_backup(meta["stamp"])["valid"] is True


def test_original_routes_refuse_bad_input_with_a_readable_detail(api, served):
    before = counts()
    cases = [
        ("POST", "/ingest", {"path": "no/such/folder"}, 404),
        ("POST", "/projects/proposal", {"project_id": "Bad Slug!", "aliases": [], "description": "",
                                        "ingest_roots": []}, 400),
        ("POST", "/projects/register", {"project_id": "Bad Slug!"}, 400),
        ("POST", "/projects/register", {"project_id": "coldplate"}, 400),
        ("PUT", "/projects/nope", {"description": "x"}, 404),
        ("PUT", "/projects/coldplate", {"aliases": ["orion-drive"]}, 400),
        ("POST", "/projects/nope/refresh", None, 404),
        ("POST", "/query", {"prompt": "   "}, 400),
        ("POST", "/query", {"prompt": "x", "top_k": 0}, 400),
        ("POST", "/query", {"top_k": 3}, 422),
        ("POST", "/context/build", {"prompt": ""}, 400),
        ("POST", "/context/build", {"prompt": "x", "budget": -1}, 400),
        ("POST", "/memory", {"memory_type": "gossip", "content": "x"}, 400),
        ("POST", "/memory", {"memory_type": "knowledge", "content": "  "}, 400),
        ("POST", "/memory", {"memory_type": "knowledge", "content": "x", "confidence": 1.5}, 400),
        ("POST", "/memory", {"memory_type": "knowledge", "content": "x", "project": "Not A Slug"}, 400),
        ("POST", "/memory", {"memory_type": "knowledge", "content": "x", "confidence": "high"}, 422),
        ("GET", "/memory?memory_type=gossip", None, 400),
        ("GET", "/memory?limit=-1", None, 400),
        ("GET", "/memory?limit=0&memory_type=gossip", None, 400),
        ("GET", "/memory?project=nope&min_confidence=2", None, 400),
        ("PUT", "/memory/ffffffffffffffff", {"content": "x"}, 404),
        ("DELETE", "/memory/ffffffffffffffff", None, 404),
        ("POST", "/project/state", {"project": "coldplate", "category": "gossip", "key": "k", "value": "v"}, 400),
        ("POST", "/project/state", {"project": "no/slug", "category": "status", "key": "k", "value": "v"}, 400),
        ("POST", "/project/state", {"project": "coldplate", "category": "status", "key": "k", "value": "v",
                                    "confidence": -0.1}, 400),
        ("GET", "/project/state/nope?category=gossip", None, 400),
        ("DELETE", "/project/state", {"project": "coldplate", "category": "status", "key": "never-set"}, 404),
        ("POST", "/interactions", {"prompt": "  "}, 400),
        ("POST", "/interactions", {"prompt": "x", "project": "Not a slug"}, 400),
        ("GET", "/interactions?limit=-1", None, 400),
        ("GET", "/interactions?limit=0&since=yesterday-ish", None, 400),
        ("GET", "/interactions?since=yesterday-ish", None, 400),
        ("GET", "/interactions/ffffffffffffffff", None, 404),
        ("GET", "/admin/backup/20990101T000000Z/validate", None, 404),
        ("GET", "/admin/backup/not-a-stamp/validate", None, 404),
        ("GET", "/admin/backup/..%2F..%2Fetc/validate", None, 404),
    ]
    for method, path, body, expected in cases:
        status, data = api.call(method, path, body)
        assert status == expected, (method, path, body, status, data)
        if status >= 400:
            assert isinstance(data["detail"], str) and data["detail"], (path, data)
    assert counts() == before


def test_big_limits_are_capped_not_refused(api):
    assert api.call("GET", "/interactions", limit=100000)[0] == 200


# ---------------------------------------------------------------- ingest
def test_ingest_refuses_paths_outside_the_sources(api, served):
    vault, outside = served["vault"], served["root"] / "outside"
    link = vault / "escape"
    link.symlink_to(outside, target_is_directory=True)
    try:
        before = counts()
        for path in ("../outside", "../outside/secret.md", "projects/../../outside", str(outside),
                     str(outside / "secret.md"), "/etc", "escape", "escape/secret.md", str(link), ".obsidian", ""):
            status, data = api.call("POST", "/ingest", {"path": path})
            assert status in (400, 403), (path, status, data)
            assert data["detail"]
        assert counts() == before
        assert not Document.select().where(Document.path.contains("secret")).exists()
    finally:
        link.unlink()


def test_ingest_while_another_ingestion_runs_is_busy(api, served):
    before = counts()
    held, release = threading.Event(), threading.Event()

    def hold():
        with ingest_lock(served["engine"].data_dir, purpose="test"):
            held.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(5)
    try:
        status, data = api.call("POST", "/ingest", {"path": "projects"})
        assert status == 409 and "ingestion" in data["detail"]
        assert api.call("POST", "/ingest/sources")[0] == 409
        assert api.call("POST", "/projects/coldplate/refresh")[0] in (200, 409)
    finally:
        release.set()
        holder.join()
    assert counts() == before


def test_request_bodies_over_the_limit_are_refused(http):
    big = json.dumps({"prompt": "x" * 1_100_000})
    answer = http.post("/query", content=big, headers={"content-type": "application/json"})
    assert answer.status_code == 413
    streamed = http.post("/query", content=iter([big[:600_000].encode(), big[600_000:].encode()]),
                         headers={"content-type": "application/json"})
    assert streamed.status_code == 413
    small = http.post("/query", content=iter([b'{"prompt": ', b'"gearbox"}']),
                      headers={"content-type": "application/json"})
    assert small.status_code == 200


def test_malformed_json_is_a_422_not_a_500(http):
    answer = http.post("/memory", content=b"{not json", headers={"content-type": "application/json"})
    assert answer.status_code == 422 and answer.json()["detail"]


# ---------------------------------------------------------------- token
def test_with_a_token_every_route_but_health_needs_it(served):
    schema = served["app"].api.openapi()
    with httpx.Client(base_url=served["guarded"], timeout=30) as client:
        assert client.get("/health").status_code == 200
        checked = 0
        for path, operations in schema["paths"].items():
            concrete = path.replace("{", "").replace("}", "")
            for method in operations:
                if path == "/health":
                    continue
                answer = client.request(method.upper(), concrete, json={})
                assert answer.status_code == 401, (method, path, answer.status_code)
                wrong = client.request(method.upper(), concrete, json={},
                                       headers={"Authorization": "Bearer wrong"})
                assert wrong.status_code == 401
                checked += 1
        for extra in ("/openapi.json", "/docs"):
            assert client.get(extra).status_code == 401
        assert checked >= 40
        good = {"Authorization": f"Bearer {TOKEN}"}
        assert client.get("/stats", headers=good).status_code == 200
        assert client.get("/openapi.json", headers=good).status_code == 200


def test_health_shows_paths_only_to_a_caller_with_the_token(served):
    with httpx.Client(base_url=served["guarded"], timeout=30) as client:
        anonymous = client.get("/health").json()
        known = client.get("/health", headers={"Authorization": f"Bearer {TOKEN}"}).json()
    assert anonymous["status"] == "ok" and anonymous["machine_paths"] == {} and "data_dir" not in anonymous
    assert all(s["path"] == "" for s in anonymous["source_status"])
    assert anonymous["sources_ready"] is True and anonymous["vectors_count"] == known["vectors_count"]
    root = str(served["root"])
    assert root not in json.dumps(anonymous)
    assert known["machine_paths"]["db_path"].startswith(root) and known["data_dir"].startswith(root)
    assert {s["name"]: s["path"] for s in known["source_status"]}["vault"] == str(served["vault"])


# ------------------------------------------------------------ extensions
def test_review_queue_over_http(http):
    a = http.post("/memory", json={"memory_type": "project", "content": "CP-200 inlet is 19 mm",
                                   "project": "cp", "status": "candidate"}).json()["id"]
    b = http.post("/memory", json={"memory_type": "project", "content": "CP-200 outlet is 17 mm",
                                   "project": "cp", "status": "candidate"}).json()["id"]
    queue = http.get("/review", params={"project": "coldplate"}).json()
    assert {a, b} <= {i["memory"]["id"] if "memory" in i else i["id"] for i in queue["items"]}
    assert http.get(f"/review/{a}").status_code == 200
    assert http.post(f"/review/{a}/promote").json()["status"] == "active"
    assert http.post(f"/review/{a}/promote").status_code == 400  # no longer a candidate
    assert http.post(f"/review/{b}/edit", json={"content": "CP-200 outlet is 18 mm"}).json()["content"] \
        == "CP-200 outlet is 18 mm"
    assert [e["action"] for e in http.get(f"/memory/{b}/audit").json()["audit"]][-1] == "edit_and_promote"
    assert http.post(f"/memory/{b}/undo").json()["status"] == "candidate"
    assert http.post(f"/review/{b}/reject").json()["status"] == "invalid"
    c = http.post("/memory", json={"memory_type": "project", "content": "CP-200 inlet is nineteen mm",
                                   "project": "cp", "status": "candidate"}).json()["id"]
    assert http.post(f"/review/{c}/merge", json={"into_id": a}).json()["id"] == a
    d = http.post("/memory", json={"memory_type": "project", "content": "CP-200 inlet is 20 mm",
                                   "project": "cp", "status": "candidate"}).json()["id"]
    assert http.post(f"/review/{d}/supersede", json={"old_id": a}).json()["id"] == d
    assert http.get(f"/memory/{a}").json()["status"] == "superseded"
    replaced = http.post(f"/memory/{d}/supersede", json={"content": "CP-200 inlet is 21 mm"}).json()
    assert replaced["status"] == "active" and replaced["id"] != d
    assert http.get("/review/ffffffffffff").status_code == 404
    assert http.get("/review", params={"order": "random"}).status_code == 400
    assert http.post("/review/ffffffffffff/merge", json={}).status_code == 422


def test_graph_and_alerts_over_http(http):
    gaps = http.get("/graph/gaps/orion-drive").json()
    assert gaps and http.get("/graph/gaps").json()["projects"]
    housing = "odu-housing"
    entity = http.get(f"/graph/entities/{housing}").json()
    assert entity["id"] == housing and "outgoing" in entity
    assert http.get("/graph/entities", params={"project": "orion-drive", "entity_type": "component"}).json()["count"]
    assert http.get("/graph/map/orion-drive").status_code == 200
    assert http.get(f"/graph/requirements/{housing}").json()["entity"]["id"] == housing
    assert http.get("/graph/decisions/orion-drive").json()["count"] > 0
    assert http.get("/graph/changes", params={"project": "orion-drive", "limit": 5}).json()["count"] <= 5
    assert http.get(f"/graph/impact/{housing}").status_code == 200
    assert http.get(f"/graph/evidence/{housing}", params={"depth": 2}).status_code == 200

    made = http.post("/graph/entities", json={"project": "orion-drive", "entity_type": "test",
                                              "name": "HTTP-made vibration test"}).json()
    assert made["status"] == "candidate"
    assert http.put(f"/graph/entities/{made['id']}", json={"description": "random vibe"}).json()["description"]
    assert http.post(f"/graph/entities/{made['id']}/promote").json()["status"] == "active"
    rel = http.post("/graph/relationships", json={"source_id": made["id"], "relationship_type": "VALIDATES",
                                                  "target_id": housing})
    assert rel.status_code in (200, 400)
    if rel.status_code == 200:
        assert http.delete(f"/graph/relationships/{rel.json()['id']}").status_code == 200
    assert http.post(f"/graph/entities/{made['id']}/supersede").json()["status"] == "superseded"

    conflicts = http.get("/graph/conflicts", params={"status": "open"}).json()
    assert conflicts["count"] >= 1
    cid = conflicts["conflicts"][0]["id"]
    assert http.get(f"/graph/conflicts/{cid}").json()["id"] == cid
    assert http.post(f"/graph/conflicts/{cid}/resolve", json={"action": "explode"}).status_code == 400
    assert http.post(f"/graph/conflicts/{cid}/resolve", json={"action": "no_action"}).status_code == 200

    memory = http.post("/memory", json={"memory_type": "knowledge", "content": "PFPE grease outgasses little",
                                        "project": "orion-drive"}).json()["id"]
    assert http.get(f"/graph/graduation/{memory}").json()["name"]
    graduated = http.post(f"/graph/graduation/{memory}", json={"entity_type": "material"}).json()
    assert graduated["status"] == "candidate"

    alerts = http.get("/alerts", params={"include_acknowledged": True}).json()
    assert alerts["count"] >= 1
    assert http.post(f"/alerts/{alerts['alerts'][0]['id']}/acknowledge").json()["acknowledged"] is True

    for path in ("/graph/entities/nope", "/graph/impact/nope", "/graph/requirements/nope", "/graph/map/nope",
                 "/graph/conflicts/nope", "/graph/graduation/ffffffffffff"):
        assert http.get(path).status_code == 404, path
    assert http.post("/alerts/999999/acknowledge").status_code == 404
    assert http.get("/graph/entities", params={"entity_type": "spaceship"}).status_code == 400
    assert http.post("/graph/relationships", json={"source_id": housing, "relationship_type": "LOVES",
                                                   "target_id": housing}).status_code == 400


def test_projects_extras_state_history_and_receipts(http):
    assert http.get("/projects/cp").json()["id"] == "coldplate"
    exported = http.get("/projects/export").text
    assert "coldplate" in exported
    assert http.post("/projects/import", json={"yaml": exported}).json()["imported"] >= 2
    assert http.post("/projects/import", json={"yaml": "projects: [ {id: 'Bad!'} ]"}).status_code == 400
    http.post("/project/state", json={"project": "cp", "category": "note", "key": "k", "value": "1"})
    http.post("/project/state", json={"project": "cp", "category": "note", "key": "k", "value": "2"})
    history = http.get("/project/state/cp/history", params={"category": "note", "key": "k"}).json()
    assert [e["value"] for e in history["entries"]][:2] == ["2", "1"]

    pack = http.post("/context/build", json={"prompt": "cold plate flow", "project": "cp"}).json()
    assert [t["key"] for t in pack["tiers"]] and all("used" in t for t in pack["tiers"])
    recorded = http.post("/interactions", json={"prompt": "cold plate flow", "context_pack": pack}).json()
    replay = http.get(f"/context/replay/{recorded['id']}").json()
    assert replay and http.post(f"/context/replay/{recorded['id']}").status_code == 200
    assert http.get("/context/replay/ffffffffffff").status_code == 404
    bare = http.post("/interactions", json={"prompt": "no pack"}).json()
    assert http.get(f"/context/replay/{bare['id']}").status_code == 400
    assert http.post(f"/interactions/{recorded['id']}/extract").status_code == 200
    assert http.post("/interactions/extract", json={"project": "cp"}).status_code == 200


def test_registry_import_over_http_never_reads_a_file(http, served):
    """The body is the YAML itself: a path in it is not opened on the server."""
    registry = served["root"] / "elsewhere.yaml"
    registry.write_text("version: 1\nprojects:\n  - id: from-disk\n    aliases: []\n"
                        "    description: read from the server's disk\n    ingest_roots: []\n")
    for text in (str(registry), "~c", "~/x.yaml"):
        answer = http.post("/projects/import", json={"yaml": text})
        assert answer.status_code == 400 and answer.json()["detail"], (text, answer.text)
    assert http.get("/projects/from-disk").status_code == 404


def test_openapi_schema_describes_the_bodies(http):
    schema = http.get("/openapi.json").json()
    body = schema["components"]["schemas"]["InteractionBody"]["properties"]
    assert {"prompt", "response", "response_summary", "project", "client", "session_id", "memories_used",
            "chunks_used", "context_pack"} <= set(body)
    assert http.get("/docs").status_code == 200


def test_the_server_sees_writes_from_another_process(api, served, tmp_path):
    """A second process writes to the same data dir; the server's next reads show it."""
    import subprocess
    import sys

    engine = served["engine"]
    script = (
        "import sys; from pathlib import Path; from atocore_tui.config import load_settings;"
        "from atocore_tui.engine import Engine;"
        "e = Engine(load_settings(env={}, overrides={'data_dir': Path(sys.argv[1]),"
        " 'sources.vault': Path(sys.argv[2])}));"
        "e.memories.create('knowledge', 'Written by the other process: zirconia bearings');"
        "e.ingest(sys.argv[3]); e.close()")
    note = served["vault"] / "knowledge" / "other-process.md"
    note.write_text("# Quasicrystal flux capacitor\n\nThe quasicrystal flux capacitor hums at 88 Hz.\n",
                    encoding="utf-8")
    subprocess.run([sys.executable, "-c", script, str(engine.data_dir), str(served["vault"]), str(note)],
                   check=True, cwd=Path(__file__).resolve().parent.parent, timeout=60,
                   env={**os.environ, "ATOCORE_API_TOKEN": ""})
    contents = {m["content"] for m in api.memories(memory_type="knowledge", limit=200)["memories"]}
    assert "Written by the other process: zirconia bearings" in contents
    hits = api.query("quasicrystal flux capacitor", top_k=3)["results"]
    assert hits and hits[0]["source_file"].endswith("other-process.md")


def test_a_worker_runs_requests_on_a_few_threads(engine):
    import anyio.to_thread
    from starlette.testclient import TestClient

    from atocore_tui.server.app import REQUEST_THREADS, create_app

    with TestClient(create_app(engine), base_url="http://127.0.0.1") as client:  # runs the lifespan
        assert client.get("/health").status_code == 200
        limiter = client.portal.call(anyio.to_thread.current_default_thread_limiter)
        assert limiter.total_tokens == REQUEST_THREADS == 2


def test_long_routes_leave_the_request_threads_to_other_clients(engine, monkeypatch):
    """An ingestion and a backup held running at once (as long ones would be)
    take their own threads: queries from other clients are still answered,
    and both long answers arrive once they finish."""
    import threading

    from starlette.testclient import TestClient

    from atocore_tui.server.app import LONG_THREADS, REQUEST_THREADS, create_app

    release, started = threading.Event(), threading.Semaphore(0)

    def held(real):
        def run(*args, **kwargs):
            started.release()
            release.wait()
            return real(*args, **kwargs)
        return run

    monkeypatch.setattr(engine, "ingest", held(engine.ingest))
    monkeypatch.setattr(engine.backups, "create", held(engine.backups.create))
    answers: dict = {}
    with TestClient(create_app(engine), base_url="http://127.0.0.1") as client:
        long = [threading.Thread(target=lambda: answers.__setitem__("ingest", client.post("/ingest/sources"))),
                threading.Thread(target=lambda: answers.__setitem__("backup", client.post("/admin/backup", json={})))]
        try:
            for thread in long:
                thread.start()
            assert started.acquire(timeout=10) and started.acquire(timeout=10)  # both are running
            assert LONG_THREADS >= 2 >= REQUEST_THREADS
            quick = [threading.Thread(target=lambda i=i: answers.__setitem__(
                f"query{i}", client.post("/query", json={"prompt": "gearbox lubricant", "top_k": 3})))
                for i in range(REQUEST_THREADS + 2)]
            for thread in quick:
                thread.start()
            for thread in quick:
                thread.join(20)
            assert all(answers.get(f"query{i}") is not None and answers[f"query{i}"].status_code == 200
                       for i in range(REQUEST_THREADS + 2)), "queries waited for the long routes"
        finally:
            release.set()
            for thread in long:
                thread.join(30)
    assert answers["ingest"].status_code == 200 and answers["ingest"].json()["summary"]["ingested"] > 0
    assert answers["backup"].status_code == 200


def test_a_warmed_worker_runs_numpy_blas_on_one_thread(engine):
    """OpenBLAS's idle threads spin after each product and took a core from the
    request threads under load; a server worker keeps one (the rest of the
    process's BLAS settings untouched elsewhere: the limits are restored here)."""
    from threadpoolctl import ThreadpoolController

    from atocore_tui.server import BLAS_THREADS, warm

    controller = ThreadpoolController()
    blas = [lib for lib in controller.info() if lib["user_api"] == "blas"]
    assert blas, "numpy's BLAS was not found"
    original = controller.limit(limits={lib["prefix"]: lib["num_threads"] for lib in blas})
    try:
        warm(engine)
        assert [lib["num_threads"] for lib in ThreadpoolController().info()
                if lib["user_api"] == "blas"] == [BLAS_THREADS] * len(blas)
    finally:
        original.restore_original_limits()
