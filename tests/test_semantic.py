"""The semantic model, its background pass, and hybrid ranking with it."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest
from filelock import FileLock

from atocore_tui.config import load_settings
from atocore_tui.engine import Engine
from atocore_tui.errors import ConfigError, ValidationError
from atocore_tui.search.semantic import SemanticEncoder
from atocore_tui.search.semantic_pass import text_hash
from atocore_tui.store import Chunk

from .conftest import ROOT, make_settings, write


def test_the_semantic_model_loads_after_the_index():
    """onnxruntime loaded after usearch's compiled module breaks (a crash or a
    refused graph): the index module loads it first. A fresh interpreter
    that imports the index before the model shows it holds."""
    script = textwrap.dedent("""
        import atocore_tui.search.index
        from atocore_tui.search.semantic import SemanticEncoder
        v = SemanticEncoder().encode(["the pump seal leaks", "fluid escapes past the pump gasket",
                                      "the quarterly budget review"])
        print(round(float(v[0] @ v[1]), 3), round(float(v[0] @ v[2]), 3))
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    related, unrelated = map(float, done.stdout.split())
    assert related > unrelated + 0.2


def test_vectors_are_unit_length_in_input_order_and_batch_independent():
    encoder = SemanticEncoder()
    texts = ["short", "a much longer sentence about thermal vacuum testing of the drive " * 5, "", "mid length text"]
    together = encoder.encode(texts)
    alone = np.stack([encoder.encode([t])[0] for t in texts])
    assert together.shape == (4, 384)
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-4)
    assert np.allclose(together, alone, atol=1e-4)
    assert encoder.encode([]).shape == (0, 384)


def test_a_missing_model_folder_is_a_model_error(tmp_path):
    from atocore_tui.errors import ModelError

    with pytest.raises(ModelError, match="lacks model.onnx"):
        SemanticEncoder(tmp_path).encode(["x"])


def _chunk_hashes() -> dict[int, int]:
    return {int(k): text_hash(h) for k, h in Chunk.select(Chunk.key, Chunk.content_hash).tuples()}


def test_the_pass_covers_every_chunk_once_and_matches_the_database(engine):
    engine.ingest()
    total = Chunk.select().count()
    assert engine.semantic_progress()["covered"] == 0
    assert engine.semantic_pass() == total
    progress = engine.semantic_progress()
    assert progress["covered"] == progress["total"] == total and progress["complete"]
    assert engine.semantic_pass() == 0  # nothing left to do
    assert engine.semantic.covered == _chunk_hashes()
    assert len(engine.semantic.index) == total
    # a fresh engine on the same data dir reads what was saved
    other = Engine(engine.settings)
    assert other.semantic_progress()["covered"] == total
    assert other.semantic_pass() == 0
    engine.activate()


def test_a_changed_note_is_encoded_again_and_only_it(engine, vault):
    engine.ingest()
    engine.semantic_pass()
    note = vault / "knowledge" / "bolted-joint-preload.md"
    note.write_text(note.read_text(encoding="utf-8") + "\n\nAdded: the new paragraph about cable ties.\n",
                    encoding="utf-8")
    engine.ingest()
    changed = sum(1 for k, h in _chunk_hashes().items() if engine.semantic.covered.get(k) != h)
    assert changed >= 1
    assert engine.semantic_pass() == changed
    assert engine.semantic.covered == _chunk_hashes()


def test_ingestion_is_never_blocked_by_a_pass(engine, vault):
    """Another process's pass holds the semantic lock: ingestion goes on, and
    a second pass here steps aside instead of waiting."""
    (engine.data_dir / "index").mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(engine.data_dir / "index" / "semantic.lock"))
    with lock:
        report = engine.ingest()
        assert report.chunks_added > 0
        assert Chunk.select().count() == report.chunks_added
        assert engine.semantic_pass() == 0


def test_a_background_pass_runs_beside_ingestion_and_covers_what_came_during_it(engine, vault):
    engine.ingest()
    assert not engine.start_semantic_pass()  # semantic_background is off in tests
    assert engine.semantic.start()
    assert not engine.semantic.start()  # one at a time
    write(vault / "knowledge" / "late.md", "# Late note\n\nWritten while the pass was running.\n")
    engine.ingest()  # not blocked; its chunk comes after the running round's snapshot
    engine.semantic.wait(180)
    assert not engine.semantic.running
    assert engine.semantic.covered == _chunk_hashes()  # the next round took it


RESUME_SCRIPT = """
import os, signal, sys
from pathlib import Path
from atocore_tui.config import load_settings
from atocore_tui.engine import Engine
engine = Engine(load_settings(env={}, overrides={"data_dir": Path(sys.argv[1]), "sources.vault": Path(sys.argv[2])}))
seen = []
def progress(done, total, what):
    seen.append(done)
    if len(seen) == 4:
        os.kill(os.getpid(), signal.SIGKILL)
engine.semantic.run(progress, save_every=0.0)
"""


def test_the_pass_resumes_after_a_kill(tmp_path):
    vault = tmp_path / "vault"
    for i in range(150):
        write(vault / f"n{i:03}.md", f"# Note {i}\n\nMeasurement {i} of the valve leak rate at {i} bar.\n")
    settings = make_settings(tmp_path / "data", vault)
    engine = Engine(settings)
    engine.ingest()
    total = Chunk.select().count()
    done = subprocess.run([sys.executable, "-c", RESUME_SCRIPT, str(tmp_path / "data"), str(vault)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == -9, done.stderr[-2000:]
    resumed = Engine(settings)
    saved = resumed.semantic_progress()["covered"]
    assert 0 < saved < total
    assert resumed.semantic_pass() == total - saved
    assert resumed.semantic.covered == _chunk_hashes()
    resumed.close()
    engine.close()


@pytest.fixture
def hand_made(tmp_path):
    """Notes where only meaning finds one answer and only exact words the other."""
    vault = tmp_path / "v"
    notes = {
        "cooling.md": "# Motor thermal protection\n\nThe drive motor has a thermistor in its windings; "
                      "above 130 C the controller cuts current so the coils do not burn out.",
        "fasteners.md": "# Fasteners\n\nUse M6 A4-70 bolts for the housing lid, torque 9 Nm.",
        "budget.md": "# Budget\n\nThe quarterly review moved the test campaign budget to Q3.",
        "seals.md": "# Seals\n\nThe pump seal is FKM; replace it at every overhaul.",
        "paint.md": "# Paint\n\nThe enclosure is painted RAL 7035 light grey.",
        "parts.md": "# Part numbers\n\nThe spare gasket is part ODU-GSK-0042, kept in bin 7.",
    }
    for name, text in notes.items():
        write(vault / name, text + "\n")
    engine = Engine(make_settings(tmp_path / "data", vault))
    engine.ingest()
    yield engine
    engine.close()


def test_meaning_and_exact_words_both_rank_first_once_semantic_vectors_exist(hand_made):
    engine = hand_made
    engine.semantic_pass()
    hits = engine.query("how do we keep the engine from overheating", 3)
    assert hits[0].source_file == "cooling.md"
    assert hits[0].semantic_rank == 1
    hits = engine.query("ODU-GSK-0042", 3)
    assert hits[0].source_file == "parts.md"
    assert hits[0].lexical_rank == 1


def test_a_stale_semantic_vector_is_not_used(hand_made, tmp_path):
    """A chunk rewritten since the pass keeps its key; its old vector must not
    speak for its new text."""
    engine = hand_made
    engine.semantic_pass()
    assert engine.query("how do we keep the engine from overheating", 1)[0].source_file == "cooling.md"
    write(tmp_path / "v" / "cooling.md", "# Motor thermal protection\n\nThe lid is painted blue.\n")
    engine.ingest()
    hits = engine.query("how do we keep the engine from overheating", 6)
    assert hits[0].source_file != "cooling.md"  # no longer ranked by its old meaning
    engine.semantic_pass()
    assert engine.query("the lid is blue", 1)[0].source_file == "cooling.md"


@pytest.mark.parametrize("prompt", [
    "the and of to",                    # only stop words
    "?!... --- ###",                    # only punctuation
    "Wie wählt man das Gehäusematerial?",
    "外壳材料是什么",
    "housing " * 20_000,                # a pasted page
    "\"unbalanced quote (paren *star",
])
def test_odd_queries_answer_without_crashing(hand_made, prompt):
    hand_made.semantic_pass()
    hits = hand_made.query(prompt, 5)
    assert isinstance(hits, list) and len(hits) <= 5


def test_a_blank_query_is_a_clear_error(hand_made):
    with pytest.raises(ValidationError, match="blank"):
        hand_made.query("   ", 5)


@pytest.mark.parametrize("value", ["1.5", "-0.1", ".nan"])
def test_lexical_weight_must_lie_in_the_unit_interval(tmp_path, value):
    config = tmp_path / "c.yaml"
    config.write_text(f"retrieval:\n  lexical_weight: {value}\n")
    with pytest.raises(ConfigError, match="lexical_weight"):
        load_settings(config, env={})


def test_semantic_off_never_loads_the_model(tmp_path):
    vault = tmp_path / "v"
    write(vault / "a.md", "# A\n\nsome text about valves\n")
    engine = Engine(make_settings(tmp_path / "data", vault, **{"retrieval.semantic": False}))
    engine.ingest()
    assert engine.semantic_pass() == 0
    assert engine.query("valves", 1)[0].source_file == "a.md"
    assert not engine.semantic.encoder.loaded
    assert engine.semantic_progress() == {"enabled": False}
    engine.close()


def test_a_query_during_a_pass_is_answered(hand_made):
    started = threading.Event()

    def slow_progress(done, total, what):
        started.set()

    runner = threading.Thread(target=hand_made.semantic_pass, args=(slow_progress,))
    runner.start()
    started.wait(60)
    assert hand_made.query("pump seal material", 3)
    runner.join(120)


def test_the_server_reports_semantic_progress_and_starts_a_pass_after_ingesting(tmp_path):
    from fastapi.testclient import TestClient

    from atocore_tui.server.app import create_app

    vault = tmp_path / "v"
    write(vault / "a.md", "# Pump seal\n\nThe pump seal is FKM.\n")
    engine = Engine(make_settings(tmp_path / "data", vault, **{"retrieval.semantic_background": True}))
    client = TestClient(create_app(engine).api)
    assert client.get("/health").json()["semantic"]["covered"] == 0
    assert client.post("/ingest/sources").status_code == 200
    engine.semantic.wait(120)
    semantic = client.get("/health").json()["semantic"]
    assert semantic == {**semantic, "covered": 1, "total": 1, "complete": True, "running": False}
    engine.close()


def test_once_the_pass_is_complete_the_static_model_steps_aside_until_the_next_change(hand_made, tmp_path):
    engine = hand_made
    from atocore_tui.search.vectors import chunks_version

    assert not engine.semantic.complete(chunks_version())
    engine.semantic_pass()
    assert engine.semantic.complete(chunks_version())
    assert all(h.vector_rank is None and h.semantic_rank for h in engine.query("pump seal", 3))
    write(tmp_path / "v" / "new.md", "# New\n\nA pump seal note written after the pass.\n")
    engine.ingest()
    assert not engine.semantic.complete(chunks_version())
    hits = engine.query("pump seal", 3)
    assert any(h.vector_rank for h in hits)  # the static model stands in for the new chunk
    assert Engine(engine.settings).semantic.complete(chunks_version()) is False
    engine.activate()


def test_no_background_pass_starts_when_the_vectors_are_complete(tmp_path):
    vault = tmp_path / "v"
    write(vault / "a.md", "# A\n\nThe pump seal is FKM.\n")
    engine = Engine(make_settings(tmp_path / "data", vault, **{"retrieval.semantic_background": True}))
    engine.ingest()
    engine.semantic_pass()
    assert not engine.start_semantic_pass()  # nothing missing: no thread
    write(vault / "b.md", "# B\n\nThe motor has a thermistor.\n")
    engine.ingest()
    assert engine.start_semantic_pass()
    engine.semantic.wait(120)
    assert engine.semantic_progress()["complete"]
    engine.close()
