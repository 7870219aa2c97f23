"""Score the HTTP face against the original AtoCore contract, point by point.

Where ``tests/test_original_contract.py`` fails on the first difference, this
counts them: a strict client of the original calls every original route (its
request bodies, on a first-run copy of the sample vault) and scores one point
per status code, status string, field present and field type (the first item
of a list stands for the list). Prints the score and every missed point.

    python bench/contract_score.py            # this checkout
    PYTHONPATH=/path/to/other/checkout python bench/contract_score.py
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.test_original_contract import (  # noqa: E402  (shapes only: written from the reference)
    CONTEXT_BUILD,
    DEBUG_CONTEXT,
    HEALTH,
    INTERACTION,
    INTERACTION_SUMMARY,
    MEMORY,
    QUERY_HIT,
    REFRESH,
    RESULTS,
    STATE_ENTRY,
    Nullable,
)

SAMPLE_VAULT = ROOT / "sample_vault"


class Score:
    def __init__(self):
        self.passed = 0
        self.missed: list[str] = []

    def point(self, ok: bool, what: str) -> bool:
        if ok:
            self.passed += 1
        else:
            self.missed.append(what)
        return ok

    def shape(self, value, shape, where: str) -> None:
        if isinstance(shape, Nullable):
            if value is not None:
                self.shape(value, shape.kind, where)
            else:
                self.point(True, where)
            return
        if isinstance(shape, (str, bool, int)) and not isinstance(shape, type):
            self.point(value == shape and type(value) is type(shape), f"{where} == {shape!r} (got {value!r})")
        elif shape is int:
            self.point(isinstance(value, int) and not isinstance(value, bool), f"{where}: int (got {value!r:.40})")
        elif shape is float:
            self.point(isinstance(value, float), f"{where}: float (got {value!r:.40})")
        elif shape is bool:
            self.point(isinstance(value, bool), f"{where}: bool (got {value!r:.40})")
        elif shape in (str, list, dict):
            self.point(isinstance(value, shape), f"{where}: {shape.__name__} (got {str(value)[:40]!r})")
        elif isinstance(shape, list):
            if self.point(isinstance(value, list), f"{where}: list") and value:
                self.shape(value[0], shape[0], f"{where}[0]")
        elif isinstance(shape, dict):
            if not self.point(isinstance(value, dict), f"{where}: object"):
                return
            for name, inner in shape.items():
                if self.point(name in value, f"{where}.{name} present"):
                    self.shape(value[name], inner, f"{where}.{name}")


def main() -> int:
    from atocore_tui.config import load_settings
    from atocore_tui.engine import Engine
    from atocore_tui.ops.first_run import first_run
    from atocore_tui.server.app import create_app
    from atocore_tui.server.background import ServerThread

    score = Score()
    with tempfile.TemporaryDirectory(prefix="contract-score-") as tmp:
        vault = Path(tmp) / "vault"
        shutil.copytree(SAMPLE_VAULT, vault)
        engine = Engine(load_settings(env={}, overrides={"data_dir": Path(tmp) / "data", "sources.vault": vault}))
        first_run(engine)
        with ServerThread(create_app(engine)) as server:
            def call(status: int, shape, method: str, path: str, body=None, **query):
                url = server.url + path + (("?" + urlencode(query)) if query else "")
                data = json.dumps(body).encode() if body is not None else None
                request = urllib.request.Request(url, data=data, method=method)
                if data is not None:
                    request.add_header("Content-Type", "application/json")
                try:
                    with urllib.request.urlopen(request, timeout=60) as answer:
                        code, raw = answer.status, answer.read()
                except urllib.error.HTTPError as error:
                    code, raw = error.code, error.read()
                try:
                    answer = json.loads(raw or b"null")
                except ValueError:
                    answer = None
                where = f"{method} {path}"
                score.point(code == status, f"{where}: status {status} (got {code})")
                if code == status and status < 400 and shape is not None:
                    score.shape(answer, shape, where)
                return answer if isinstance(answer, dict) else {}

            call(200, {"message": str}, "GET", "/debug/context")
            call(200, HEALTH, "GET", "/health")
            call(200, {"sources": [dict], "vault_enabled": bool, "drive_enabled": bool}, "GET", "/sources")
            call(200, dict, "GET", "/stats")
            call(200, RESULTS, "POST", "/ingest", {"path": str(vault / "projects" / "coldplate")})
            call(404, None, "POST", "/ingest", {"path": str(vault / "no-such-folder")})
            call(200, RESULTS, "POST", "/ingest/sources")

            call(200, {"projects": list, "registry_path": str}, "GET", "/projects")
            call(200, {"template": dict, "registry_path": str, "allowed_sources": list}, "GET", "/projects/template")
            reg = {"project_id": "pump-rig", "aliases": ["pr"], "description": "Pump rig",
                   "ingest_roots": [{"source": "vault", "subpath": "knowledge"}]}
            call(200, dict, "POST", "/projects/proposal", reg)
            call(400, None, "POST", "/projects/proposal", {**reg, "project_id": "Not a slug!"})
            call(200, dict, "POST", "/projects/register", reg)
            call(200, dict, "PUT", "/projects/pump-rig", {"description": "Pump rig v2"})
            call(404, None, "PUT", "/projects/no-such-project", {"description": "x"})
            call(200, REFRESH, "POST", "/projects/pump-rig/refresh", purge_deleted="false")
            call(404, None, "POST", "/projects/no-such-project/refresh")

            call(200, {"results": [QUERY_HIT]}, "POST", "/query",
                 {"prompt": "cold plate pressure drop", "top_k": 5, "filter_tags": None, "project": "coldplate"})
            call(200, CONTEXT_BUILD, "POST", "/context/build",
                 {"prompt": "What lubricant does the gearbox use?", "project": "orion-drive", "budget": 3000})
            call(200, DEBUG_CONTEXT, "GET", "/debug/context")

            made = call(200, {"status": "ok", "id": str, "memory_type": str}, "POST", "/memory",
                        {"memory_type": "preference", "content": "Answers in SI units", "project": "",
                         "confidence": 0.9})
            call(200, {"memories": [MEMORY], "types": [str]}, "GET", "/memory", memory_type="preference")
            call(200, {"memories": list}, "GET", "/memory", limit=0)
            mid = made.get("id", "ffffffffffffffff")
            call(200, {"status": "updated", "id": str}, "PUT", f"/memory/{mid}", {"confidence": 0.8})
            call(200, {"status": "invalidated", "id": str}, "DELETE", f"/memory/{mid}")

            call(200, {"status": "ok", "id": str, "category": str, "key": str}, "POST", "/project/state",
                 {"project": "coldplate", "category": "status", "key": "gate", "value": "B", "source": "",
                  "confidence": 1.0})
            call(200, {"project": str, "entries": [STATE_ENTRY], "categories": [str]}, "GET",
                 "/project/state/coldplate")
            call(200, {"status": "invalidated", "project": str, "category": str, "key": str}, "DELETE",
                 "/project/state", {"project": "coldplate", "category": "status", "key": "gate"})

            body = {"prompt": "Which lubricant?", "response": "Braycote 601EF.", "response_summary": "lube",
                    "project": "orion-drive", "client": "score", "session_id": "s-1", "memories_used": [],
                    "chunks_used": [], "context_pack": None}
            made = call(200, {"status": "recorded", "id": str, "created_at": str}, "POST", "/interactions", body)
            call(200, {"count": int, "interactions": [INTERACTION_SUMMARY]}, "GET", "/interactions", client="score")
            call(200, {"count": int, "interactions": list}, "GET", "/interactions", limit=0)
            call(200, INTERACTION, "GET", f"/interactions/{made.get('id', 'ffffffffffffffff')}")

            backup = call(200, dict, "POST", "/admin/backup", {"include_chroma": True})
            listed = call(200, {"backup_dir": str, "backups": [dict]}, "GET", "/admin/backup")
            entry = next((b for b in listed.get("backups", []) if b.get("stamp") == backup.get("stamp")), {})
            score.point(entry.get("include_index") is True, "POST /admin/backup: include_chroma saved the index")
            call(200, {"exists": True}, "GET", f"/admin/backup/{backup.get('stamp', 'x')}/validate")
            call(404, None, "GET", "/admin/backup/not-a-stamp/validate")

            conflicts = call(200, {"conflicts": [dict]}, "GET", "/admin/conflicts")
            cid = next((c["id"] for c in conflicts.get("conflicts", []) if c.get("status") == "open"), "x")
            call(200, dict, "POST", f"/admin/conflicts/{cid}/resolve", {"action": "dismiss"})
            call(200, dict, "GET", "/admin/graduation/stats")

            for method, path, payload in (
                    ("POST", "/query", {"prompt": "pressure drop", "project": "p05-interferometer"}),
                    ("POST", "/context/build", {"prompt": "pressure drop", "project": "p05-interferometer"}),
                    ("POST", "/memory", {"memory_type": "project", "content": "HeNe laser",
                                         "project": "p05-interferometer"}),
                    ("POST", "/project/state", {"project": "p05-interferometer", "category": "decision",
                                                "key": "laser", "value": "HeNe"}),
                    ("POST", "/interactions", {"prompt": "laser?", "project": "p05-interferometer"})):
                call(200, dict, method, path, payload)
        engine.close()

    total = score.passed + len(score.missed)
    print(f"original contract: {score.passed}/{total} points ({100 * score.passed / total:.1f} %)")
    for miss in score.missed:
        print(f"  missed: {miss}")
    return 0 if not score.missed else 1


if __name__ == "__main__":
    raise SystemExit(main())
