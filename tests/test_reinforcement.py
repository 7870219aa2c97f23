"""Reinforcement: active memories that a response used gain a reference, a
last-referenced time and a capped confidence nudge; nothing else moves."""

from __future__ import annotations

import pytest

from atocore_tui.engine import Engine
from atocore_tui.memory import reinforcement
from atocore_tui.memory.reinforcement import (
    CONFIDENCE_CAP,
    CONFIDENCE_STEP,
    nudged,
    overlap,
    tokens,
    used_memories,
)
from atocore_tui.store.models import MemoryAudit

from .conftest import make_settings, memory_counts

RESPONSE = ("Short answer: the Orion drive gearbox uses Braycote 601EF, a PFPE grease, because it keeps "
            "low outgassing in vacuum. The housing stays 7075-T6 with hard anodize.")




# ------------------------------------------------------------------ the pure rules
def test_tokens_are_normalised():
    assert tokens("The ODU housing is 7075-T6, hard-anodised!") == {"odu", "housing", "7075-t6", "hard-anodised"}
    assert tokens("EM-1 backlash: 0.31°") == {"em-1", "backlash", "0.31"}
    assert tokens("the and of") == frozenset()


def test_overlap_is_the_share_of_the_memory_found_in_the_response():
    memory = tokens("Braycote 601EF grease for the gearbox")
    assert overlap(memory, tokens(RESPONSE)) == 1.0
    assert overlap(memory, tokens("gearbox grease")) == 0.5
    assert overlap(frozenset(), tokens(RESPONSE)) == 0.0


def test_nudge_is_deterministic_capped_and_never_lowers():
    assert nudged(0.5) == 0.5 + CONFIDENCE_STEP * 0.5 == nudged(0.5)
    assert nudged(0.989) == CONFIDENCE_CAP and nudged(0.985) == 0.9865
    assert nudged(1.0) == 1.0  # a person's certainty is not lowered to the cap
    value = 0.0
    for _ in range(200):
        value = nudged(value)
    assert value == CONFIDENCE_CAP


def test_used_memories_listed_first_then_overlap_in_stable_order():
    active = [("a", "Braycote 601EF grease for the gearbox"), ("b", "Housing is 7075-T6 hard anodize"),
              ("c", "Coolant is glycol water"), ("d", "Braycote")]
    assert used_memories(active, ["c", "x", "c"], RESPONSE) == ["c", "a", "b"]  # d: too short to match
    assert used_memories(active, [], "") == []


# ------------------------------------------------------------------ the service
def test_explicit_ids_reinforce_active_memories_only(mem):
    service = mem.memories
    active = service.create("project", "Coolant is 50/50 glycol water", project="coldplate", confidence=0.5)
    cand = service.create("project", "Coolant inlet 25 °C", project="coldplate", status="candidate", confidence=0.5)
    wrong = service.create("project", "Coolant is pure water", project="coldplate", confidence=0.5)
    service.invalidate(wrong.id)
    old = service.create("project", "Coolant flow 5 L/min", project="coldplate", confidence=0.5)
    service.supersede(old.id, "Coolant flow 6 L/min")
    untouched = {r.id: r for r in (service.get(cand.id), service.get(wrong.id), service.get(old.id))}
    audit_before = MemoryAudit.select().count()

    used = service.reinforce([active.id, cand.id, wrong.id, old.id, "no-such-id"], "Fine.")

    assert used == [active.id]
    after = service.get(active.id)
    assert after.reference_count == 1 and after.last_referenced_at is not None
    assert after.confidence == pytest.approx(0.55)
    for memory_id, record in untouched.items():
        assert service.get(memory_id) == record
    assert MemoryAudit.select().count() == audit_before + 1
    entry = service.audit(active.id)[-1]
    assert (entry.action, entry.actor) == ("reinforce", "reinforcement")
    assert (entry.before["reference_count"], entry.after["reference_count"]) == (0, 1)


def test_token_overlap_finds_memories_the_response_repeated(mem):
    service = mem.memories
    grease = service.create("project", "Orion drive gearbox grease is Braycote 601EF (PFPE).",
                            project="orion-drive", confidence=0.6)
    housing = service.create("project", "Housing: 7075-T6 with hard anodize.", project="orion-drive",
                             confidence=0.6)
    unrelated = service.create("project", "Cold plate pressure drop below 20 kPa.", project="coldplate",
                               confidence=0.6)
    short = service.create("preference", "Braycote grease", confidence=0.6)  # 2 tokens: never by overlap
    candidate = service.create("project", "Braycote 601EF PFPE grease gearbox", project="orion-drive",
                               status="candidate", confidence=0.6)
    used = service.reinforce([], RESPONSE, project="orion-drive")
    assert used == [grease.id, housing.id]
    for record in (unrelated, short, candidate):
        assert service.get(record.id) == record
    assert service.get(grease.id).confidence == pytest.approx(0.64)


def test_project_limits_the_overlap_path_not_the_listed_ids(mem):
    service = mem.memories
    plate = service.create("project", "Plate footprint 760 x 420 mm, 6 mm thick.", project="coldplate")
    listed = service.create("project", "Lid is friction-stir welded.", project="coldplate")
    response = "The plate footprint is 760 x 420 mm and it is 6 mm thick."
    assert service.reinforce([listed.id], response, project="orion-drive") == [listed.id]
    assert service.reinforce([], response, project="coldplate") == [plate.id]
    assert service.reinforce([], response) == [plate.id]


def test_nothing_used_writes_nothing(mem):
    service = mem.memories
    service.create("preference", "SI units only, imperial in brackets")
    before = memory_counts()
    assert service.reinforce([], "") == []
    assert service.reinforce(None, None) == []
    assert service.reinforce(["unknown"], "Completely unrelated words here.") == []
    assert memory_counts() == before


def test_cap_is_respected_over_many_uses(mem):
    service = mem.memories
    record = service.create("knowledge", "PFPE greases have very low vapour pressure", confidence=0.9)
    for _ in range(60):
        service.reinforce([record.id], "")
    after = service.get(record.id)
    assert after.confidence == CONFIDENCE_CAP and after.reference_count == 60
    certain = service.create("knowledge", "Water boils at 100 °C at sea level", confidence=1.0)
    service.reinforce([certain.id], "")
    assert service.get(certain.id).confidence == 1.0


def _run_sequence(data_dir) -> list[tuple[str, int, float]]:
    engine = Engine(make_settings(data_dir, None))
    try:
        service = engine.memories
        made = [service.create("project", text, confidence=c) for text, c in (
            ("Orion drive gearbox grease is Braycote 601EF (PFPE).", 0.3),
            ("Housing: 7075-T6 with hard anodize.", 0.7),
            ("Cold plate pressure drop below 20 kPa.", 0.5))]
        for round_ in range(5):
            service.reinforce([made[2].id] if round_ % 2 else [], RESPONSE)
        return [(r.content, r.reference_count, r.confidence) for r in (service.get(m.id) for m in made)]
    finally:
        engine.close()


def test_same_inputs_give_the_same_numbers(tmp_path, engine):
    engine.close()  # one open engine per process
    first, second = _run_sequence(tmp_path / "one"), _run_sequence(tmp_path / "two")
    assert first == second
    assert [(n, round(c, 6)) for _, n, c in first] == [
        (5, round(_nudge_times(0.3, 5), 6)), (5, round(_nudge_times(0.7, 5), 6)),
        (2, round(_nudge_times(0.5, 2), 6))]


def _nudge_times(value: float, times: int) -> float:
    for _ in range(times):
        value = min(reinforcement.CONFIDENCE_CAP, value + reinforcement.CONFIDENCE_STEP * (1 - value))
    return value


def test_a_response_too_short_to_repeat_anything_still_counts_the_listed_ids(mem):
    """A one-word response ("ok") can repeat no memory (MIN_SHARED tokens are
    needed), so only the listed active ones are reinforced; two shared tokens
    of a three-token memory are enough (2/3 >= OVERLAP_THRESHOLD)."""
    service = mem.memories
    short = service.create("knowledge", "bearing preload torque")
    listed = service.create("knowledge", "Lid is friction-stir welded.")
    invalid = service.create("knowledge", "Old lid process")
    service.invalidate(invalid.id)
    assert reinforcement.MIN_SHARED == 2
    assert not reinforcement.may_repeat("ok") and not reinforcement.may_repeat("the torque")
    assert service.reinforce([listed.id, invalid.id, "unknown"], "ok") == [listed.id]
    assert service.reinforce([], "torque") == []
    assert reinforcement.may_repeat("preload torque")
    assert service.reinforce([], "preload torque") == [short.id]
