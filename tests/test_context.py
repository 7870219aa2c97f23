import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from atocore_tui.cli import main
from atocore_tui.context import format as fmt
from atocore_tui.context.budget import TIERS, share_chars
from atocore_tui.context.receipt import (
    BELOW_CONFIDENCE,
    DUPLICATE,
    NOT_RELEVANT,
    OVER_BUDGET,
    SUPERSEDED,
    TRIMMED,
)
from atocore_tui.engine import Engine
from atocore_tui.errors import NotFound, ValidationError

from .conftest import make_settings, write

PROMPT = "what lubricant do we use in the gearbox of the rover wheel drive"


def build_world(engine, vault, *, state=True, memories=True, graph=True, notes=True):
    """A small, hand-built world with material for every tier."""
    engine.projects.register("rover", aliases=["rv"], description="rover wheel drive")
    if notes:
        for i in range(6):
            write(vault / "rover" / f"note-{i}.md",
                  f"---\nproject: rover\n---\n# Gearbox note {i}\n\n"
                  + f"The gearbox lubricant trial {i} used PFPE grease at -40 C. " * 12 + "\n")
        write(vault / "other" / "kitchen.md", "# Kitchen\n\nThe espresso grinder needs new burrs.\n")
        engine.ingest(vault)
    if state:
        for i in range(30):
            engine.state.set("rover", "decision", f"lubricant choice {i}",
                             f"PFPE grease Braycote for the gearbox, option {i} of the trade study")
    if memories:
        m = engine.memories
        m.create("preference", "I prefer SI units and answers about gearbox lubricant with sources")
        m.create("identity", "I am the gearbox engineer of the rover wheel drive")
        for i in range(8):
            m.create("project", f"Gearbox lubricant decision {i}: PFPE grease in the rover wheel drive",
                     project="rover")
        for i in range(5):
            m.create("knowledge", f"PFPE lubricant viscosity rises at low temperature in gearbox case {i}")
        m.create("knowledge", "Espresso grinders need burr alignment every year")  # not relevant
        m.create("project", "Gearbox lubricant guess from a hallway chat", project="rover", confidence=0.3)
        old = m.create("project", "The rover gearbox lubricant was mineral oil", project="rover")
        m.supersede(old.id, "The rover gearbox lubricant is PFPE grease, not mineral oil")
        m.create("project", "Gearbox lubricant decision 0: PFPE grease in the rover wheel drive!",
                 project="rover")  # a near-identical twin
    if graph:
        g = engine.graph
        box = g.create_entity("rover", "component", "Wheel gearbox", "Two-stage planetary gearbox")
        grease = g.create_entity("rover", "material", "PFPE grease lubricant", "Braycote 601EF")
        req = g.create_entity("rover", "requirement", "Gearbox lubricant works at -40 C", "")
        for e in (box, grease, req):
            g.promote(e["id"])
        g.relate(box["id"], "USES_MATERIAL", grease["id"])
        g.relate(box["id"], "SATISFIES", req["id"])


@pytest.fixture
def world(engine, vault):
    build_world(engine, vault)
    return engine


def tier(pack, key):
    return next(t for t in pack.tiers if t.key == key)


def test_each_tier_keeps_to_its_allowance_and_share(world):
    pack = world.context.build(PROMPT, "rover", 10_000)
    assert pack.total_chars <= 10_000
    promised = used = 0
    for t, spec in zip(pack.tiers, TIERS, strict=True):
        assert t.share_chars == share_chars(spec, 10_000)
        assert t.used <= t.allowance
        if spec.share is not None:
            assert t.allowance == t.share_chars + promised - used
        promised += t.share_chars
        used += t.used
    # with plenty of material the trusted tiers fill close to their share
    state = tier(pack, "project_state")
    assert state.share_chars - 120 < state.used <= state.share_chars
    assert any(i.reason == OVER_BUDGET for i in state.items)
    assert tier(pack, "chunks").included


def test_unused_share_flows_to_later_tiers(engine, vault):
    build_world(engine, vault, state=False)
    pack = engine.context.build(PROMPT, "rover", 10_000)
    assert tier(pack, "project_state").used == 0
    identity = tier(pack, "identity_preference")
    assert identity.allowance == share_chars(TIERS[0], 10_000) + share_chars(TIERS[1], 10_000)
    assert identity.used <= identity.allowance
    later = tier(pack, "project_memories")
    assert later.allowance == (share_chars(TIERS[0], 10_000) + share_chars(TIERS[1], 10_000)
                               - identity.used + share_chars(TIERS[2], 10_000))


def test_trimming_goes_in_reverse_trust_order(world):
    """Shrink the budget one character below the pack, again and again: items
    go from the least trusted tier first, and tiers empty in reverse trust order."""
    builder = world.context
    pack = builder.build(PROMPT, "rover", 10_000)
    order = [t.key for t in reversed(pack.tiers) if t.included]
    assert order[0] == "chunks" and order[-1] == "project_state" and len(order) == 6
    receipts = pack.tiers
    items = sum(len(t.included) for t in receipts)
    emptied: list[str] = []
    for _ in range(items):
        current = len(builder._assemble(receipts, "rover"))
        before = [(t.key, len(t.included)) for t in receipts]
        builder._trim(receipts, "rover", current - 1)
        text = builder._assemble(receipts, "rover")
        assert len(text) <= current - 1 or not any(t.included for t in receipts)
        shrunk = [key for (key, n), t in zip(before, receipts, strict=True) if len(t.included) < n]
        assert len(shrunk) == 1  # one tier at a time
        still = [t.key for t in receipts if t.included]
        # every tier less trusted than the one trimmed is already empty
        trimmed_rank = [t.key for t in TIERS].index(shrunk[0])
        assert all([t.key for t in TIERS].index(k) <= trimmed_rank for k in still)
        emptied.extend(t.key for t in receipts if not t.included and t.key not in emptied)
        if not still:
            break
    assert emptied == order
    assert {i.reason for t in receipts for i in t.items if i.reason} >= {TRIMMED}


def test_budget_zero_and_tiny(world):
    empty = world.context.build(PROMPT, "rover", 0)
    assert empty.formatted_context == "" and empty.total_chars == 0
    assert all(not t.included for t in empty.tiers)
    tiny = world.context.build(PROMPT, "rover", 200)
    assert tiny.total_chars <= 200
    assert not tier(tiny, "chunks").included
    assert {i.reason for i in tier(tiny, "chunks").items} == {OVER_BUDGET}


def test_huge_budget_takes_every_eligible_item(world):
    pack = world.context.build(PROMPT, "rover", 1_000_000)
    for t in pack.tiers:
        assert not any(i.reason in (OVER_BUDGET, TRIMMED) for i in t.items)
    assert len(tier(pack, "project_state").included) == 30


def test_exclusion_reasons(world):
    pack = world.context.build(PROMPT, "rover", 1_000_000)
    reasons = {i.label[:40]: i.reason for t in pack.tiers for i in t.items if not i.included}
    assert BELOW_CONFIDENCE in reasons.values()
    assert SUPERSEDED in reasons.values()
    assert DUPLICATE in reasons.values()
    assert any(r == NOT_RELEVANT and "Espresso" in label for label, r in reasons.items())


def test_receipt_accounts_for_every_candidate(world):
    pack = world.context.build(PROMPT, "rover", 3000).to_dict()
    for t in pack["tiers"]:
        assert t["included"] + t["excluded"] == t["considered"] == len(t["items"])
        for item in t["items"]:
            assert item["included"] != bool(item["reason"])


def test_format_lines_and_full_prompt(world):
    pack = world.context.build(PROMPT, "rv", 6000)
    assert pack.project == "rover"  # alias resolved
    text = pack.formatted_context
    assert "=== AtoCore 1/6: Project state (rover) ===" in text
    assert "=== end retrieved notes ===" in text
    assert "[Source: rover/note-" in text and "| Section: Gearbox note" in text and "| Score: " in text
    assert pack.full_prompt == f"{fmt.SYSTEM_PREAMBLE}\n\n{text}\n\nUser prompt:\n{PROMPT}"
    data = pack.to_dict()
    assert data["chunks_used"] == len(data["chunks"]) > 0
    assert data["budget_remaining"] == 6000 - data["total_chars"]
    assert {"formatted_context", "full_prompt", "chunks_used", "total_chars", "budget",
            "budget_remaining", "duration_ms", "chunks"} <= set(data)


def test_no_data_at_all_says_so(tmp_path):
    engine = Engine(make_settings(tmp_path / "d", tmp_path / "empty-vault"))
    try:
        pack = engine.context.build("anything about gearboxes", None, 3000)
        assert pack.formatted_context == fmt.NO_CONTEXT
        assert all(not t.items for t in pack.tiers)
    finally:
        engine.close()


def test_bad_input_is_refused(world):
    with pytest.raises(ValidationError):
        world.context.build("   ", "rover")
    with pytest.raises(ValidationError):
        world.context.build(PROMPT, "rover", -1)
    with pytest.raises(ValidationError):
        world.context.build(PROMPT, "rover", True)
    with pytest.raises(NotFound):
        world.context.build(PROMPT, "no-such-project")


def test_last_pack_is_kept_for_inspection(world):
    pack = world.context.build(PROMPT, "rover", 2500)
    kept = world.context.last_pack()
    assert kept["formatted_context"] == pack.formatted_context
    assert json.loads((world.data_dir / "last_pack.json").read_text())["budget"] == 2500


def test_replay_shows_what_changed(world):
    pack = world.context.build(PROMPT, "rover", 50_000)
    recorded = world.interactions.record(PROMPT, project="rover", context_pack=pack.to_dict())
    same = world.context.replay(recorded["id"])
    assert all(not c["added"] and not c["removed"] for c in same["changes"])
    world.memories.create("episodic", "Yesterday we qualified the rover wheel drive gearbox lubricant "
                          "at -55 C in the cold chamber", project="rover")
    changed = world.context.replay(recorded["id"])
    project_tier = next(c for c in changed["changes"] if c["tier"] == "project_memories")
    assert any("-55 C" in item["label"] for item in project_tier["added"])
    assert changed["budget"] == 50_000
    with pytest.raises(NotFound):
        world.context.replay("nope")


PROMPTS = [PROMPT, "espresso grinder burrs", "what did we decide", "x", "PFPE viscosity at -40 C"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(budget=st.integers(min_value=0, max_value=12_000), prompt=st.sampled_from(PROMPTS),
       project=st.sampled_from([None, "rover", "rv"]))
def test_the_pack_never_exceeds_its_budget(world, budget, prompt, project):
    pack = world.context.build(prompt, project, budget)
    assert len(pack.formatted_context) <= budget
    assert sum(t.used for t in pack.tiers) == pack.total_chars or not any(t.included for t in pack.tiers)
    for t in pack.tiers:
        assert all(i.included != (i.reason is not None) for i in t.items)


def test_cli_context(world, capsys):
    base = ["--data-dir", str(world.data_dir), "--vault", str(world.settings.sources.vault)]
    world.close()
    assert main([*base, "context", PROMPT, "--project", "rv", "--budget", "2000", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["project"] == "rover" and data["total_chars"] <= 2000
    assert main([*base, "context", PROMPT, "--prompt-only"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(fmt.SYSTEM_PREAMBLE) and out.rstrip().endswith(PROMPT)
    assert main([*base, "context", PROMPT, "--project", "rover"]) == 0
    assert "Project state" in capsys.readouterr().out
    assert main([*base, "context", "  "]) == 2
    world.activate()


# ----------------------------------------------------------- the sample vault
SAMPLE_PACKS = [
    # (prompt, project, a note that states the answer and should rank among the best
    #  five chunks, text that must be somewhere in the pack)
    ("what grease did we choose for the gearbox and why", "orion-drive",
     "projects/orion-drive/decision-gearbox-lubricant.md", "Braycote 601EF"),
    ("why was the harmonic drive rejected", "odu",
     "projects/orion-drive/decision-gearbox-architecture.md", "planetary"),
    ("did EM-1 meet the cold efficiency requirement in TVAC", "orion-drive",
     "projects/orion-drive/test-report-tvac-em1.md", "71.2 %"),
    ("what is the fix for the motor cover screws that loosened in vibration", "orion-drive",
     "projects/orion-drive/vibration-test-em1.md", "A286"),
    ("is the cold plate pressure drop within the 20 kPa budget", "coldplate",
     "projects/coldplate/pressure-drop-budget.md", "17.1 kPa"),
    ("why did CP-B-004 leak in the helium test", "cp",
     "projects/coldplate/test-report-b-sample.md", "tunnel"),
    ("which channel layout did we choose for the cold plate", "coldplate",
     "projects/coldplate/decision-serpentine-vs-parallel.md", "U-flow"),
    ("what is the plate mass against its limit", "coldplate",
     "projects/coldplate/material-and-joining-selection.md", "4.58 kg"),
    ("how do I avoid galvanic corrosion between aluminium and titanium", None,
     "knowledge/galvanic-corrosion.md", "galvanic"),
    ("what bolt preload should I target", None, "knowledge/bolted-joint-preload.md", "preload"),
    ("how should answers be formatted for me", None, "personal/working-preferences.md", "bullet"),
]


@pytest.mark.parametrize("prompt, project, note, text", SAMPLE_PACKS, ids=[p[0][:40] for p in SAMPLE_PACKS])
def test_sample_vault_packs_hold_what_a_person_expects(sample_engine, prompt, project, note, text):
    pack = sample_engine.context.build(prompt, project, 4000)
    best_notes = [i.data["source_file"] for i in tier(pack, "chunks").items[:5]]
    assert note in best_notes, best_notes
    assert pack.chunks  # some notes always make it into the pack
    assert text in pack.formatted_context
    if project:
        assert tier(pack, "project_state").included  # the trusted tier is always there


def test_replay_does_not_replace_the_last_pack(world):
    pack = world.context.build(PROMPT, "rover", 4000)
    recorded = world.interactions.record(PROMPT, project="rover", context_pack=pack.to_dict())
    world.context.build("espresso grinder burrs", None, 1234)
    world.context.replay(recorded["id"])
    assert world.context.last_pack()["budget"] == 1234


def test_rows_written_without_an_audit_reach_the_next_pack(world):
    """The tier caches key on the newest audit and the newest row: a bulk
    import that writes rows directly (as bench/context_bench.py does) is seen."""
    import uuid

    from atocore_tui.store.models import Entity, Memory, utc_now

    before = world.context.build(PROMPT, "rover", 6000)
    assert "Zirconia" not in before.formatted_context
    now = utc_now()
    Memory.insert(id=uuid.uuid4().hex, memory_type="knowledge", content="Zirconia gearbox lubricant seals at -40 C",
                  project="", confidence=1.0, status="active", created_at=now, updated_at=now).execute()
    Entity.insert(id=uuid.uuid4().hex, project="rover", entity_type="material",
                  name="Zirconia gearbox lubricant seal", description="PFPE grease seal at -40 C", status="active",
                  confidence=1.0, source_refs=[], created_at=now, updated_at=now).execute()
    after = world.context.build(PROMPT, "rover", 6000)
    texts = [i.text for t in after.tiers for i in t.items]
    assert any("Zirconia gearbox lubricant seals" in t for t in texts)
    assert any("Zirconia gearbox lubricant seal" in t and "material" in t for t in texts)


MEMORY_WORDS = ["gearbox", "lubricant", "PFPE", "Braycote", "zeta", "Zeta", "ärger", "Ωmega", "ça", "齿轮",
                "-40 C", "rover", "wheel", "seal", "torque", "a", "A", "ß"]


def _memory_views(cache: dict) -> dict:
    return {view: entry[1] for view, entry in cache.items() if view.startswith("memory/")}


def _same_collection(patched, reloaded) -> None:
    import numpy as np

    assert patched.rows == reloaded.rows
    np.testing.assert_array_equal(patched.matrix, reloaded.matrix)
    assert (np.diff(patched._stems) >= 0).all()  # searched by bisection: must stay sorted
    # the inverted index may list a stem's texts in another order, never other texts
    assert sorted(zip(patched._stems.tolist(), patched._owners.tolist(), strict=True)) == \
        sorted(zip(reloaded._stems.tolist(), reloaded._owners.tolist(), strict=True))


def test_memory_tiers_patched_after_writes_equal_a_reload(mem, monkeypatch):
    """After each write the memory views are patched with the changed rows, not
    reloaded; after every kind of write (create, edit that moves a row, status
    changes, reinforcement, undo, a row written without an audit) the patched
    views hold exactly what a reload would, and the packs are the same."""
    import random
    import uuid

    from atocore_tui.context.candidates import gather
    from atocore_tui.search.text_vectors import TextCollection
    from atocore_tui.store.models import Memory, utc_now

    patches = []
    real_patched = TextCollection.patched
    monkeypatch.setattr(TextCollection, "patched",
                        lambda self, *a, **k: patches.append(1) or real_patched(self, *a, **k))
    rng = random.Random(5)

    def text() -> str:
        return " ".join(rng.choice(MEMORY_WORDS) for _ in range(rng.randint(1, 6)))

    kinds = ["identity", "preference", "project", "knowledge", "episodic"]
    ids = [mem.memories.create(rng.choice(kinds), f"{text()} {i}", project=rng.choice(["", "orion-drive"]),
                               confidence=rng.choice([0.4, 0.9])).id for i in range(40)]
    prompt = "gearbox lubricant seal torque at -40 C"
    kept: dict = {}
    gather(mem, prompt, "orion-drive", kept)
    for step in range(60):
        target = rng.choice(ids)
        status = Memory.get_by_id(target).status
        action = rng.choice(["create", "edit", "confidence", "invalidate", "supersede", "reinforce",
                             "undo", "raw"])
        if action == "create":
            ids.append(mem.memories.create(rng.choice(kinds), f"{text()} new {step}",
                                           project=rng.choice(["", "orion-drive"])).id)
        elif action == "edit" and status == "active":
            mem.memories.update(target, content=f"{text()} edited {step}")
        elif action == "confidence" and status == "active":
            mem.memories.update(target, confidence=rng.choice([0.3, 0.6, 1.0]))
        elif action == "invalidate":
            mem.memories.invalidate(target)
        elif action == "supersede" and status == "active":
            ids.append(mem.memories.supersede(target, f"{text()} replaces {step}").id)
        elif action == "reinforce" and status == "active":
            mem.memories.reinforce([target], Memory.get_by_id(target).content)
        elif action == "undo":
            try:
                mem.memories.undo(target)
            except (NotFound, ValidationError):
                pass
        elif action == "raw":
            now = utc_now()
            Memory.insert(id=uuid.uuid4().hex, memory_type=rng.choice(kinds), content=f"{text()} raw {step}",
                          project="", confidence=1.0, status="active", created_at=now, updated_at=now).execute()
        kept_candidates, _ = gather(mem, prompt, "orion-drive", kept)
        fresh: dict = {}
        fresh_candidates, _ = gather(mem, prompt, "orion-drive", fresh)
        assert _memory_views(kept).keys() == _memory_views(fresh).keys()
        for view, collection in _memory_views(kept).items():
            _same_collection(collection, _memory_views(fresh)[view])
        for key in ("identity_preference", "project_memories", "domain_knowledge"):
            assert ([(i.ref, i.score, i.reason) for i in kept_candidates[key].items]
                    == [(i.ref, i.score, i.reason) for i in fresh_candidates[key].items]), (step, key)
    assert len(patches) > 60  # three views, most steps wrote something


def test_a_replaced_database_reloads_the_memory_tiers(mem):
    """A restore or salvage replaces rows without audits and bumps the chunks
    version: the views reload instead of patching what is not there."""
    from atocore_tui.context.candidates import gather
    from atocore_tui.store.db import set_meta
    from atocore_tui.store.models import Memory

    first = mem.memories.create("knowledge", "gearbox lubricant PFPE Braycote")
    second = mem.memories.create("knowledge", "wheel seal torque figures")
    kept: dict = {}
    gather(mem, "gearbox lubricant", None, kept)
    # as a restore would: the rows replaced wholesale, newest audit and rowid unchanged
    Memory.update(content="espresso grinder burrs").where(Memory.id == first.id).execute()
    mem.memories.update(second.id, content="wheel seal torque figures, revised")
    set_meta("chunks_version", "99")
    gather(mem, "gearbox lubricant", None, kept)
    contents = [row[2] for row in kept["memory/knowledge:"][1].rows]
    assert "espresso grinder burrs" in contents and "gearbox lubricant PFPE Braycote" not in contents
