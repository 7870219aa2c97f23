"""What the faces ask the engine for instead of reading the store (issue 13):
row counts per table and the command palette's items."""

from __future__ import annotations

import pytest

from atocore_tui.errors import ValidationError
from atocore_tui.store import MODELS
from atocore_tui.store.models import Project


def test_table_counts_name_every_table(engine):
    engine.ingest()
    counts = engine.table_counts()
    assert set(counts) == {model._meta.table_name for model in MODELS}
    assert counts["document"] == engine.status()["documents"] > 0
    assert counts["chunk"] == engine.status()["chunks"]


def test_palette_items_offer_live_memories_and_entities(engine):
    Project.create(id="p1")
    live = engine.memories.create("knowledge", "The pump runs at 3 bar", project="p1")
    gone = engine.memories.create("knowledge", "The pump runs at 9 bar", project="p1")
    engine.memories.invalidate(gone.id)
    kept = engine.graph.create_entity("p1", "Component", "Pump")
    old = engine.graph.create_entity("p1", "Component", "Old pump")
    engine.graph.supersede(old["id"])

    memories = engine.palette_items("memory")
    assert [(title, item) for title, _, item in memories] == [("Memory: The pump runs at 3 bar", live.id)]
    assert "knowledge" in memories[0][1]
    assert engine.palette_items("entity") == [("Entity: Pump", "component · p1", kept["id"])]
    with pytest.raises(ValidationError):
        engine.palette_items("chunk")  # type: ignore[arg-type]
