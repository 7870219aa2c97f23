"""The review queue: candidates with evidence and near-duplicates; promote,
reject, edit-then-promote, merge, supersede — each audited and undoable, each
refused on anything but a candidate."""

from __future__ import annotations

import json

import pytest

from atocore_tui.cli import main
from atocore_tui.errors import NotFound, ValidationError
from atocore_tui.memory.service import DUPLICATE_THRESHOLD
from atocore_tui.store.models import Interaction

from .conftest import memory_counts


def candidate(engine, content, project="orion-drive", **kwargs):
    return engine.memories.create(kwargs.pop("memory_type", "project"), content, project=project,
                                  status="candidate", confidence=kwargs.pop("confidence", 0.6), **kwargs)


def interaction(prompt, response, project="orion-drive", created_at="2026-04-22 10:00:00"):
    return Interaction.create(prompt=prompt, response=response, project=project, client="claude-code",
                              created_at=created_at)


# ------------------------------------------------------------------ listing
def test_list_shows_evidence_and_nearest_memories(mem):
    grease = mem.memories.create("project", "The ODU gearbox lubricant is Braycote 601EF PFPE grease.",
                                 project="orion-drive")
    mem.memories.create("project", "CP-200 plates are 6061-T6 with a friction-stir welded lid.",
                        project="coldplate")
    source = interaction(
        "Which grease did we pick for the drive? Keep it short.",
        "You chose a PFPE grease. We decided the Orion drive gears are greased with Braycote 601EF. "
        "It has low outgassing.")
    item_id = candidate(mem, "Orion drive gears are greased with Braycote 601EF (a PFPE grease).",
                        source_interaction=source.id).id
    (item,) = mem.review.list()
    assert item.memory.id == item_id and item.evidence_score == 1
    assert item.evidence.interaction_id == source.id and item.evidence.created_at == "2026-04-22 10:00:00"
    assert item.evidence.quote_from == "response"
    assert item.evidence.quote == "We decided the Orion drive gears are greased with Braycote 601EF."
    assert item.evidence.prompt.startswith("Which grease")
    nearest = item.neighbours[0]
    assert nearest.memory.id == grease.id and nearest.score >= DUPLICATE_THRESHOLD and nearest.likely_duplicate
    assert all(n.memory.project in ("orion-drive", "") for n in item.neighbours)  # other projects stay out
    assert item.likely_duplicate
    data = item.to_dict()
    assert data["evidence"]["interaction_id"] == source.id and data["neighbours"][0]["likely_duplicate"]
    json.dumps(data)  # plain data for every face


def test_orders_oldest_and_most_evidenced(mem):
    lonely = candidate(mem, "EM-2 dust test is planned for June 2026.", confidence=0.9)
    first = candidate(mem, "The ODU housing is hard-anodised 7075-T6 aluminium.", confidence=0.5,
                      source_interaction=interaction("housing?", "7075-T6 hard anodised").id)
    candidate(mem, "ODU housing: hard anodized 7075-T6.", confidence=0.5)
    oldest = mem.review.list(order="oldest")
    assert [i.memory.id for i in oldest][0] == lonely.id
    evidenced = mem.review.list(order="evidence")
    assert evidenced[0].memory.id == first.id and evidenced[0].evidence_score == 2  # source + a re-sighting
    assert evidenced[-1].memory.id == lonely.id and evidenced[-1].evidence_score == 0
    assert len(mem.review.list(limit=1)) == 1 and mem.review.count() == 3
    assert mem.review.list(project="coldplate") == [] and mem.review.count("orion-drive") == 3
    assert mem.review.item(first.id).evidence_score == 2


@pytest.mark.parametrize("kwargs, error", [
    ({"order": "newest"}, ValidationError),
    ({"limit": 0}, ValidationError),
    ({"project": "nope"}, NotFound),
])
def test_list_refuses_bad_arguments(mem, kwargs, error):
    with pytest.raises(error):
        mem.review.list(**kwargs)


# ------------------------------------------------------------------ decisions
def test_promote_and_reject_are_audited_and_undoable(mem):
    a = candidate(mem, "Seal drag must stay below 0.8 N·m.")
    b = candidate(mem, "The rover has six wheels.")
    assert mem.review.promote(a.id).status == "active"
    assert mem.review.reject(b.id).status == "invalid"
    assert [e.action for e in mem.memories.audit(a.id)] == ["create", "promote"]
    assert mem.memories.audit(b.id)[-1].after["status"] == "invalid"
    assert mem.memories.undo(a.id).status == "candidate"
    assert mem.memories.undo(b.id).status == "candidate"
    assert mem.review.count() == 2


def test_edit_and_promote_changes_and_promotes_in_one_step(mem):
    a = candidate(mem, "seal drag below 0.8", memory_type="knowledge", confidence=0.4)
    done = mem.review.edit_and_promote(a.id, content="Seal drag must stay at or below 0.8 N·m (ODU-REQ-019).",
                                       memory_type="project", confidence=0.9)
    assert (done.status, done.memory_type, done.confidence) == ("active", "project", 0.9)
    (entry,) = [e for e in mem.memories.audit(a.id) if e.action == "edit_and_promote"]
    assert entry.before["content"] == "seal drag below 0.8" and entry.after["memory_type"] == "project"
    back = mem.memories.undo(a.id)
    assert (back.status, back.content, back.memory_type, back.confidence) == (
        "candidate", "seal drag below 0.8", "knowledge", 0.4)


def test_merge_target_absorbs_candidate(mem):
    target = mem.memories.create("project", "Braycote 601EF lubricates the ODU gears.", project="orion-drive",
                                 confidence=0.7)
    item = candidate(mem, "ODU gears use Braycote 601EF PFPE grease.", confidence=0.95)
    merged = mem.review.merge(item.id, target.id)
    assert merged.id == target.id and merged.confidence == 0.95 and merged.content == target.content
    assert mem.memories.get(item.id).status == "superseded"
    pointer = mem.memories.audit(item.id)[-1]
    assert pointer.action == "merge" and pointer.link["role"] == "merged_into" and pointer.link["partner"] == target.id
    assert mem.memories.audit(target.id)[-1].link["role"] == "absorbed"
    second = candidate(mem, "The ODU gear grease is Braycote 601EF.")
    replaced = mem.review.merge(second.id, target.id, content="ODU gears: Braycote 601EF (PFPE) grease.")
    assert replaced.content == "ODU gears: Braycote 601EF (PFPE) grease." and replaced.confidence == 0.95
    mem.memories.undo(second.id)  # undoes the pair: content back, candidate back in the queue
    assert mem.memories.get(target.id).content == target.content
    assert mem.memories.get(second.id).status == "candidate"


def test_supersede_makes_candidate_active_and_old_superseded(mem):
    old = mem.memories.create("project", "Gearbox ratio 40:1", project="orion-drive")
    item = candidate(mem, "Gearbox ratio 48:1")
    assert mem.review.supersede(item.id, old.id).status == "active"
    assert mem.memories.get(old.id).status == "superseded"
    mem.memories.undo(old.id)
    assert mem.memories.get(old.id).status == "active" and mem.memories.get(item.id).status == "candidate"


@pytest.mark.parametrize("action", ["promote", "reject", "edit", "merge", "supersede"])
def test_queue_actions_refuse_non_candidates_and_write_nothing(mem, action):
    active = mem.memories.create("project", "Housing is 7075-T6", project="orion-drive")
    other = mem.memories.create("project", "Housing is Ti-6Al-4V", project="orion-drive")
    before = memory_counts()
    calls = {
        "promote": lambda: mem.review.promote(active.id),
        "reject": lambda: mem.review.reject(active.id),
        "edit": lambda: mem.review.edit_and_promote(active.id, content="x"),
        "merge": lambda: mem.review.merge(active.id, other.id),
        "supersede": lambda: mem.review.supersede(active.id, other.id),
    }
    with pytest.raises(ValidationError, match="it is active, not candidate"):
        calls[action]()
    assert memory_counts() == before


@pytest.mark.parametrize("case, error", [
    ("unknown", NotFound),
    ("bad-type", ValidationError),
    ("bad-confidence-low", ValidationError),
    ("bad-confidence-high", ValidationError),
    ("blank", ValidationError),
    ("merge-into-self", ValidationError),
    ("merge-into-unknown", NotFound),
    ("merge-into-invalid", ValidationError),
    ("supersede-candidate", ValidationError),
])
def test_queue_actions_refuse_bad_input_and_write_nothing(mem, case, error):
    item = candidate(mem, "Breakaway torque below 0.20 N·m")
    other = candidate(mem, "Breakaway torque after a cold soak")
    dead = mem.memories.create("project", "Breakaway torque 0.3 N·m", project="orion-drive")
    mem.memories.invalidate(dead.id)
    before = memory_counts()
    calls = {
        "unknown": lambda: mem.review.promote("0" * 32),
        "bad-type": lambda: mem.review.edit_and_promote(item.id, memory_type="opinion"),
        "bad-confidence-low": lambda: mem.review.edit_and_promote(item.id, confidence=-0.1),
        "bad-confidence-high": lambda: mem.review.edit_and_promote(item.id, confidence=1.5),
        "blank": lambda: mem.review.edit_and_promote(item.id, content="  "),
        "merge-into-self": lambda: mem.review.merge(item.id, item.id),
        "merge-into-unknown": lambda: mem.review.merge(item.id, "0" * 32),
        "merge-into-invalid": lambda: mem.review.merge(item.id, dead.id),
        "supersede-candidate": lambda: mem.review.supersede(item.id, other.id),  # old must be active
    }
    with pytest.raises(error):
        calls[case]()
    assert memory_counts() == before


# ------------------------------------------------------------------ acceptance
def test_promote_edit_supersede_undo_leaves_a_complete_trail(mem):
    """Acceptance: after promote → edit → supersede → undo the audit trail
    shows every step with before/after, and undo restored the earlier state."""
    memories = mem.memories
    item = candidate(mem, "Continuous torque 18 N·m", confidence=0.6)
    memories.reinforce([], "")  # nothing used: nothing written
    mem.review.promote(item.id)
    memories.update(item.id, content="Continuous output torque 18 N·m at 20 rpm (ODU-REQ-003)", confidence=0.9)
    edited = memories.get(item.id)
    new = memories.supersede(item.id, "Continuous output torque 20 N·m at 20 rpm (ODU-REQ-003 rev D)")
    restored = memories.undo(item.id)

    assert restored == memories.get(item.id)
    assert (restored.status, restored.content, restored.confidence) == ("active", edited.content, 0.9)
    assert memories.get(new.id).status == "invalid"
    trail = memories.audit(item.id)
    assert [e.action for e in trail] == ["create", "promote", "update", "supersede", "undo"]
    create, promote, edit, supersede, undo = trail
    assert create.before is None and create.after["status"] == "candidate"
    assert (promote.before["status"], promote.after["status"]) == ("candidate", "active")
    assert (edit.before["content"], edit.after["content"]) == ("Continuous torque 18 N·m", edited.content)
    assert (edit.before["confidence"], edit.after["confidence"]) == (0.6, 0.9)
    assert (supersede.before["status"], supersede.after["status"]) == ("active", "superseded")
    assert supersede.link["partner"] == new.id
    assert (undo.before["status"], undo.after["status"]) == ("superseded", "active")
    assert undo.link["undoes"] == supersede.id and undo.link["action"] == "supersede"
    assert all(e.actor == "user" and e.at for e in trail)
    assert [e.action for e in memories.audit(new.id)] == ["create", "undo"]
    # one more undo walks back the edit
    assert memories.undo(item.id).content == "Continuous torque 18 N·m"


# ------------------------------------------------------------------ CLI
def test_cli_review_and_decisions(tmp_path, vault, capsys):
    base = ["--data-dir", str(tmp_path / "data"), "--vault", str(vault)]

    def run(*args):
        code = main([*base, *args, "--json"])
        out = capsys.readouterr()
        return code, (json.loads(out.out) if code == 0 else out.err)

    _, kept = run("memory", "add", "knowledge", "Braycote 601EF is a PFPE grease")
    ids = [run("memory", "add", "knowledge", text, "--candidate")[1]["id"] for text in (
        "Braycote 601EF is a PFPE grease with low outgassing", "Use SI units", "Fits per ISO 286")]
    code, queue = run("memory", "review", "--order", "evidence")
    assert code == 0 and queue["count"] == 3
    assert queue["candidates"][0]["neighbours"][0]["memory"]["id"] in {kept["id"], *ids}
    assert run("memory", "merge", ids[0], kept["id"])[1]["into"] == kept["id"]
    assert run("memory", "promote", ids[1], "--type", "preference")[1]["memory"]["memory_type"] == "preference"
    assert run("memory", "reject", ids[2])[1]["memory"]["status"] == "invalid"
    code, error = run("memory", "promote", ids[1])
    assert code == 2 and "not candidate" in error
    assert run("memory", "review")[1]["count"] == 0
    assert main([*base, "memory", "review"]) == 0
    assert "empty" in capsys.readouterr().out
