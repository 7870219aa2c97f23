"""The shared checks (atocore_tui.validation), ValidationError's field, and the
StrEnums whose values the database and the JSON answers carry."""

from __future__ import annotations

import json

import pytest

from atocore_tui import validation
from atocore_tui.errors import ValidationError
from atocore_tui.memory.review import ORDERS, ReviewOrder
from atocore_tui.memory.service import (
    MEMORY_STATUSES,
    MEMORY_TYPES,
    MemoryStatus,
    MemoryType,
    list_answer,
    validate_limit,
)
from atocore_tui.projects.state import CATEGORIES, StateCategory
from atocore_tui.store.models import Memory, ProjectState


# ------------------------------------------------------------------ whole_number
@pytest.mark.parametrize("value", [1, 7, 10])
def test_whole_number_accepts_the_range_inclusive(value):
    assert validation.whole_number(value, "limit", 1, 10) == value


@pytest.mark.parametrize("value", [0, 11, -1, True, False, 2.0, "3", None])
def test_whole_number_refuses_out_of_range_booleans_floats_and_text(value):
    with pytest.raises(ValidationError, match=r"^limit must be a whole number from 1 to 10, got ") as caught:
        validation.whole_number(value, "limit", 1, 10, field="limit")
    assert caught.value.field == "limit"


def test_whole_number_can_leave_the_value_out_of_the_message():
    with pytest.raises(ValidationError) as caught:
        validation.whole_number(0, "top_k", 1, 5, show_value=False)
    assert str(caught.value) == "top_k must be a whole number from 1 to 5"


def test_memory_limits_go_through_whole_number():
    assert validate_limit(500) == 500
    with pytest.raises(ValidationError, match="limit must be a whole number from 1 to 500, got 501"):
        validate_limit(501)


# ------------------------------------------------------------------ text
def test_text_trims_and_refuses_blank_or_non_text():
    assert validation.text("  a note  ", "note") == "a note"
    for bad in ("", "   ", None, 3, ["x"]):
        with pytest.raises(ValidationError, match="^note must not be blank$"):
            validation.text(bad, "note")


def test_text_bounds_its_length():
    assert validation.text(" abc ", "key", max_chars=3) == "abc"
    with pytest.raises(ValidationError, match="^key is 4 characters; the limit is 3$") as caught:
        validation.text("abcd", "key", max_chars=3, field="key")
    assert caught.value.field == "key"


def test_text_reads_numbers_as_text_when_asked():
    assert validation.text(42, "value", numbers=True) == "42"
    assert validation.text(2.5, "value", numbers=True) == "2.5"
    for bad in (None, True, ["x"]):
        with pytest.raises(ValidationError, match="^value must be text$"):
            validation.text(bad, "value", numbers=True)
    with pytest.raises(ValidationError, match="^value must not be blank$"):
        validation.text("  ", "value", numbers=True)


# ------------------------------------------------------------------ one_of
def test_one_of_matches_without_case_or_space_and_returns_a_plain_string():
    chosen = validation.one_of(" Active ", MemoryStatus, "memory status")
    assert chosen == "active" and type(chosen) is str


def test_one_of_names_the_choices():
    with pytest.raises(ValidationError) as caught:
        validation.one_of("done", ("open", "closed"), "state", field="state")
    assert str(caught.value) == "unknown state 'done': use one of open, closed"
    assert caught.value.field == "state"
    with pytest.raises(ValidationError, match="unknown state None"):
        validation.one_of(None, ("open",), "state")


# ------------------------------------------------------------------ ValidationError
def test_validation_error_takes_a_field_and_keeps_it_settable():
    assert ValidationError("bad").field is None
    error = ValidationError("bad", field="content")
    assert (str(error), error.field) == ("bad", "content")
    error.field = "confidence"  # faces that learn the field later may still set it
    assert error.field == "confidence"


# ------------------------------------------------------------------ StrEnums
def test_the_enums_keep_the_stored_and_answered_values():
    assert MEMORY_TYPES == tuple(MemoryType) == ("identity", "preference", "project", "knowledge", "episodic",
                                                 "adaptation")
    assert MEMORY_STATUSES == tuple(MemoryStatus) == ("candidate", "active", "superseded", "invalid", "graduated")
    assert CATEGORIES == tuple(StateCategory) == ("status", "decision", "requirement", "milestone", "risk",
                                                  "contact", "config", "note")
    assert ORDERS == tuple(ReviewOrder) == ("oldest", "evidence")
    assert all(type(name) is str for name in (*MEMORY_TYPES, *MEMORY_STATUSES, *CATEGORIES, *ORDERS))
    assert json.dumps(list_answer([])) == json.dumps({"memories": [], "types": list(MEMORY_TYPES)})


def test_the_database_stores_plain_status_strings(mem):
    record = mem.memories.create("project", "ODU housing is 7075-T6", project="orion-drive")
    mem.memories.invalidate(record.id)
    mem.state.set("orion-drive", "Status", "phase", "EVT")
    rows = Memory._meta.database.execute_sql("SELECT status, memory_type FROM memory").fetchall()
    assert rows == [("invalid", "project")]
    assert ProjectState.get().status == "active" and type(ProjectState.get().status) is str


# ------------------------------------------------------------------ old names
def test_list_methods_have_new_names_and_keep_the_old_ones(mem):
    record = mem.memories.create("knowledge", "PFPE greases outgas little", status="candidate")
    assert mem.memories.list(status="candidate") == mem.memories.list_memories(status="candidate") != []
    old = [item.memory.id for item in mem.review.list()]
    assert old == [item.memory.id for item in mem.review.list_candidates()] == [record.id]
    assert mem.projects.list() == mem.projects.list_projects()


def test_memory_checks_name_their_field():
    from atocore_tui.memory.service import (
        validate_actor,
        validate_confidence,
        validate_content,
        validate_memory_type,
        validate_status,
    )

    for check, bad, field in ((validate_content, " ", "content"), (validate_memory_type, "fact", "memory_type"),
                              (validate_status, "done", "status"), (validate_confidence, 2, "confidence"),
                              (validate_limit, 0, "limit"), (validate_actor, "", "actor")):
        with pytest.raises(ValidationError) as caught:
            check(bad)
        assert caught.value.field == field, check.__name__
