"""Extraction of candidate memories: the cue rules (pure), the engine side, the external command."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from atocore_tui.errors import NotFound, ValidationError
from atocore_tui.memory.extraction import (
    RULES,
    ExtractionError,
    Extractor,
    Proposal,
    clean,
    extract_candidates,
    is_statement,
    parse_external,
    sentences,
)
from atocore_tui.store.models import Interaction, Memory, MemoryAudit, Project, ProjectAlias

from .conftest import DATA

FIXTURES = yaml.safe_load((DATA / "interactions.yaml").read_text(encoding="utf-8"))["interactions"]
MIN_PRECISION = 0.9
MIN_RECALL = 0.85


def matches(proposal: Proposal, expected: dict, project: str) -> bool:
    scoped = expected["type"] in ("project", "episodic")
    want_project = expected.get("project", project if scoped else "")
    return (proposal.memory_type == expected["type"]
            and expected["contains"].casefold() in proposal.content.casefold()
            and proposal.project == want_project)


def score(fixtures) -> tuple[int, int, int, list[str]]:
    """True positives, false positives, false negatives, and what went wrong."""
    tp = fp = fn = 0
    problems = []
    for item in fixtures:
        project = item.get("project") or ""
        proposals = extract_candidates(item["prompt"], item.get("response") or "", project)
        unmatched = list(item["expected"])
        for proposal in proposals:
            hit = next((e for e in unmatched if matches(proposal, e, project)), None)
            if hit is None:
                fp += 1
                problems.append(f"{item['name']}: unexpected {proposal.memory_type}: {proposal.content}")
            else:
                tp += 1
                unmatched.remove(hit)
        fn += len(unmatched)
        problems += [f"{item['name']}: missed {e}" for e in unmatched]
    return tp, fp, fn, problems


# ------------------------------------------------------------- the fixtures

def test_fixture_set_is_big_enough_and_covers_every_cue_family():
    assert len(FIXTURES) >= 30
    negatives = [item for item in FIXTURES if not item["expected"]]
    assert len(negatives) >= 8
    fired = {p.rule for item in FIXTURES
             for p in extract_candidates(item["prompt"], item.get("response") or "", item.get("project") or "")}
    assert fired == {rule.name for rule in RULES}
    types = {e["type"] for item in FIXTURES for e in item["expected"]}
    assert types == {"identity", "preference", "project", "knowledge", "episodic", "adaptation"}


def test_precision_and_recall_on_the_fixtures():
    tp, fp, fn, problems = score(FIXTURES)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    print(f"\nextraction on {len(FIXTURES)} interactions: tp={tp} fp={fp} fn={fn} "
          f"precision={precision:.3f} recall={recall:.3f}")
    assert precision >= MIN_PRECISION, problems
    assert recall >= MIN_RECALL, problems


# ------------------------------------------------------------------ the rules

@pytest.mark.parametrize("text, memory_type, content", [
    ("Decision: the housing is 7075-T6 with hard anodize.", "project", "The housing is 7075-T6 with hard anodize."),
    ("OK, so we decided to freeze the gearbox at 48:1.", "project", "We decided to freeze the gearbox at 48:1."),
    ("Please always give SI units.", "preference", "Always give SI units."),
    ("Remember that PFPE creeps along clean metal surfaces.", "knowledge",
     "PFPE creeps along clean metal surfaces."),
    ("Note that our housing liners are 17-4PH steel.", "project", "Our housing liners are 17-4PH steel."),
    ("From now on, answer in bullet lists only.", "adaptation", "Answer in bullet lists only."),
    ("I'd like answers in Swedish from now on.", "adaptation", "I'd like answers in Swedish from now on."),
    ("Do not use liquid threadlocker in vacuum hardware again.", "adaptation",
     "Do not use liquid threadlocker in vacuum hardware again."),
    ("ODU-REQ-003: The drive unit shall deliver 18 N·m continuous.", "project",
     "ODU-REQ-003: The drive unit shall deliver 18 N·m continuous."),
    ("I'm responsible for the supplier contact with Brennan.", "identity",
     "I'm responsible for the supplier contact with Brennan."),
])
def test_one_sentence_per_rule(text, memory_type, content):
    [proposal] = extract_candidates(text, "", "orion-drive")
    assert (proposal.memory_type, proposal.content) == (memory_type, content)
    assert 0.5 <= proposal.confidence < 1


@pytest.mark.parametrize("text", [
    "Should we decide on the bearing now?",
    "Did we decide on the manifold",
    "We might decide later on the seal.",
    "We haven't decided the inlet temperature yet.",
    "I think the housing must be thicker.",
    "If the plate leaks, the supplier must rework it.",
    "You must check the torque.",
    "It must be the grease.",
    "The CFD answer must be wrong by 2 K.",
    "The leak must have been caused by the weld start.",
    "Remember to send the PO to Brennan.",
    "Note: bring the gear sample to the review.",
    "I'm a bit lost in the data.",
    "I am not sure the seal survives.",
    "We decided.",
    'The supplier wrote "we decided to switch to 6063 extrusions for cost" in the email.',
    "> We decided to switch to 6063 extrusions.",
    "```\n# we decided to skip the header\nrows = rows[1:]\n```",
    "    # we decided to skip the header row in the loader",
    "We may choose 3003 for the C-sample too.",
])
def test_negatives(text):
    assert extract_candidates(text, "", "orion-drive") == []


def test_requirement_needs_a_project_and_response_must_is_advice():
    assert extract_candidates("The plate shall stay below 45 °C at the cells.", "", "") == []
    assert extract_candidates("Explain.", "The housing must be anodized before assembly.", "orion-drive") == []
    [shall] = extract_candidates("Quote it.", "The housing shall be anodized before assembly.", "orion-drive")
    assert shall.origin == "response" and shall.confidence == pytest.approx(0.55)


def test_prompt_only_rules_ignore_the_response():
    reply = "I prefer tables for this. I am the assistant. Remember that PFPE creeps. From now on, ask me."
    assert extract_candidates("Compare the options.", reply, "coldplate") == []


def test_decision_without_project_is_episodic_and_project_names_count():
    [episodic] = extract_candidates("We chose the Keyence microscope for the lab.", "", "")
    assert (episodic.memory_type, episodic.project) == ("episodic", "")
    [by_alias] = extract_candidates("Remember that the CP-200 gate is in September.", "", "coldplate",
                                    project_names=["CP-200"])
    assert (by_alias.memory_type, by_alias.project) == ("project", "coldplate")
    [general] = extract_candidates("Remember that the 3003 alloy brazes well.", "", "coldplate")
    assert (general.memory_type, general.project) == ("knowledge", "")


def test_duplicates_within_one_interaction_are_dropped():
    text = "We decided to use Braycote 601EF."
    assert len(extract_candidates(text, "Noted. " + text.upper(), "orion-drive")) == 1


def test_sentence_splitting_keeps_decimals_and_drops_markup():
    parts = sentences("- **Backlash** was 0.31° on EM-1. The limit is 0.5°, e.g. for REQ-017.\n"
                      "## Heading\n`inline` code stays as text! Really?")
    assert parts == ["Backlash was 0.31° on EM-1.", "The limit is 0.5°, e.g. for REQ-017.",
                     "Heading", "inline code stays as text!", "Really?"]
    assert is_statement("The seal must survive 50 km.") and not is_statement("Is it fine?")
    assert clean("  so, please remember that: the gate is in May  ") == "The gate is in May."


# --------------------------------------------------------------- engine side

@pytest.fixture
def projects(engine):
    for project, alias in (("orion-drive", "odu"), ("coldplate", "cp-200")):
        Project.create(id=project)
        ProjectAlias.create(alias=alias, project=project)
    return engine


def store(prompt: str, response: str = "", project: str = "", at: str = "2026-04-22 10:00:00") -> str:
    return Interaction.create(prompt=prompt, response=response, project=project, created_at=at).id


def counts() -> tuple[int, int, int]:
    return Interaction.select().count(), Memory.select().count(), MemoryAudit.select().count()


def test_run_writes_candidates_and_is_idempotent(projects):
    engine = projects
    interaction = store("We decided to reduce the grease fill to 20 % of free volume. I prefer kPa for "
                        "pressure drops.", "Noted: the grease fill is now 20 %.", "orion-drive")
    ids = Extractor(engine).run(interaction)
    memories = [engine.memories.get(i) for i in ids]
    assert [(m.memory_type, m.status, m.project) for m in memories] == [
        ("project", "candidate", "orion-drive"), ("preference", "candidate", "")]
    assert all(m.source_interaction == interaction for m in memories)
    assert Extractor(engine).run(interaction) == []
    # a rejected candidate is not proposed again by a re-run
    engine.memories.update(ids[0], status="invalid")
    assert Extractor(engine).run(interaction) == []


def test_near_duplicates_of_existing_memories_are_skipped(projects):
    engine = projects
    engine.memories.create("project", "We decided to use Braycote 601EF for the gears and bearings.",
                           project="orion-drive")
    interaction = store("We decided to use Braycote 601EF for the gears and bearings!", "", "orion-drive")
    assert Extractor(engine).run(interaction) == []
    other = store("We decided to anodize the 7075-T6 housing with a hard coat.", "", "orion-drive")
    assert len(Extractor(engine).run(other)) == 1


def test_run_unknown_interaction(projects):
    before = counts()
    for bad in ("nope", "", None):
        with pytest.raises(NotFound, match="unknown interaction"):
            Extractor(projects).run(bad)
    assert counts() == before


def test_run_all_over_the_fixtures_then_again_creates_nothing(projects):
    engine = projects
    for n, item in enumerate(FIXTURES):
        store(item["prompt"], item.get("response") or "", item.get("project") or "",
              at=f"2026-04-{1 + n // 10:02d} 10:00:{n % 60:02d}")
    expected = sum(len(item["expected"]) for item in FIXTURES)
    first = Extractor(engine).run_all()
    assert first["interactions"] == len(FIXTURES) and first["errors"] == []
    assert expected - 2 <= first["created"] <= expected  # near-duplicates across interactions may merge
    assert Memory.select().where(Memory.status != "candidate").count() == 0
    assert {a.actor for a in MemoryAudit.select()} == {"extractor"}
    again = Extractor(engine).run_all()
    assert (again["created"], again["candidates"]) == (0, [])
    assert Memory.select().count() == first["created"]


def test_run_all_filters(projects):
    engine = projects
    store("We decided to braze the C-sample in 3003.", "", "coldplate", at="2026-04-20 10:00:00")
    store("We decided to keep the crossed-roller bearing.", "", "orion-drive", at="2026-04-21 10:00:00")
    store("We decided to test EM-2 in June.", "", "orion-drive", at="2026-04-22 10:00:00")
    result = Extractor(engine).run_all(since="2026-04-21", project="odu")
    assert (result["interactions"], result["created"], result["project"]) == (2, 2, "orion-drive")
    assert result["since"] == "2026-04-21 00:00:00"
    before = counts()
    with pytest.raises(ValidationError, match="since must be"):
        Extractor(engine).run_all(since="last week")
    with pytest.raises(NotFound, match="unknown project"):
        Extractor(engine).run_all(project="nope")
    assert counts() == before


# ----------------------------------------------------------- external command

def script(tmp_path: Path, body: str) -> list[str]:
    path = tmp_path / "extractor.py"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return [sys.executable, str(path)]


GOOD = """
    import json, sys
    data = json.load(sys.stdin)
    print(json.dumps({"candidates": [
        {"memory_type": "project", "content": "Seen: " + data["prompt"], "confidence": 0.6},
        {"memory_type": "knowledge", "content": "PFPE greases creep on clean metal.", "confidence": 0.5},
    ]}))
"""


def test_external_command_adds_candidates(projects, tmp_path):
    engine = projects
    interaction = store("Backlash on EM-1 was 0.31 degrees.", "", "orion-drive")
    ids = Extractor(engine, external_command=script(tmp_path, GOOD)).run(interaction)
    memories = [engine.memories.get(i) for i in ids]
    assert [(m.memory_type, m.project, m.content) for m in memories] == [
        ("project", "orion-drive", "Seen: Backlash on EM-1 was 0.31 degrees."),
        ("knowledge", "", "PFPE greases creep on clean metal.")]
    assert [m.confidence for m in memories] == [0.6, 0.5]


@pytest.mark.parametrize("body, message", [
    ("print('not json')", "invalid JSON"),
    ("print('[]')", "must answer"),
    ("print('{\"candidates\": {}}')", "must answer"),
    ("import json; print(json.dumps({'candidates': [{'memory_type': 'opinion', 'content': 'x', "
     "'confidence': 0.5}]}))", "unknown memory_type"),
    ("import json; print(json.dumps({'candidates': [{'memory_type': 'project', 'content': ' ', "
     "'confidence': 0.5}]}))", "content must be"),
    ("import json; print(json.dumps({'candidates': [{'memory_type': 'project', 'content': 'x y z w', "
     "'confidence': 1.5}]}))", "confidence must be"),
    ("import json; print(json.dumps({'candidates': [{'memory_type': 'project', 'content': 'x y z w'}]}))",
     "confidence must be"),
    ("import json; print(json.dumps({'candidates': ['text']}))", "is not an object"),
    ("import sys; sys.stderr.write('model not found\\n'); sys.exit(2)", "exited with 2: model not found"),
])
def test_external_command_faults_write_nothing(projects, tmp_path, body, message):
    interaction = store("We decided to keep the 48:1 ratio.", "", "orion-drive")
    before = counts()
    with pytest.raises(ExtractionError, match=message):
        Extractor(projects, external_command=script(tmp_path, body)).run(interaction)
    assert counts() == before  # not even the cue-rule candidate


def test_external_command_timeout_and_missing_program(projects, tmp_path):
    interaction = store("We decided to keep the 48:1 ratio.", "", "orion-drive")
    before = counts()
    slow = Extractor(projects, external_command=script(tmp_path, "import time; time.sleep(10)"),
                     external_timeout=0.5)
    with pytest.raises(ExtractionError, match="timed out after 0.5 s"):
        slow.run(interaction)
    with pytest.raises(ExtractionError, match="could not start"):
        Extractor(projects, external_command=[str(tmp_path / "no-such-program")]).run(interaction)
    assert counts() == before


def test_external_errors_are_reported_per_interaction_by_run_all(projects, tmp_path):
    store("We decided to keep the 48:1 ratio.", "", "orion-drive")
    result = Extractor(projects, external_command=script(tmp_path, "print('oops')")).run_all()
    assert result["created"] == 0 and "invalid JSON" in result["errors"][0]["error"]


@pytest.mark.parametrize("command", ["tool --json", [], ["tool", ""], ["tool", 3]])
def test_external_command_must_be_an_argument_list(projects, command):
    with pytest.raises(ValidationError, match="non-empty list of arguments"):
        Extractor(projects, external_command=command)


def test_parse_external_caps_the_number_of_candidates():
    many = json.dumps({"candidates": [{"memory_type": "knowledge", "content": f"fact {n}", "confidence": 0.5}
                                      for n in range(51)]})
    with pytest.raises(ExtractionError, match="at most 50"):
        parse_external(many, "")
