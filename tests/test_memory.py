"""Memories: create / get / list / update / invalidate / supersede, the audit
trail, undo, near-duplicates and the CLI — with bad input refused and nothing
written."""

from __future__ import annotations

import json
import math

import pytest

from atocore_tui.cli import main
from atocore_tui.errors import NotFound, ValidationError
from atocore_tui.memory.service import (
    DUPLICATE_THRESHOLD,
    MEMORY_STATUSES,
    MEMORY_TYPES,
    NUMBER_CONFLICT_CEILING,
    duplicate_score,
    invalidated_answer,
    list_answer,
    stored_answer,
    updated_answer,
    validate_confidence,
    validate_content,
    validate_memory_type,
    validate_status,
)
from atocore_tui.store.models import Interaction, Memory

from .conftest import memory_counts


# ------------------------------------------------------------------ validation
def test_the_vocabulary_is_the_spec():
    assert MEMORY_TYPES == ("identity", "preference", "project", "knowledge", "episodic", "adaptation")
    assert MEMORY_STATUSES == ("candidate", "active", "superseded", "invalid", "graduated")
    assert validate_memory_type(" Preference ") == "preference"
    assert validate_status("ACTIVE") == "active"
    assert validate_confidence(0) == 0.0 and validate_confidence(1) == 1.0
    assert validate_content("  keep me  ") == "keep me"


@pytest.mark.parametrize("check, value, message", [
    (validate_memory_type, "opinion", "unknown memory type"),
    (validate_memory_type, None, "unknown memory type"),
    (validate_status, "deleted", "unknown memory status"),
    (validate_confidence, -0.1, "confidence must be a number from 0 to 1"),
    (validate_confidence, 1.5, "confidence"),
    (validate_confidence, math.nan, "confidence"),
    (validate_confidence, True, "confidence"),
    (validate_confidence, "half", "confidence"),
    (validate_content, "   ", "must not be blank"),
    (validate_content, None, "must not be blank"),
    (validate_content, "x" * 10_001, "limit"),
])
def test_validators_refuse_bad_values(check, value, message):
    with pytest.raises(ValidationError, match=message):
        check(value)


# ------------------------------------------------------------------ create / get
def test_create_writes_the_memory_and_its_create_audit_row(mem):
    record = mem.memories.create("project", "  ODU gearbox ratio is 48:1  ", project="ODU", confidence=0.8)
    assert record.project == "orion-drive" and record.content == "ODU gearbox ratio is 48:1"
    assert record.status == "active" and record.confidence == 0.8 and record.reference_count == 0
    assert stored_answer(record) == {"status": "stored", "id": record.id, "memory_type": "project"}
    (entry,) = mem.memories.audit(record.id)
    assert entry.action == "create" and entry.before is None and entry.actor == "user"
    assert entry.after["content"] == "ODU gearbox ratio is 48:1" and entry.after["project"] == "orion-drive"
    assert mem.memories.get(record.id) == record
    assert mem.memories.get(record.id[:8]) == record  # a unique prefix names it too


def test_cross_project_and_candidate_and_source_interaction(mem):
    interaction = Interaction.create(prompt="what grease?", response="Braycote 601EF.")
    record = mem.memories.create("knowledge", "Braycote 601EF is a PFPE grease", status="candidate",
                                 confidence=0.6, source_interaction=interaction.id, actor="extraction")
    assert record.project == "" and record.status == "candidate"
    assert record.source_interaction == interaction.id
    assert mem.memories.audit(record.id)[0].actor == "extraction"


@pytest.mark.parametrize("kwargs, error, message", [
    ({"memory_type": "opinion"}, ValidationError, "unknown memory type"),
    ({"status": "bogus"}, ValidationError, "unknown memory status"),
    ({"status": "superseded"}, ValidationError, "active or candidate"),
    ({"confidence": -0.1}, ValidationError, "confidence"),
    ({"confidence": 1.5}, ValidationError, "confidence"),
    ({"content": "  \n "}, ValidationError, "must not be blank"),
    ({"project": "no-such-project"}, NotFound, "unknown project"),
    ({"source_interaction": "nope"}, NotFound, "unknown interaction"),
    ({"actor": " "}, ValidationError, "actor"),
])
def test_create_refuses_bad_input_and_writes_nothing(mem, kwargs, error, message):
    mem.memories.create("preference", "SI units only")
    before = memory_counts()
    args = {"memory_type": "project", "content": "Housing is 7075-T6", "project": "orion-drive", **kwargs}
    with pytest.raises(error, match=message):
        mem.memories.create(**args)
    assert memory_counts() == before


def test_get_unknown_and_ambiguous_ids(mem):
    with pytest.raises(NotFound, match="unknown memory"):
        mem.memories.get("0" * 32)
    with pytest.raises(NotFound):
        mem.memories.get("")
    for suffix in ("1", "2"):
        Memory.create(id="abcdef" + suffix * 26, memory_type="knowledge", content=f"fact {suffix}")
    with pytest.raises(ValidationError, match="ambiguous"):
        mem.memories.get("abcdef")
    assert mem.memories.get("abcdef1").content == "fact 1"


# ------------------------------------------------------------------ list
def test_list_filters_and_order(mem):
    service = mem.memories
    a = service.create("project", "ODU housing is 7075-T6", project="orion-drive", confidence=0.9)
    b = service.create("project", "CP-200 lid is friction-stir welded", project="coldplate", confidence=0.4)
    c = service.create("preference", "SI units only")
    d = service.create("knowledge", "PFPE greases outgas little", status="candidate", confidence=0.5)
    service.update(a.id, content="ODU housing is hard-anodised 7075-T6")  # a is now the newest change
    ids = lambda records: [r.id for r in records]  # noqa: E731
    assert set(ids(service.list())) == {a.id, b.id, c.id}
    assert ids(service.list())[0] == a.id
    assert ids(service.list(project="ODU")) == [a.id]
    assert ids(service.list(project="")) == [c.id]
    assert ids(service.list(memory_type="preference")) == [c.id]
    assert ids(service.list(min_confidence=0.5)) == ids([r for r in service.list() if r.confidence >= 0.5])
    assert b.id not in ids(service.list(min_confidence=0.5))
    assert ids(service.list(status="candidate")) == [d.id]
    assert set(ids(service.list(active_only=False))) == {a.id, b.id, c.id, d.id}
    assert len(service.list(limit=2)) == 2
    answer = list_answer(service.list(limit=1))
    assert set(answer) == {"memories", "types"} and answer["types"] == list(MEMORY_TYPES)


@pytest.mark.parametrize("kwargs, error", [
    ({"memory_type": "opinion"}, ValidationError),
    ({"status": "gone"}, ValidationError),
    ({"project": "nope"}, NotFound),
    ({"limit": 0}, ValidationError),
    ({"limit": 501}, ValidationError),
    ({"min_confidence": 1.5}, ValidationError),
])
def test_list_refuses_bad_filters(mem, kwargs, error):
    with pytest.raises(error):
        mem.memories.list(**kwargs)


# ------------------------------------------------------------------ update / invalidate
def test_update_records_before_and_after(mem):
    record = mem.memories.create("project", "EM-1 mass 2.04 kg", project="orion-drive", confidence=0.7)
    changed = mem.memories.update(record.id, content="EM-1 mass is 2.04 kg (limit 2.2 kg)", confidence=0.9)
    assert changed.content == "EM-1 mass is 2.04 kg (limit 2.2 kg)" and changed.confidence == 0.9
    assert updated_answer(changed) == {"status": "updated", "id": record.id}
    entry = mem.memories.audit(record.id)[-1]
    assert entry.action == "update"
    assert (entry.before["content"], entry.after["content"]) == ("EM-1 mass 2.04 kg", changed.content)
    assert (entry.before["confidence"], entry.after["confidence"]) == (0.7, 0.9)
    before = memory_counts()
    assert mem.memories.update(record.id, confidence=0.9) == mem.memories.get(record.id)  # no change: no row
    assert memory_counts() == before


@pytest.mark.parametrize("kwargs, error, message", [
    ({}, ValidationError, "nothing to update"),
    ({"content": " "}, ValidationError, "blank"),
    ({"confidence": -0.1}, ValidationError, "confidence"),
    ({"confidence": 1.5}, ValidationError, "confidence"),
    ({"status": "deleted"}, ValidationError, "unknown memory status"),
])
def test_update_refuses_bad_input_and_writes_nothing(mem, kwargs, error, message):
    record = mem.memories.create("project", "EM-1 mass 2.04 kg", project="orion-drive")
    before = memory_counts()
    with pytest.raises(error, match=message):
        mem.memories.update(record.id, **kwargs)
    with pytest.raises(NotFound):
        mem.memories.update("f" * 32, content="x")
    assert memory_counts() == before
    assert mem.memories.get(record.id) == record


def test_invalidate_is_audited_and_idempotent(mem):
    record = mem.memories.create("knowledge", "Ti-6Al-4V is lighter than 7075")
    gone = mem.memories.invalidate(record.id)
    assert gone.status == "invalid"
    assert invalidated_answer(gone) == {"status": "invalidated", "id": record.id}
    assert [e.action for e in mem.memories.audit(record.id)] == ["create", "invalidate"]
    before = memory_counts()
    assert mem.memories.invalidate(record.id).status == "invalid"
    assert memory_counts() == before
    assert record.id not in [r.id for r in mem.memories.list()]
    with pytest.raises(NotFound):
        mem.memories.invalidate("nope-nope")
    assert memory_counts() == before


# ------------------------------------------------------------------ supersede
def test_supersede_with_new_content_links_both_audit_rows(mem):
    old = mem.memories.create("project", "Gearbox ratio 40:1", project="orion-drive", confidence=0.8)
    new = mem.memories.supersede(old.id, "Gearbox ratio 48:1 (stage 1 8:1, stage 2 6:1)")
    assert (new.memory_type, new.project, new.status, new.confidence) == ("project", "orion-drive", "active", 0.8)
    assert mem.memories.get(old.id).status == "superseded"
    old_row, new_row = mem.memories.audit(old.id)[-1], mem.memories.audit(new.id)[-1]
    assert old_row.action == "supersede" and old_row.link["role"] == "superseded_by"
    assert old_row.link["partner"] == new.id and new_row.link["partner"] == old.id
    assert old_row.link["op"] == new_row.link["op"]
    assert new_row.action == "create" and new_row.before is None
    assert "_link" not in old_row.after  # the link is lifted out of the snapshot


def test_supersede_by_an_existing_memory(mem):
    old = mem.memories.create("project", "Lubricant: Castrol 815Z", project="orion-drive")
    candidate = mem.memories.create("project", "Lubricant: Braycote 601EF", project="orion-drive",
                                    status="candidate")
    replacement = mem.memories.supersede(old.id, replacement_id=candidate.id)
    assert replacement.id == candidate.id and replacement.status == "active"
    assert mem.memories.get(old.id).status == "superseded"


@pytest.mark.parametrize("case, message", [
    ("neither", "either the new content or"),
    ("both", "either the new content or"),
    ("blank", "blank"),
    ("self", "cannot supersede itself"),
    ("not-active", "only an active memory"),
    ("dead-replacement", "it is invalid"),
    ("confidence", "confidence"),
])
def test_supersede_refuses_bad_input_and_writes_nothing(mem, case, message):
    old = mem.memories.create("project", "Ratio 40:1", project="orion-drive")
    dead = mem.memories.create("project", "Ratio 50:1", project="orion-drive")
    mem.memories.invalidate(dead.id)
    before = memory_counts()
    calls = {
        "neither": lambda: mem.memories.supersede(old.id),
        "both": lambda: mem.memories.supersede(old.id, "x", replacement_id=dead.id),
        "blank": lambda: mem.memories.supersede(old.id, "   "),
        "self": lambda: mem.memories.supersede(old.id, replacement_id=old.id),
        "not-active": lambda: mem.memories.supersede(dead.id, "Ratio 48:1"),
        "dead-replacement": lambda: mem.memories.supersede(old.id, replacement_id=dead.id),
        "confidence": lambda: mem.memories.supersede(old.id, "Ratio 48:1", confidence=1.5),
    }
    with pytest.raises(ValidationError, match=message):
        calls[case]()
    assert memory_counts() == before


# ------------------------------------------------------------------ undo
def test_undo_is_a_stack_that_walks_back_step_by_step(mem):
    service = mem.memories
    record = service.create("project", "v1", project="orion-drive", confidence=0.5)
    service.update(record.id, content="v2")
    service.update(record.id, content="v3", confidence=0.9)
    assert (service.undo(record.id).content, service.get(record.id).confidence) == ("v2", 0.5)
    assert service.undo(record.id).content == "v1"
    assert service.undo(record.id).status == "invalid"  # undoing the creation retires the memory
    before = memory_counts()
    with pytest.raises(ValidationError, match="nothing to undo"):
        service.undo(record.id)
    assert memory_counts() == before
    trail = service.audit(record.id)
    assert [e.action for e in trail] == ["create", "update", "update", "undo", "undo", "undo"]
    assert trail[3].link["undoes"] == trail[2].id and trail[4].link["undoes"] == trail[1].id
    assert trail[3].before["content"] == "v3" and trail[3].after["content"] == "v2"


def test_undo_after_undo_then_new_change_reverts_the_new_change(mem):
    service = mem.memories
    record = service.create("project", "v1", project="orion-drive")
    service.update(record.id, content="v2")
    service.undo(record.id)
    service.update(record.id, content="v3")
    assert service.undo(record.id).content == "v1"
    assert service.undo(record.id).status == "invalid"


def test_undo_skips_reinforcement_and_keeps_its_reference(mem):
    service = mem.memories
    record = service.create("project", "ODU housing is hard anodised 7075-T6", project="orion-drive",
                            confidence=0.5)
    service.update(record.id, content="ODU housing is hard-anodised 7075-T6 aluminium")
    service.reinforce([record.id], "")
    restored = service.undo(record.id)
    assert restored.content == "ODU housing is hard anodised 7075-T6"  # the edit is undone …
    assert restored.reference_count == 1 and restored.confidence == 0.55  # … the use is kept


def test_undo_of_supersede_restores_both_memories(mem):
    service = mem.memories
    old = service.create("project", "Ratio 40:1", project="orion-drive")
    new = service.supersede(old.id, "Ratio 48:1")
    service.undo(new.id)  # either side undoes the pair
    assert service.get(old.id).status == "active" and service.get(new.id).status == "invalid"
    assert service.audit(old.id)[-1].link["op"] == service.audit(new.id)[-1].link["op"]


def test_undo_of_a_pair_refuses_when_the_partner_changed_since(mem):
    service = mem.memories
    old = service.create("project", "Ratio 40:1", project="orion-drive")
    new = service.supersede(old.id, "Ratio 48:1")
    service.update(new.id, confidence=0.9)
    before = memory_counts()
    with pytest.raises(ValidationError, match="changed since"):
        service.undo(old.id)
    assert memory_counts() == before
    service.undo(new.id)  # undo the later change first …
    service.undo(old.id)  # … then the pair
    assert service.get(old.id).status == "active"


# ------------------------------------------------------------------ near-duplicates
def test_near_duplicates_flags_paraphrases_not_different_numbers(mem):
    service = mem.memories
    ratio = service.create("project", "The ODU gearbox is a two-stage planetary with a 48:1 total ratio.",
                           project="orion-drive")
    service.create("project", "Continuous output torque requirement is 18 N·m at 20 rpm.", project="orion-drive")
    service.create("project", "Cold plate pressure drop must stay below 20 kPa at 6 L/min.", project="coldplate")
    service.create("preference", "Answer in concise bullet lists, answer first.")
    found = service.near_duplicates("ODU gearbox: two planetary stages, 48:1 overall reduction.")
    assert found[0][0].id == ratio.id and found[0][1] >= DUPLICATE_THRESHOLD
    assert [score for _, score in found] == sorted((score for _, score in found), reverse=True)
    peak = service.near_duplicates("Peak output torque requirement is 45 N·m at 20 rpm.", project="orion-drive")
    assert peak[0][1] <= NUMBER_CONFLICT_CEILING < DUPLICATE_THRESHOLD  # a neighbour, not a duplicate
    scoped = service.near_duplicates("pressure drop 20 kPa", project="orion-drive", limit=10)
    assert all(record.project in ("orion-drive", "") for record, _ in scoped)
    assert ratio.id not in [r.id for r, _ in service.near_duplicates(ratio.content, exclude_id=ratio.id)]
    assert len(service.near_duplicates("gearbox", limit=2)) == 2


def test_duplicate_score_caps_conflicting_numbers_only():
    assert duplicate_score(0.99, "Stage 1 ratio is 8:1", "Stage 2 ratio is 6:1") == NUMBER_CONFLICT_CEILING
    assert duplicate_score(0.9, "EM-1 weighed 2.04 kg", "EM-1 mass 2.04 kg, limit 2.2 kg") == 0.9
    assert duplicate_score(0.9, "I prefer SI units", "Use SI units only") == 0.9


def test_near_duplicates_refuses_bad_input(mem):
    with pytest.raises(ValidationError):
        mem.memories.near_duplicates("  ")
    with pytest.raises(ValidationError):
        mem.memories.near_duplicates("x", limit=0)
    with pytest.raises(NotFound):
        mem.memories.near_duplicates("x", project="nope")
    assert mem.memories.near_duplicates("anything") == []


def test_edited_memory_gets_a_fresh_vector(mem):
    service = mem.memories
    record = service.create("knowledge", "Braycote 601EF is a PFPE grease")
    assert service.near_duplicates("Braycote 601EF PFPE grease")[0][1] > 0.8
    service.update(record.id, content="Friction-stir welding joins the cold plate lid")
    assert service.near_duplicates("Braycote 601EF PFPE grease")[0][1] < 0.5


def test_projects_from_ingested_front_matter_resolve(engine):
    engine.ingest()
    record = engine.memories.create("project", "CP-200 delta T limit is 5 °C", project="coldplate")
    assert record.project == "coldplate"
    assert engine.memories.list(project="coldplate")[0].id == record.id


# ------------------------------------------------------------------ CLI
@pytest.fixture
def cli(tmp_path, vault, capsys):
    base = ["--data-dir", str(tmp_path / "cli-data"), "--vault", str(vault)]

    def run(*args, json_out=True):
        code = main([*base, *args, *(["--json"] if json_out else [])])
        captured = capsys.readouterr()
        if json_out and code == 0:
            return code, json.loads(captured.out)
        return code, captured.out + captured.err

    return run


def test_cli_memory_round_trip(cli):
    code, added = cli("memory", "add", "preference", "I prefer SI units only")
    assert code == 0 and added["status"] == "stored" and added["memory_type"] == "preference"
    memory_id = added["id"]
    code, listed = cli("memory", "list")
    assert [m["id"] for m in listed["memories"]] == [memory_id]
    code, updated = cli("memory", "update", memory_id[:8], "--confidence", "0.7")
    assert updated["status"] == "updated" and updated["memory"]["confidence"] == 0.7
    code, shown = cli("memory", "show", memory_id)
    assert [e["action"] for e in shown["audit"]] == ["create", "update"]
    code, superseded = cli("memory", "supersede", memory_id, "SI units only; imperial in brackets")
    new_id = superseded["replacement"]
    code, undone = cli("memory", "undo", memory_id)
    assert undone["memory"]["status"] == "active"
    code, trail = cli("memory", "audit", new_id)
    assert [e["action"] for e in trail["audit"]] == ["create", "undo"]
    code, gone = cli("memory", "invalidate", memory_id)
    assert gone["status"] == "invalidated"
    cli("memory", "add", "knowledge", "Braycote 601EF is a PFPE grease")
    code, found = cli("memory", "duplicates", "Braycote 601EF, a PFPE grease")
    assert found["duplicates"][0]["likely_duplicate"] is True
    code, text = cli("memory", "list", "--all", json_out=False)
    assert code == 0 and "Braycote 601EF" in text and "invalid" in text
    code, text = cli("memory", "show", memory_id, json_out=False)
    assert code == 0 and "invalidate" in text and "status: active → invalid" in text


@pytest.mark.parametrize("args, code, message", [
    (("memory", "add", "opinion", "x"), 2, "unknown memory type"),
    (("memory", "add", "project", "x", "--confidence", "1.5"), 2, "confidence"),
    (("memory", "add", "project", "x", "--confidence", "-0.1"), 2, "confidence"),
    (("memory", "add", "project", "  "), 2, "blank"),
    (("memory", "add", "project", "x", "--project", "nope"), 3, "unknown project"),
    (("memory", "list", "--status", "gone"), 2, "unknown memory status"),
    (("memory", "list", "--limit", "0"), 2, "limit"),
    (("memory", "show", "f" * 32), 3, "unknown memory"),
    (("memory", "undo", "f" * 32), 3, "unknown memory"),
])
def test_cli_bad_input(cli, args, code, message):
    got, text = cli(*args, json_out=False)
    assert got == code and message in text
    got, listed = cli("memory", "list", "--all")
    assert listed["memories"] == []


@pytest.mark.parametrize("filters", [
    {},  # the default: active ones
    {"active_only": False},
    {"status": "candidate"},
    {"memory_type": "knowledge"},
])
def test_the_memory_list_walks_an_index_instead_of_sorting_every_memory(mem, filters):
    """Newest-changed first, limited: SQLite reads the index on updated_at in
    order and sorts only the ties, where without it every matching memory was
    sorted (10 ms at 9,000 memories)."""
    args = {"memory_type": None, "project": None, "active_only": True, "min_confidence": 0.0, "limit": 50,
            "status": None, **filters}
    sql, params = mem.memories.list_query(**args).sql()
    plan = " | ".join(row[3] for row in mem.db.execute_sql(f"EXPLAIN QUERY PLAN {sql}", params).fetchall())
    assert "USE TEMP B-TREE FOR ORDER BY" not in plan, plan
