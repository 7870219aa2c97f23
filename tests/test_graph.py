"""The engineering graph on hand-built graphs with known answers: lifecycle and
audit, bad input, system map (with cycles), impact (diamond), evidence,
requirements, decisions, recent changes, gaps, conflicts, alerts."""

from __future__ import annotations

import math

import pytest

from atocore_tui.errors import NotFound, ValidationError
from atocore_tui.graph import alerts
from atocore_tui.store.models import (
    Alert,
    Conflict,
    ConflictMember,
    Entity,
    EntityAudit,
    Memory,
    MemoryAudit,
    Project,
    Relationship,
)

TABLES = (Entity, Relationship, EntityAudit, Conflict, ConflictMember, Alert, Memory, MemoryAudit)


def counts():
    return tuple(model.select().count() for model in TABLES)


@pytest.fixture
def graph(engine):
    Project.create(id="p1")
    Project.create(id="p2")
    return engine.graph


def add(graph, eid, etype, name=None, project="p1", status="active", **kw):
    return graph.create_entity(project, etype, name or eid, entity_id=eid, status=status, **kw)


def rel(graph, source, rel_type, target, **kw):
    return graph.relate(source, rel_type, target, **kw)


# ------------------------------------------------------------ lifecycle/audit
def test_lifecycle_candidate_active_superseded_with_audit(graph):
    created = graph.create_entity("p1", "Component", "  Output   hub ", "17-4PH", confidence=0.8,
                                  source_refs=["note:projects/x.md", "note:projects/x.md"])
    assert created["status"] == "candidate" and created["entity_type"] == "component"
    assert created["name"] == "Output hub" and created["source_refs"] == ["note:projects/x.md"]
    eid = created["id"]
    graph.update_entity(eid, description="17-4PH H1025")
    promoted = graph.promote(eid)
    assert promoted["status"] == "active" and promoted["conflicts"] == [] and promoted["graduated"] is None
    newer = add(graph, "hub-2", "component", "Output hub rev B")
    graph.supersede(eid, by="hub-2")
    detail = graph.entity(eid)
    assert detail["status"] == "superseded"
    assert [a["action"] for a in reversed(detail["audit"])] == ["created", "updated", "promoted", "superseded"]
    assert detail["audit"][0]["after"] == {"status": "superseded", "by": "hub-2"}
    assert [(r["relationship_type"], r["other"]["id"]) for r in detail["incoming"]] == [("SUPERSEDES", "hub-2")]
    assert newer["id"] == "hub-2"
    assert graph.entity("hub-2")["audit"][0]["action"] == "related"


def test_create_entity_accepts_an_alias(graph, engine):
    from atocore_tui.store.models import ProjectAlias

    ProjectAlias.create(alias="P-One", project="p1")
    assert graph.create_entity("p-one", "risk", "R1")["project"] == "p1"


BAD_CREATES = [
    (dict(entity_type="widget"), ValidationError, "unknown entity type"),
    (dict(status="approved"), ValidationError, "unknown entity status"),
    (dict(status="superseded"), ValidationError, "not superseded"),
    (dict(confidence=1.5), ValidationError, "confidence"),
    (dict(confidence=-0.1), ValidationError, "confidence"),
    (dict(confidence="high"), ValidationError, "confidence"),
    (dict(confidence=True), ValidationError, "confidence"),
    (dict(confidence=math.nan), ValidationError, "confidence"),
    (dict(name="   "), ValidationError, "blank"),
    (dict(name="x" * 300), ValidationError, "longer"),
    (dict(project="nope"), NotFound, "unknown project"),
    (dict(project=""), ValidationError, "project is required"),
    (dict(source_refs=["wiki:foo"]), ValidationError, "bad source reference"),
    (dict(source_refs=["memory:"]), ValidationError, "bad source reference"),
    (dict(entity_id="Has Spaces"), ValidationError, "invalid entity id"),
    (dict(entity_id="taken"), ValidationError, "is taken"),
]


@pytest.mark.parametrize("override,error,message", BAD_CREATES)
def test_bad_create_writes_nothing(graph, override, error, message):
    add(graph, "taken", "component")
    before = counts()
    args = dict(project="p1", entity_type="component", name="Housing")
    args.update(override)
    with pytest.raises(error, match=message):
        graph.create_entity(**args)
    assert counts() == before


def test_bad_relate_promote_update_write_nothing(graph):
    add(graph, "c", "component")
    add(graph, "m", "material")
    add(graph, "r", "requirement")
    add(graph, "cand", "component", status="candidate")
    rel(graph, "c", "SATISFIES", "r")
    graph.supersede(add(graph, "old", "component")["id"])
    before = counts()
    cases = [
        (lambda: rel(graph, "c", "OWNS", "m"), ValidationError, "unknown relationship type"),
        (lambda: rel(graph, "c", "PART_OF", "ghost"), NotFound, "unknown entity"),
        (lambda: rel(graph, "ghost", "PART_OF", "c"), NotFound, "unknown entity"),
        (lambda: rel(graph, "c", "DEPENDS_ON", "c"), ValidationError, "itself"),
        (lambda: rel(graph, "c", "USES_MATERIAL", "r"), ValidationError, "must point at a material"),
        (lambda: rel(graph, "c", "SATISFIES", "m"), ValidationError, "requirement or constraint"),
        (lambda: rel(graph, "c", "SATISFIES", "r"), ValidationError, "already exists"),
        (lambda: rel(graph, "c", "PART_OF", "m", confidence=2), ValidationError, "confidence"),
        (lambda: rel(graph, "c", "PART_OF", "m", source_refs=["x"]), ValidationError, "source reference"),
        (lambda: graph.promote("c"), ValidationError, "only candidates"),
        (lambda: graph.promote("ghost"), NotFound, "unknown entity"),
        (lambda: graph.supersede("old"), ValidationError, "already superseded"),
        (lambda: graph.supersede("cand", by="cand"), ValidationError, "itself"),
        (lambda: graph.supersede("cand", by="ghost"), NotFound, "unknown entity"),
        (lambda: graph.update_entity("old", name="x"), ValidationError, "superseded"),
        (lambda: graph.update_entity("cand", name=""), ValidationError, "blank"),
        (lambda: graph.update_entity("cand", entity_type="gizmo"), ValidationError, "unknown entity type"),
        (lambda: graph.unrelate("ghost"), NotFound, "unknown relationship"),
        (lambda: graph.entities(entity_type="gizmo"), ValidationError, "unknown entity type"),
        (lambda: graph.entities(status="done"), ValidationError, "unknown entity status"),
        (lambda: graph.entities(project="nope"), NotFound, "unknown project"),
        (lambda: graph.impact("c", depth=0), ValidationError, "depth"),
        (lambda: graph.evidence("c", depth=99), ValidationError, "depth"),
        (lambda: graph.impact("ghost"), NotFound, "unknown entity"),
        (lambda: graph.gaps("nope"), NotFound, "unknown project"),
        (lambda: graph.system_map(""), ValidationError, "project is required"),
        (lambda: graph.recent_changes(limit=0), ValidationError, "limit"),
        (lambda: graph.recent_changes(since="yesterday"), ValidationError, "since"),
        (lambda: graph.conflicts(status="closed"), ValidationError, "unknown conflict status"),
    ]
    for call, error, message in cases:
        with pytest.raises(error, match=message):
            call()
        assert counts() == before, message


def test_unrelate_is_audited_on_the_source(graph):
    add(graph, "a", "component")
    add(graph, "b", "subsystem")
    edge = rel(graph, "a", "PART_OF", "b")
    graph.unrelate(edge["id"])
    assert Relationship.select().count() == 0
    last = graph.entity("a")["audit"][0]
    assert last["action"] == "unrelated" and last["before"]["target"] == "b"


# ---------------------------------------------------------------- system map
def test_system_map_tree_shared_child_and_cycles(graph):
    add(graph, "sys", "system", "Drive unit")
    add(graph, "gear", "subsystem", "Gearbox")
    add(graph, "stage", "component", "Stage 1")
    add(graph, "pin", "component", "Planet pin", status="candidate")  # candidates are on the map
    add(graph, "loop-a", "component", "Loop A", status="candidate")
    add(graph, "loop-b", "component", "Loop B", status="candidate")
    add(graph, "gone", "component", "Old part")
    add(graph, "other", "component", "Other project part", project="p2")
    rel(graph, "gear", "PART_OF", "sys")
    rel(graph, "stage", "PART_OF", "gear")
    rel(graph, "pin", "PART_OF", "stage")
    rel(graph, "pin", "PART_OF", "gear")          # a second parent: shown again, not expanded twice
    rel(graph, "gear", "PART_OF", "stage")        # a cycle reachable from the root: gear -> stage -> gear
    rel(graph, "loop-a", "PART_OF", "loop-b")     # a cycle no root reaches
    rel(graph, "loop-b", "PART_OF", "loop-a")
    rel(graph, "gone", "PART_OF", "sys")
    graph.supersede("gone")
    rel(graph, "other", "PART_OF", "sys")         # another project's part is not on p1's map
    result = graph.system_map("p1")

    def shape(node):
        flag = "*cycle" if node.get("cycle") else "*again" if node.get("repeated") else ""
        return (node["id"] + flag, [shape(c) for c in node["children"]])

    assert [shape(r) for r in result["roots"]] == [
        ("sys", [("gear", [("pin", []), ("stage", [("gear*cycle", []), ("pin*again", [])])])]),
        ("loop-a", [("loop-b", [("loop-a*cycle", [])])]),
    ]
    assert result["roots"][1]["in_cycle"] is True
    assert sorted([e["id"] for e in c] for c in result["cycles"]) == [["gear", "stage"], ["loop-a", "loop-b"]]
    assert result["nodes"] == 6


# --------------------------------------------------------------------- impact
def test_impact_diamond_reaches_each_entity_once_by_the_shortest_path(graph):
    add(graph, "m", "material", "7075-T6")
    add(graph, "c1", "component", "Housing")
    add(graph, "c2", "component", "Cover")
    add(graph, "s", "system", "Drive")
    add(graph, "r", "requirement", "Mass")
    for i in (1, 2, 3):
        add(graph, f"p{i}", "parameter", f"Param {i}")
    add(graph, "dead", "component", "Retired bracket")
    add(graph, "beyond", "component", "Behind the retired bracket")
    rel(graph, "c1", "USES_MATERIAL", "m")
    rel(graph, "c2", "USES_MATERIAL", "m")
    rel(graph, "c1", "PART_OF", "s")
    rel(graph, "c2", "PART_OF", "s")              # the diamond: m -> c1|c2 -> s
    rel(graph, "s", "SATISFIES", "r")
    rel(graph, "p1", "DEPENDS_ON", "m")           # a longer way round to s
    rel(graph, "p2", "DEPENDS_ON", "p1")
    rel(graph, "p3", "DEPENDS_ON", "p2")
    rel(graph, "s", "DEPENDS_ON", "p3")
    rel(graph, "dead", "USES_MATERIAL", "m")
    rel(graph, "beyond", "DEPENDS_ON", "dead")
    graph.supersede("dead")                       # history: the walk does not pass through it
    add(graph, "unrelated", "component")
    rel(graph, "m", "DEPENDS_ON", "unrelated")    # upstream of m: not impacted by it

    result = graph.impact("m", depth=4)
    reached = {r["id"]: (r["depth"], r["via"], r["path"]) for r in result["reached"]}
    assert len(result["reached"]) == len(reached) == result["count"] == 7
    assert reached == {
        "p1": (1, "DEPENDS_ON", ["m", "p1"]),
        "c1": (1, "USES_MATERIAL", ["m", "c1"]),
        "c2": (1, "USES_MATERIAL", ["m", "c2"]),
        "p2": (2, "DEPENDS_ON", ["m", "p1", "p2"]),
        "s": (2, "PART_OF", ["m", "c1", "s"]),
        "p3": (3, "DEPENDS_ON", ["m", "p1", "p2", "p3"]),
        "r": (3, "SATISFIES", ["m", "c1", "s", "r"]),
    }
    assert [r["depth"] for r in result["reached"]] == sorted(r["depth"] for r in result["reached"])
    assert {r["id"] for r in graph.impact("m", depth=1)["reached"]} == {"p1", "c1", "c2"}


# ------------------------------------------------------------------- evidence
def test_evidence_walks_inbound_provenance_to_a_depth(graph):
    add(graph, "dec", "decision", "Use PFPE grease", source_refs=["note:projects/none.md"])
    add(graph, "claim", "validation_claim", "Breakaway stays low")
    add(graph, "res", "result", "Breakaway 0.142 N·m", source_refs=["note:projects/tvac.md"])
    add(graph, "test", "test", "TVAC EM-1")
    add(graph, "an", "analysis", "Tribology study")
    add(graph, "affected", "component", "Gearbox")
    rel(graph, "dec", "BASED_ON", "claim")
    rel(graph, "res", "SUPPORTS", "claim")
    rel(graph, "res", "DERIVED_FROM", "test")
    rel(graph, "test", "VALIDATES", "claim")      # also reaches claim's supporters: test once, at depth 2
    rel(graph, "an", "SUPPORTS", "res")
    rel(graph, "dec", "AFFECTS", "affected")      # not provenance
    result = graph.evidence("dec", depth=3)
    got = {s["id"]: (s["depth"], s["via"], s["path"]) for s in result["supporters"]}
    assert got == {
        "claim": (1, "BASED_ON", ["dec", "claim"]),
        "res": (2, "SUPPORTS", ["dec", "claim", "res"]),
        "test": (2, "VALIDATES", ["dec", "claim", "test"]),
        "an": (3, "SUPPORTS", ["dec", "claim", "res", "an"]),
    }
    assert result["source_refs"] == [{"ref": "note:projects/none.md", "kind": "note", "exists": False, "label": ""}]
    res = next(s for s in result["supporters"] if s["id"] == "res")
    assert res["source_refs"][0]["ref"] == "note:projects/tvac.md"
    assert {s["id"] for s in graph.evidence("dec", depth=1)["supporters"]} == {"claim"}


# --------------------------------------------------------- requirements/decisions
def test_requirements_for_a_component_include_its_parts(graph):
    add(graph, "unit", "subsystem", "Gearbox")
    add(graph, "stage", "component", "Stage 2")
    add(graph, "needle", "component", "Needle bearing")
    add(graph, "r-torque", "requirement", "Torque 18 N·m")
    add(graph, "r-life", "requirement", "Life factor 2")
    add(graph, "r-old", "requirement", "Old torque")
    add(graph, "c-env", "constraint", "Envelope")
    rel(graph, "stage", "PART_OF", "unit")
    rel(graph, "needle", "PART_OF", "stage")
    rel(graph, "unit", "SATISFIES", "r-torque")
    rel(graph, "unit", "CONSTRAINED_BY", "c-env")
    rel(graph, "needle", "SATISFIES", "r-life")
    rel(graph, "stage", "SATISFIES", "r-torque")  # direct wins over via
    rel(graph, "unit", "SATISFIES", "r-old")
    graph.supersede("r-old")
    result = graph.requirements_for("unit")
    got = {r["id"]: (r["relationship_type"], r["via"]["id"] if r["via"] else None) for r in result["requirements"]}
    assert got == {"r-torque": ("SATISFIES", None), "c-env": ("CONSTRAINED_BY", None),
                   "r-life": ("SATISFIES", "needle")}
    assert graph.requirements_for("needle")["count"] == 1


def test_decisions_with_bases_effects_and_supersession(graph):
    add(graph, "d1", "decision", "DEC-1 planetary")
    add(graph, "d0", "decision", "DEC-0 harmonic")
    add(graph, "an", "analysis", "Trade study")
    add(graph, "gb", "subsystem", "Gearbox")
    add(graph, "other", "decision", "Other project", project="p2")
    rel(graph, "d1", "BASED_ON", "an")
    rel(graph, "d1", "AFFECTS", "gb")
    graph.supersede("d0", by="d1")
    rows = graph.decisions("p1")
    assert [r["id"] for r in rows] == ["d1"]
    assert [b["id"] for b in rows[0]["based_on"]] == ["an"]
    assert [b["id"] for b in rows[0]["affects"]] == ["gb"]
    assert [b["id"] for b in rows[0]["supersedes"]] == ["d0"]
    everything = {r["id"]: r for r in graph.decisions("p1", include_superseded=True)}
    assert [b["id"] for b in everything["d0"]["superseded_by"]] == ["d1"]


def test_recent_changes_newest_first_with_since_limit_project(graph):
    add(graph, "a", "component")
    add(graph, "b", "component", project="p2")
    graph.update_entity("a", description="changed")
    EntityAudit.update(at="2026-01-01 10:00:00").where(EntityAudit.action == "created").execute()
    rows = graph.recent_changes()
    assert [(r["entity"]["id"], r["action"]) for r in rows] == [("a", "updated"), ("b", "created"),
                                                                 ("a", "created")]
    assert [r["entity"]["id"] for r in graph.recent_changes(project="p2")] == ["b"]
    assert len(graph.recent_changes(limit=1)) == 1
    assert graph.recent_changes(since="2026-01-01 10:00:00")[-1]["action"] == "created"  # inclusive
    assert [r["action"] for r in graph.recent_changes(since="2026-01-02")] == ["updated"]
    assert rows[0]["before"] == {"description": ""} and rows[0]["after"] == {"description": "changed"}


# ----------------------------------------------------------------------- gaps
def test_gaps_with_reasons(graph):
    for eid, etype in [("r-ok", "requirement"), ("r-orphan", "requirement"), ("r-cand", "requirement"),
                       ("comp", "component"), ("claim-ok", "validation_claim"), ("claim-bare", "validation_claim"),
                       ("claim-param", "validation_claim"), ("res", "result"), ("par", "parameter"),
                       ("d-ok", "decision"), ("d-nothing", "decision"), ("d-claim", "decision"),
                       ("d-mixed", "decision"), ("d-low", "decision"), ("d-old", "decision"),
                       ("an-low", "analysis"), ("an-old", "analysis")]:
        add(graph, eid, etype)
    graph.update_entity("an-low", confidence=0.3)
    add(graph, "comp-cand", "component", status="candidate")
    add(graph, "r-draft", "requirement", status="candidate")        # candidates are not gaps
    add(graph, "r-other", "requirement", project="p2")
    rel(graph, "comp", "SATISFIES", "r-ok")
    rel(graph, "comp-cand", "SATISFIES", "r-cand")
    rel(graph, "res", "SUPPORTS", "claim-ok")
    rel(graph, "par", "SUPPORTS", "claim-param")                   # a parameter is no evidence
    rel(graph, "d-ok", "BASED_ON", "claim-ok")
    rel(graph, "d-claim", "BASED_ON", "claim-bare")
    rel(graph, "d-mixed", "BASED_ON", "claim-bare")
    rel(graph, "d-mixed", "BASED_ON", "res")                        # one strong basis is enough
    rel(graph, "d-low", "BASED_ON", "an-low")
    rel(graph, "d-old", "BASED_ON", "an-old")
    graph.supersede("an-old")
    result = graph.gaps("p1")
    why = {kind: {i["id"]: i["why"] for i in result[kind]} for kind in
           ("orphan_requirements", "risky_decisions", "unsupported_claims")}
    assert set(why["orphan_requirements"]) == {"r-orphan", "r-cand"}
    assert "candidate component" in why["orphan_requirements"]["r-cand"]
    assert set(why["unsupported_claims"]) == {"claim-bare", "claim-param"}
    assert set(why["risky_decisions"]) == {"d-nothing", "d-claim", "d-low", "d-old"}
    assert "based on nothing" in why["risky_decisions"]["d-nothing"]
    assert "unsupported" in why["risky_decisions"]["d-claim"]
    assert "low confidence 0.30" in why["risky_decisions"]["d-low"]
    assert "superseded" in why["risky_decisions"]["d-old"]
    assert result["counts"] == {"orphan_requirements": 2, "risky_decisions": 4, "unsupported_claims": 2}
    summary = {s["project"]: s["counts"] for s in graph.gap_summary()}
    assert summary["p2"] == {"orphan_requirements": 1, "risky_decisions": 0, "unsupported_claims": 0}


# ------------------------------------------------------------------ conflicts
def _one_conflict_and_alert():
    assert Conflict.select().count() == 1 and Alert.select().count() == 1
    return Conflict.get()


def test_material_conflict_detected_on_promotion_once(graph):
    add(graph, "housing", "component", status="candidate")
    add(graph, "al", "material", "7075-T6")
    add(graph, "ti", "material", "Ti-6Al-4V")
    add(graph, "peek", "material", "PEEK", status="candidate")
    rel(graph, "housing", "USES_MATERIAL", "al")
    rel(graph, "housing", "USES_MATERIAL", "ti")
    assert Conflict.select().count() == 0                       # the component is only a candidate
    promoted = graph.promote("housing")
    assert len(promoted["conflicts"]) == 1
    conflict = _one_conflict_and_alert()
    assert (conflict.slot_kind, conflict.slot_key, conflict.project) == ("component_material", "housing", "p1")
    assert {m["id"] for m in graph.conflict(conflict.id)["members"]} == {"al", "ti"}
    assert Alert.get().source == f"conflict:{conflict.id}"
    # more promotions touching the slot: no second conflict, no second alert
    graph.update_entity("housing", description="edited")
    graph.promote(add(graph, "other", "component", status="candidate")["id"])
    rel(graph, "housing", "USES_MATERIAL", "peek")
    graph.promote("peek")                                       # a third material joins the open conflict
    _one_conflict_and_alert()
    assert {m["id"] for m in graph.conflict(conflict.id)["members"]} == {"al", "ti", "peek"}


def test_part_of_conflict_on_promotion_once(graph):
    add(graph, "a", "subsystem")
    add(graph, "b", "subsystem")
    add(graph, "child", "component", status="candidate")
    rel(graph, "child", "PART_OF", "a")
    rel(graph, "child", "PART_OF", "b")
    graph.promote("child")
    conflict = _one_conflict_and_alert()
    assert (conflict.slot_kind, conflict.slot_key) == ("part_of_parent", "child")
    graph.promote(add(graph, "c", "subsystem", status="candidate")["id"])
    _one_conflict_and_alert()


def test_duplicate_requirements_by_normalised_name_once(graph):
    add(graph, "r1", "requirement", "Mass ≤ 2.2 kg")
    add(graph, "r-p2", "requirement", "Mass <= 2.2 kg", project="p2")  # other project: fine
    add(graph, "r2", "requirement", "  mass <= 2.2 KG ", status="candidate")
    assert Conflict.select().count() == 0
    graph.promote("r2")
    conflict = _one_conflict_and_alert()
    assert conflict.slot_kind == "duplicate_requirement" and conflict.slot_key == "p1:mass 2 2 kg"
    add(graph, "r3", "requirement", "MASS - 2.2 kg", status="candidate")
    graph.promote("r3")
    _one_conflict_and_alert()
    assert len(graph.conflict(conflict.id)["members"]) == 3


def _material_conflict(graph):
    add(graph, "housing", "component", status="candidate")
    add(graph, "al", "material")
    add(graph, "ti", "material")
    add(graph, "bracket", "component")
    rel(graph, "housing", "USES_MATERIAL", "al")
    rel(graph, "housing", "USES_MATERIAL", "ti")
    rel(graph, "bracket", "USES_MATERIAL", "ti")
    graph.promote("housing")
    return Conflict.get().id


def test_resolve_supersede_others_for_a_material_supersedes_the_losing_material(graph):
    """As the original service did: the losing member entities become superseded
    (so they leave packs), audited, and the winner SUPERSEDES them."""
    cid = _material_conflict(graph)
    edges_before = Relationship.select().where(Relationship.relationship_type == "USES_MATERIAL").count()
    done = graph.resolve(cid, "supersede-others", winner="al")
    assert done["status"] == "resolved" and done["resolution"] == "supersede_others:al"
    assert Entity.get_by_id("ti").status == "superseded" and Entity.get_by_id("al").status == "active"
    assert Relationship.select().where(Relationship.relationship_type == "USES_MATERIAL").count() == edges_before
    last = graph.entity("ti")["audit"][0]
    assert last["action"] == "superseded" and last["after"] == {"status": "superseded", "conflict": cid,
                                                                 "winner": "al"}
    assert [(r["relationship_type"], r["other"]["id"]) for r in graph.entity("ti")["incoming"]
            if r["relationship_type"] == "SUPERSEDES"] == [("SUPERSEDES", "al")]
    assert Alert.get().acknowledged is True
    graph.promote(add(graph, "x", "material", status="candidate")["id"])
    assert Conflict.select().count() == 1


def test_reopen_undoes_supersede_others(graph):
    cid = _material_conflict(graph)
    graph.resolve(cid, "supersede_others", winner="al")
    reopened = graph.reopen(cid)
    assert reopened["status"] == "open" and reopened["resolution"] is None
    assert Entity.get_by_id("ti").status == "active"
    assert not Relationship.select().where(Relationship.relationship_type == "SUPERSEDES").exists()
    assert graph.entity("ti")["audit"][0]["action"] == "unsuperseded"
    assert graph.resolve(cid, "supersede_others", winner="ti")["status"] == "resolved"  # decide again
    assert Entity.get_by_id("al").status == "superseded" and Entity.get_by_id("ti").status == "active"


def test_reopen_keeps_what_was_superseded_before_the_resolution(graph):
    cid = _material_conflict(graph)
    graph.supersede("ti", by="al")                      # retired by hand, before the resolution
    graph.resolve(cid, "no_action")
    assert graph.reopen(cid)["status"] == "open"
    assert Entity.get_by_id("ti").status == "superseded"
    with pytest.raises(ValidationError, match="open"):
        graph.reopen(cid)


def test_resolve_supersede_others_for_duplicates_supersedes_the_losers(graph):
    add(graph, "r1", "requirement", "Mass 2.2 kg")
    add(graph, "r2", "requirement", "mass 2.2 kg", status="candidate")
    graph.promote("r2")
    cid = Conflict.get().id
    graph.resolve(cid, "supersede_others", winner="r1")
    assert Entity.get_by_id("r2").status == "superseded" and Entity.get_by_id("r1").status == "active"
    last = graph.entity("r2")["audit"][0]
    assert last["action"] == "superseded" and last["after"] == {"status": "superseded", "conflict": cid,
                                                                 "winner": "r1"}
    assert [a["action"] for a in graph.entity("r1")["audit"][:2]] == ["conflict_won", "related"]
    assert [(r["relationship_type"], r["other"]["id"]) for r in graph.entity("r2")["incoming"]] == [
        ("SUPERSEDES", "r1")]


def test_resolve_part_of_supersede_others_supersedes_the_losing_parent(graph):
    add(graph, "a", "subsystem")
    add(graph, "b", "subsystem")
    add(graph, "child", "component", status="candidate")
    rel(graph, "child", "PART_OF", "a")
    rel(graph, "child", "PART_OF", "b")
    graph.promote("child")
    graph.resolve(Conflict.get().id, "supersede_others", winner="b")
    assert Entity.get_by_id("a").status == "superseded" and Entity.get_by_id("b").status == "active"
    assert {(r.source_id, r.relationship_type, r.target_id) for r in Relationship.select()} == {
        ("child", "PART_OF", "a"), ("child", "PART_OF", "b"), ("b", "SUPERSEDES", "a")}


def test_dismiss_and_no_action_change_nothing_else_and_stay_quiet(graph):
    cid = _material_conflict(graph)
    before = (Entity.select().where(Entity.status == "active").count(), Relationship.select().count())
    assert graph.resolve(cid, "dismiss")["status"] == "dismissed"
    assert (Entity.select().where(Entity.status == "active").count(), Relationship.select().count()) == before
    graph.update_entity("housing", name="Housing rev B")       # re-detection: same members, stays dismissed
    assert Conflict.select().count() == 1 and Alert.select().count() == 1
    assert graph.alerts() == []
    # a new member is a new situation: a new conflict and a new alert
    add(graph, "peek", "material")
    rel(graph, "housing", "USES_MATERIAL", "peek")
    assert Conflict.select().count() == 2 and Alert.select().count() == 2
    newest = graph.conflicts(status="open")[0]
    assert graph.resolve(newest["id"], "no_action")["status"] == "resolved"
    assert Relationship.select().count() == before[1] + 1


def test_bad_resolutions_write_nothing(graph):
    cid = _material_conflict(graph)
    before = counts()
    for args, error, message in [
        ((cid, "merge"), ValidationError, "unknown resolution"),
        ((cid, "supersede_others"), ValidationError, "needs a winner"),
        ((cid, "supersede_others", "bracket"), ValidationError, "not a member"),
        ((cid, "dismiss", "al"), ValidationError, "only chosen"),
        (("nope", "dismiss"), NotFound, "unknown conflict"),
    ]:
        with pytest.raises(error, match=message):
            graph.resolve(*args)
        assert counts() == before
    graph.resolve(cid, "no_action")
    before = counts()
    with pytest.raises(ValidationError, match="already resolved"):
        graph.resolve(cid, "dismiss")
    assert counts() == before
    assert [c["id"] for c in graph.conflicts(project="p1", status="resolved")] == [cid]
    assert graph.conflicts(project="p2") == []


# --------------------------------------------------------------------- alerts
def test_alerts_raise_list_acknowledge(graph):
    first = alerts.raise_alert("error", "Ingestion failed", "vault root missing", "ingest:vault")
    graph.raise_alert("info", "FYI")
    assert [a["title"] for a in graph.alerts()] == ["FYI", "Ingestion failed"]
    assert graph.acknowledge_alert(first["id"])["acknowledged"] is True
    assert graph.acknowledge_alert(str(first["id"]))["acknowledged"] is True   # twice is harmless
    assert [a["title"] for a in graph.alerts()] == ["FYI"]
    assert len(graph.alerts(include_acknowledged=True)) == 2
    before = counts()
    for call, error in [(lambda: alerts.raise_alert("panic", "x"), ValidationError),
                        (lambda: alerts.raise_alert("info", "  "), ValidationError),
                        (lambda: graph.acknowledge_alert(999), NotFound),
                        (lambda: graph.acknowledge_alert("abc"), NotFound),
                        (lambda: graph.alerts(limit=0), ValidationError)]:
        with pytest.raises(error):
            call()
    assert counts() == before


# ------------------------------------------------ find_entity (issue 13: the MCP face's rule, now the engine's)
def test_find_entity_by_id_or_exact_name_in_any_case(graph):
    hub = add(graph, "e-hub", "Component", "Output Hub")
    assert graph.find_entity("e-hub")["id"] == hub["id"]
    assert graph.find_entity("  output hub ")["id"] == hub["id"]
    assert graph.find_entity("OUTPUT HUB", "p1", "Component")["id"] == hub["id"]


def test_find_entity_refuses_blank_unknown_ambiguous_and_superseded_names(graph):
    add(graph, "e-a", "Component", "Pump", project="p1")
    add(graph, "e-b", "Component", "Pump", project="p2")
    add(graph, "e-old", "Component", "Valve")
    graph.supersede("e-old")
    before = counts()
    with pytest.raises(ValidationError, match="give an entity id or name"):
        graph.find_entity("   ")
    with pytest.raises(NotFound, match="no entity named 'warp core'"):
        graph.find_entity("warp core")
    with pytest.raises(ValidationError, match="2 entities are named 'pump'"):
        graph.find_entity("pump")
    assert graph.find_entity("pump", "p2")["id"] == "e-b"
    with pytest.raises(NotFound):
        graph.find_entity("valve")
    assert graph.find_entity("e-old")["status"] == "superseded"  # by id it is still found
    assert counts() == before
