"""The sample graph (gaps match a written list), graduation round trip, and the
``atocore-tui graph`` commands."""

from __future__ import annotations

import json

import pytest

from atocore_tui.cli import main
from atocore_tui.errors import ConfigError, NotFound, ValidationError
from atocore_tui.graph import graduation, vocab
from atocore_tui.graph.sample import SAMPLE_FILE
from atocore_tui.store.models import Alert, Entity, EntityAudit, Memory, MemoryAudit, Project, Relationship

EXPECTED_GAPS = {
    "orion-drive": {
        "orphan_requirements": ["odu-req-008", "odu-req-030"],
        "risky_decisions": ["odu-dec-fill-20", "odu-dec-005"],
        "unsupported_claims": ["odu-claim-fill-20", "odu-claim-labyrinth"],
    },
    "coldplate": {
        "orphan_requirements": ["cp-req-014", "cp-req-017"],
        "risky_decisions": ["cp-dec-brazed", "cp-dec-001"],
        "unsupported_claims": ["cp-claim-single-plate", "cp-claim-weld-path"],
    },
}


@pytest.fixture
def sample(engine):
    """The sample graph loaded into a data dir whose projects are known."""
    Project.create(id="orion-drive")
    Project.create(id="coldplate")
    result = engine.graph.load_sample_if_empty()
    assert result["loaded"], result
    return engine.graph


def test_sample_graph_is_realistic_and_complete(sample):
    assert Entity.select().count() >= 40
    per_project = {p: Entity.select().where(Entity.project == p).count() for p in ("orion-drive", "coldplate")}
    assert min(per_project.values()) >= 20
    used = {r.relationship_type for r in Relationship.select(Relationship.relationship_type).distinct()}
    assert used == set(vocab.RELATIONSHIP_TYPES)
    assert {e.entity_type for e in Entity.select()} == set(vocab.ENTITY_TYPES)
    # every entity went through the API: created (and promoted or superseded) with audit rows
    audited = {a.entity_id for a in EntityAudit.select().where(EntityAudit.action == "created")}
    assert audited == {e.id for e in Entity.select()}
    assert Entity.get_by_id("odu-dec-fill-30").status == "superseded"
    assert Entity.get_by_id("odu-test-dust-em2").status == "candidate"
    assert all(ref.startswith("note:projects/") for e in Entity.select() for ref in e.source_refs)


def test_sample_refs_name_real_notes(sample, engine):
    from pathlib import Path

    vault = Path(engine.settings.configured_sources()["vault"])
    refs = {ref.split(":", 1)[1] for e in Entity.select() for ref in e.source_refs}
    assert refs and all((vault / ref).is_file() for ref in refs)


def test_sample_gaps_match_the_expected_lists(sample):
    for project, expected in EXPECTED_GAPS.items():
        result = sample.gaps(project)
        for kind, ids in expected.items():
            assert [item["id"] for item in result[kind]] == ids, (project, kind)
            assert all(item["why"] for item in result[kind])
        assert result["counts"] == {kind: len(ids) for kind, ids in expected.items()}


def test_sample_has_one_conflict_and_one_alert(sample):
    conflicts = sample.conflicts()
    assert len(conflicts) == 1 and Alert.select().count() == 1
    conflict = conflicts[0]
    assert conflict["slot_kind"] == "component_material" and conflict["subject"]["id"] == "odu-housing"
    assert {m["id"] for m in conflict["members"]} == {"odu-mat-7075", "odu-mat-ti64"}
    sample.resolve(conflict["id"], "supersede_others", winner="odu-mat-7075")
    assert sample.alerts() == []


def test_sample_queries_have_something_to_show(sample):
    tree = sample.system_map("orion-drive")
    assert [r["id"] for r in tree["roots"]] == ["odu-100"] and tree["cycles"] == []
    assert {c["id"] for c in tree["roots"][0]["children"]} >= {"odu-gearbox", "odu-motor", "odu-housing"}
    impact = sample.impact("odu-claim-fill-20", depth=4)
    assert {"odu-dec-fill-20", "odu-gearbox", "odu-100"} <= {r["id"] for r in impact["reached"]}
    evidence = sample.evidence("odu-dec-004", depth=3)
    assert [s["id"] for s in evidence["supporters"]] == ["odu-claim-pfpe-cold", "odu-res-breakaway",
                                                         "odu-test-tvac-em1"]
    assert {r["id"] for r in sample.requirements_for("cp-200")["requirements"]} >= {
        "cp-req-001", "cp-req-003", "cp-req-011", "cp-con-loop-budget"}


def test_sample_is_loaded_once_and_only_for_known_projects(sample, engine, tmp_path):
    assert engine.graph.load_sample_if_empty() == {"loaded": False, "reason": "the graph already has entities"}
    Entity.delete().execute()
    Project.delete().where(Project.id == "coldplate").execute()
    before = Entity.select().count()
    result = engine.graph.load_sample_if_empty()
    assert result["loaded"] is False and "coldplate" in result["reason"]
    assert Entity.select().count() == before == 0
    assert engine.graph.load_sample_if_empty(tmp_path / "none.yaml")["loaded"] is False
    bad = tmp_path / "bad.yaml"
    bad.write_text("entities:\n  - id: x\n   bad: [\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad.yaml:\d+"):
        engine.graph.load_sample_if_empty(bad)


def test_a_bad_sample_file_writes_nothing(engine, tmp_path):
    Project.create(id="p1")
    bad = tmp_path / "graph.yaml"
    bad.write_text("entities:\n"
                   "  - {id: a, project: p1, type: component, name: A}\n"
                   "  - {id: b, project: p1, type: gizmo, name: B}\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="unknown entity type"):
        engine.graph.load_sample_if_empty(bad)
    assert Entity.select().count() == EntityAudit.select().count() == 0


# ----------------------------------------------------------------- graduation
@pytest.mark.parametrize("text,kind,name", [
    ("We decided to use Braycote 601EF for the gearbox because it stays soft at -80 C.",
     "decision", "Braycote 601EF for the gearbox"),
    ("ODU-REQ-031 The motor shall have Hall sensors and a 14-bit encoder.",
     "requirement", "ODU-REQ-031 The motor"),
    ("Risk that regolith dust passes the lip seal and contaminates the grease.",
     "risk", "Regolith dust passes the lip seal and contaminates"),
    ("EM-1 efficiency measured 71.2 % at -40 C in TVAC.", "result", "EM-1 efficiency measured 71.2 % at -40 C"),
    ("Vibration test of EM-1 on the 35 kN shaker next week.", "test", "Vibration test of EM-1 on the 35 kN"),
    ("The housing is 7075-T6 with a hard anodize.", "material", "7075-T6"),
])
def test_proposal_rules(text, kind, name):
    assert graduation.propose_type(text) == kind
    assert graduation.propose_name(text, kind) == name


def test_graduation_round_trip(engine):
    Project.create(id="orion-drive")
    memory = Memory.create(memory_type="project", project="orion-drive", confidence=0.9,
                           content="We decided to reduce the grease fill to 20 % for EM-2 because of cold losses.")
    proposal = engine.graph.propose_graduation(memory.id)
    assert proposal["entity_type"] == "decision" and proposal["project"] == "orion-drive"
    assert proposal["source_refs"] == [f"memory:{memory.id}"] and proposal["confidence"] == 0.9
    assert Entity.select().count() == 0                       # a proposal writes nothing

    entity = engine.graph.graduate(memory.id, name="Grease fill 20 % for EM-2")   # edited before saving
    assert entity["status"] == "candidate" and entity["name"] == "Grease fill 20 % for EM-2"
    assert entity["source_refs"] == [f"memory:{memory.id}"] and entity["entity_type"] == "decision"
    assert Memory.get_by_id(memory.id).status == "active"     # not graduated until promoted
    assert engine.graph.entity(entity["id"])["graduated_from"] == memory.id

    promoted = engine.graph.promote(entity["id"])
    assert promoted["graduated"] == {"memory_id": memory.id, "status": "graduated",
                                     "graduated_to_entity": entity["id"]}
    stored = Memory.get_by_id(memory.id)
    assert (stored.status, stored.graduated_to_entity) == ("graduated", entity["id"])
    memory_audit = MemoryAudit.get(MemoryAudit.memory == memory.id)
    assert memory_audit.action == "graduated" and memory_audit.after["graduated_to_entity"] == entity["id"]
    assert memory_audit.before == {"status": "active", "graduated_to_entity": None}
    actions = [a["action"] for a in engine.graph.entity(entity["id"])["audit"]]
    assert actions == ["memory_graduated", "promoted", "created"]
    before = (Entity.select().count(), MemoryAudit.select().count())
    with pytest.raises(ValidationError, match="graduated"):
        engine.graph.graduate(memory.id)
    assert (Entity.select().count(), MemoryAudit.select().count()) == before


def test_graduation_bad_input_writes_nothing(engine):
    Project.create(id="p1")
    loose = Memory.create(memory_type="knowledge", project="", content="PTFE shrinks at low temperature.")
    dead = Memory.create(memory_type="knowledge", project="p1", content="x", status="invalid")
    ok = Memory.create(memory_type="project", project="p1", content="The seal must hold 0.8 N·m.")
    for call, error, message in [
        (lambda: engine.graph.graduate("nope"), NotFound, "unknown memory"),
        (lambda: engine.graph.graduate(loose.id), ValidationError, "no project"),
        (lambda: engine.graph.graduate(dead.id), ValidationError, "invalid"),
        (lambda: engine.graph.graduate(ok.id, entity_type="gizmo"), ValidationError, "unknown entity type"),
        (lambda: engine.graph.graduate(ok.id, name=" "), ValidationError, "blank"),
        (lambda: engine.graph.graduate(ok.id, project="nope"), NotFound, "unknown project"),
    ]:
        with pytest.raises(error, match=message):
            call()
    assert Entity.select().count() == EntityAudit.select().count() == MemoryAudit.select().count() == 0
    made = engine.graph.graduate(loose.id, project="p1")
    assert made["entity_type"] == "material" and made["name"] == "PTFE"
    assert engine.graph.propose_graduation(ok.id)["entity_type"] == "requirement"


def test_plain_entities_citing_a_memory_do_not_graduate_it(engine):
    Project.create(id="p1")
    memory = Memory.create(memory_type="project", project="p1", content="Kt is 0.118 N·m/A")
    entity = engine.graph.create_entity("p1", "parameter", "Kt", source_refs=[f"memory:{memory.id}"])
    assert engine.graph.promote(entity["id"])["graduated"] is None
    assert Memory.get_by_id(memory.id).status == "active"


# ------------------------------------------------------------------------ CLI
@pytest.fixture
def cli(tmp_path, vault):
    base = ["--data-dir", str(tmp_path / "cli-data"), "--vault", str(vault)]
    return lambda *args: main([*base, *args])


def test_cli_graph_commands(cli, capsys, vault):
    assert (vault / SAMPLE_FILE).is_file()
    assert cli("ingest", "--json") == 0
    capsys.readouterr()
    assert cli("graph", "load-sample", "--json") == 0
    loaded = json.loads(capsys.readouterr().out)
    assert loaded["loaded"] and loaded["entities"] >= 40 and len(loaded["conflicts"]) == 1

    def run_json(*args):
        capsys.readouterr()
        assert cli("graph", *args, "--json") == 0, args
        return json.loads(capsys.readouterr().out)

    gaps = run_json("gaps", "orion-drive")
    assert [i["id"] for i in gaps["orphan_requirements"]] == EXPECTED_GAPS["orion-drive"]["orphan_requirements"]
    assert run_json("entities", "--project", "coldplate", "--type", "decision")["count"] == 4
    assert run_json("show", "odu-housing")["id"] == "odu-housing"
    assert run_json("map", "orion-drive")["roots"][0]["id"] == "odu-100"
    assert run_json("impact", "odu-liners", "--depth", "2")["count"] >= 3
    assert run_json("evidence", "odu-dec-003")["count"] == 3
    assert run_json("requirements", "odu-gearbox")["count"] >= 3
    assert len(run_json("decisions", "coldplate")["decisions"]) == 4
    assert len(run_json("changes", "--project", "coldplate", "--limit", "5")["changes"]) == 5
    conflict = run_json("conflicts", "--status", "open")["conflicts"][0]
    alert = run_json("alerts")["alerts"][0]
    assert run_json("resolve", conflict["id"], "supersede_others", "--winner", "odu-mat-7075")["status"] == "resolved"
    assert run_json("show", "odu-mat-ti64")["status"] == "superseded"
    assert run_json("reopen", conflict["id"])["status"] == "open"
    assert run_json("show", "odu-mat-ti64")["status"] == "active"
    assert run_json("resolve", conflict["id"], "supersede_others", "--winner", "odu-mat-7075")["status"] == "resolved"
    assert run_json("ack", str(alert["id"]))["acknowledged"] is True
    made = run_json("add", "orion-drive", "risk", "R-ODU-10 Encoder cable chafes", "--ref", "note:projects/x.md")
    assert made["status"] == "candidate"
    assert run_json("relate", made["id"], "AFFECTS", "odu-motor")["relationship_type"] == "AFFECTS"
    assert run_json("promote", made["id"])["status"] == "active"
    assert run_json("supersede", made["id"])["status"] == "superseded"

    capsys.readouterr()
    assert cli("graph", "relate", "odu-100", "OWNS", "odu-housing") == 2
    assert "unknown relationship type" in capsys.readouterr().err
    assert cli("graph", "show", "nope") == 3
    assert cli("graph", "gaps", "coldplate") == 0                  # the text view
    assert "why:" in capsys.readouterr().out


def test_cli_graduate(cli, capsys, tmp_path):
    assert cli("ingest", "--json") == 0
    # write a memory through the store the CLI uses, then graduate it from the command line
    from atocore_tui.engine import Engine
    from tests.conftest import make_settings

    eng = Engine(make_settings(tmp_path / "cli-data", None))
    memory = Memory.create(memory_type="project", project="coldplate",
                           content="The plate must stay below 45 °C at the hottest cell.")
    eng.close()
    capsys.readouterr()
    assert cli("graph", "graduate", memory.id, "--dry-run", "--json") == 0
    assert json.loads(capsys.readouterr().out)["entity_type"] == "requirement"
    assert cli("graph", "graduate", memory.id, "--name", "Max cell temperature 45 °C", "--json") == 0
    entity = json.loads(capsys.readouterr().out)
    assert cli("graph", "promote", entity["id"], "--json") == 0
    assert json.loads(capsys.readouterr().out)["graduated"]["memory_id"] == memory.id


def test_type_counts_count_every_entity_of_a_project(sample):
    counts = sample.type_counts("orion-drive")
    entities = sample.entities(project="orion-drive", limit=5000)
    assert sum(c["total"] for c in counts.values()) == len(entities)
    for entity_type, c in counts.items():
        typed = [e for e in entities if e["entity_type"] == entity_type]
        assert c["total"] == len(typed)
        assert c["candidates"] == sum(e["status"] == "candidate" for e in typed)
