import json

import pytest

from atocore_tui.cli import main
from atocore_tui.errors import NotFound, ValidationError
from atocore_tui.projects.state import CATEGORIES
from atocore_tui.store import ProjectState

from .conftest import write

ENTRY_KEYS = {"id", "project", "category", "key", "value", "source", "confidence", "status",
              "created_at", "updated_at"}


def rows():
    return sorted((r.id, r.project, r.category, r.key, r.value, r.status, r.updated_at)
                  for r in ProjectState.select())


@pytest.fixture
def state(engine):
    engine.projects.import_bundled_if_empty()
    return engine.state


def test_set_creates_and_get_returns_the_spec_shape(state):
    result = state.set("orion-drive", "status", "phase", "EM-1 TVAC complete", source="tvac debrief", confidence=0.9)
    assert set(result) >= {"status", "id", "category", "key"}
    assert (result["status"], result["category"], result["key"]) == ("created", "status", "phase")
    got = state.get("orion-drive")
    assert got["project"] == "orion-drive" and got["categories"] == list(CATEGORIES)
    [entry] = got["entries"]
    assert set(entry) == ENTRY_KEYS
    assert (entry["value"], entry["source"], entry["confidence"], entry["status"]) == (
        "EM-1 TVAC complete", "tvac debrief", 0.9, "active")


def test_aliases_resolve_to_the_canonical_project(state):
    state.set("ODU", "decision", "lubricant", "Braycote 601EF")
    state.set("orion", "decision", "lubricant", "Braycote 601EF (PFPE)")
    assert {r.project for r in ProjectState.select()} == {"orion-drive"}
    for name in ("orion-drive", "odu", "Orion", "odu-100"):
        got = state.get(name)
        assert got["project"] == "orion-drive"
        assert [e["value"] for e in got["entries"]] == ["Braycote 601EF (PFPE)"]
    assert state.history("ODU", "decision", "lubricant")["project"] == "orion-drive"


def test_setting_a_key_again_supersedes_and_keeps_history(state):
    first = state.set("coldplate", "requirement", "max-dT", "5 K")
    second = state.set("cp", "requirement", "MAX-dT", "4 K", source="customer review")
    third = state.set("coldplate", "requirement", "max-dt", "3.5 K")
    assert second["status"] == "updated" and second["superseded"] == first["id"]
    assert third["superseded"] == second["id"]
    active = ProjectState.select().where(ProjectState.status == "active")
    assert [r.value for r in active] == ["3.5 K"]
    history = state.history("coldplate", "requirement", "max-dt")
    assert [e["value"] for e in history["entries"]] == ["3.5 K", "4 K", "5 K"]
    assert [e["status"] for e in history["entries"]] == ["active", "superseded", "superseded"]
    everything = state.get("coldplate", include_superseded=True)["entries"]
    assert len(everything) == 3 and len(state.get("coldplate")["entries"]) == 1


def test_setting_the_same_value_again_changes_nothing(state):
    first = state.set("coldplate", "note", "supplier", "Alveo Thermal")
    before = rows()
    again = state.set("coldplate", "note", "supplier", "  Alveo Thermal ")
    assert again == {"status": "unchanged", "id": first["id"], "category": "note", "key": "supplier"}
    assert rows() == before


def test_get_filters_by_category_and_orders_by_category_then_key(state):
    for category in reversed(CATEGORIES):
        state.set("coldplate", category, "b-key", f"{category} b")
        state.set("coldplate", category, "a-key", f"{category} a")
    entries = state.get("coldplate")["entries"]
    assert [(e["category"], e["key"]) for e in entries][:3] == [("status", "a-key"), ("status", "b-key"),
                                                                ("decision", "a-key")]
    risk = state.get("coldplate", category="Risk")["entries"]
    assert {e["category"] for e in risk} == {"risk"} and len(risk) == 2


def test_invalidate_marks_superseded_and_keeps_history(state):
    created = state.set("coldplate", "milestone", "b-sample", "2026-06")
    result = state.invalidate("cp", "milestone", "B-Sample")
    assert result == {"status": "invalidated", "id": created["id"], "project": "coldplate",
                      "category": "milestone", "key": "b-sample"}
    assert state.get("coldplate")["entries"] == []
    assert [e["status"] for e in state.history("coldplate", "milestone", "b-sample")["entries"]] == ["superseded"]
    before = rows()
    with pytest.raises(NotFound, match="no active state milestone/b-sample"):
        state.invalidate("coldplate", "milestone", "b-sample")
    assert rows() == before


def test_a_project_named_only_by_documents_is_known(engine):
    vault = engine.projects.sources()["vault"]
    write(vault / "misc" / "bench.md", "---\nproject: test-bench\n---\n# Bench\n\nthe rig\n")
    engine.ingest(vault / "misc")
    assert engine.state.set("Test-Bench", "contact", "owner", "Ana")["status"] == "created"
    assert engine.state.get("test-bench")["entries"][0]["project"] == "test-bench"


@pytest.mark.parametrize("call, error, message", [
    (("nope", "status", "k", "v"), NotFound, "unknown project: nope"),
    (("  ", "status", "k", "v"), ValidationError, "project must not be blank"),
    (("coldplate", "bogus", "k", "v"), ValidationError, "unknown state category 'bogus'"),
    (("coldplate", "", "k", "v"), ValidationError, "unknown state category"),
    (("coldplate", "status", "   ", "v"), ValidationError, "key must not be blank"),
    (("coldplate", "status", "k", ""), ValidationError, "value must not be blank"),
    (("coldplate", "status", "k", None), ValidationError, "value must be text"),
    (("coldplate", "status", "k" * 201, "v"), ValidationError, "key must be at most 200"),
])
def test_bad_set_is_refused_and_nothing_is_written(state, call, error, message):
    state.set("coldplate", "status", "k", "existing")
    before = rows()
    with pytest.raises(error, match=message):
        state.set(*call)
    assert rows() == before


@pytest.mark.parametrize("confidence", [-0.1, 1.5, "abc", True, float("nan"), None])
def test_confidence_outside_zero_to_one_is_refused(state, confidence):
    state.set("coldplate", "status", "k", "existing")
    before = rows()
    with pytest.raises(ValidationError, match="confidence must be"):
        state.set("coldplate", "status", "k", "new", confidence=confidence)
    assert rows() == before


def test_confidence_bounds_and_text_numbers_are_accepted(state):
    assert state.set("coldplate", "risk", "a", "x", confidence=0)["status"] == "created"
    assert state.set("coldplate", "risk", "b", "x", confidence="1")["status"] == "created"
    assert {e["confidence"] for e in state.get("coldplate")["entries"]} == {0.0, 1.0}


def test_bad_reads_are_specific(state):
    with pytest.raises(NotFound):
        state.get("nope")
    with pytest.raises(ValidationError, match="unknown state category"):
        state.get("coldplate", category="bogus")
    with pytest.raises(NotFound, match="no state status/phase"):
        state.history("coldplate", "status", "phase")
    with pytest.raises(NotFound):
        state.invalidate("nope", "status", "phase")
    with pytest.raises(ValidationError):
        state.invalidate("coldplate", "bogus", "phase")
    assert ProjectState.select().count() == 0


# --------------------------------------------------------------------- CLI
def test_cli_state_commands(tmp_path, vault, capsys):
    base = ["--data-dir", str(tmp_path / "data"), "--vault", str(vault)]

    def cli(*args):
        return main([*base, *args])

    assert cli("ingest", "--json") == 0
    capsys.readouterr()
    assert cli("state", "set", "odu", "status", "phase", "EM-1", "--source", "pdr", "--confidence", "0.8",
               "--json") == 0
    created = json.loads(capsys.readouterr().out)
    assert created["status"] == "created" and created["category"] == "status"
    assert cli("state", "set", "orion", "status", "phase", "EM-2") == 0
    assert "updated status/phase" in capsys.readouterr().out
    assert cli("state", "get", "orion-drive", "--json") == 0
    got = json.loads(capsys.readouterr().out)
    assert got["project"] == "orion-drive" and [e["value"] for e in got["entries"]] == ["EM-2"]
    assert cli("state", "get", "odu", "--category", "status", "--all", "--json") == 0
    assert len(json.loads(capsys.readouterr().out)["entries"]) == 2
    assert cli("state", "get", "odu") == 0 and "EM-2" in capsys.readouterr().out
    assert cli("state", "history", "odu", "status", "phase", "--json") == 0
    assert [e["value"] for e in json.loads(capsys.readouterr().out)["entries"]] == ["EM-2", "EM-1"]
    assert cli("state", "history", "odu", "status", "phase") == 0 and "superseded" in capsys.readouterr().out
    assert cli("state", "invalidate", "odu", "status", "phase", "--json") == 0
    assert json.loads(capsys.readouterr().out)["status"] == "invalidated"
    assert cli("state", "get", "odu") == 0 and "no state" in capsys.readouterr().out
    assert cli("state", "invalidate", "odu", "status", "phase") == 3
    assert cli("state", "set", "odu", "bogus", "k", "v") == 2
    assert "unknown state category" in capsys.readouterr().err
    assert cli("state", "set", "odu", "status", "k", "v", "--confidence", "1.5") == 2
    assert cli("state", "set", "nope", "status", "k", "v") == 3
    assert "unknown project" in capsys.readouterr().err
