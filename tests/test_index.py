import json

import pytest

from atocore_tui.engine import Engine
from atocore_tui.errors import ModelError
from atocore_tui.search.embedding import BUNDLED_MODEL, Embedder
from atocore_tui.store import Chunk, bump_counter

from .conftest import make_settings, write

QUESTION = "thermal vacuum test of the drive unit"


def answer(engine):
    return [(h.chunk_id, h.score) for h in engine.query(QUESTION, 8)]


def reopen(engine):
    settings = engine.settings
    engine.close()
    return Engine(settings)


def test_missing_index_is_rebuilt_with_the_same_answers(engine):
    engine.ingest()
    before = answer(engine)
    path = engine.vectors.index.path
    engine = reopen(engine)
    try:
        path.unlink()
        assert answer(engine) == before
        assert engine.vectors.last_rebuild == "index file missing"
        assert path.exists()
        assert len(engine.vectors.index) == Chunk.select().count()
    finally:
        engine.close()


@pytest.mark.parametrize("garbage", [b"", b"garbage" * 100, b"\x00" * 4096])
def test_corrupt_index_is_rebuilt(engine, garbage):
    engine.ingest()
    before = answer(engine)
    path = engine.vectors.index.path
    engine = reopen(engine)
    try:
        path.write_bytes(garbage)
        assert answer(engine) == before
        assert engine.vectors.last_rebuild is not None
        assert path.stat().st_size > 1000
    finally:
        engine.close()


def test_index_built_by_another_model_is_rebuilt(engine):
    engine.ingest()
    before = answer(engine)
    sidecar = engine.vectors.index.meta_path
    engine = reopen(engine)
    try:
        meta = json.loads(sidecar.read_text())
        meta["model"], meta["fingerprint"] = "other-model", "0" * 16
        sidecar.write_text(json.dumps(meta))
        assert answer(engine) == before
        assert "another model" in engine.vectors.last_rebuild
        assert json.loads(sidecar.read_text())["model"] == "bundled:minilm-l6-m2v-256"
    finally:
        engine.close()


def test_index_behind_the_store_is_rebuilt(engine):
    """A crash after the commit and before the index save leaves the index behind."""
    engine.ingest()
    with engine.db.atomic():
        bump_counter("chunks_version")
    engine = reopen(engine)
    try:
        answer(engine)
        assert "store is at" in engine.vectors.last_rebuild
    finally:
        engine.close()


def test_reader_process_sees_chunks_another_process_ingested(tmp_path, vault):
    """The workstation and the server share a data dir: a reader reloads the
    index that the writer saved, it does not rebuild it."""
    import subprocess
    import sys

    def ingest_in_another_process():
        subprocess.run([sys.executable, "-m", "atocore_tui.cli", "--data-dir", str(tmp_path / "d"),
                        "--vault", str(vault), "ingest", "--json"], check=True, capture_output=True,
                       timeout=120)

    ingest_in_another_process()
    reader = Engine(make_settings(tmp_path / "d", vault))
    try:
        assert answer(reader)  # loads the saved index
        loaded_at = reader.vectors.index._seen_mtime_ns
        write(vault / "personal" / "new-fact.md",
              "# Anodizing note\n\nHard anodize type III on 6061 adds 25 micrometres per side.\n")
        ingest_in_another_process()
        hits = reader.query("hard anodize type III thickness per side", 3)
        assert hits[0].source_file == "personal/new-fact.md"
        assert hits[0].vector_rank is not None  # the vector came from the reloaded index
        assert reader.vectors.index._seen_mtime_ns != loaded_at
        assert reader.vectors.last_rebuild is None
    finally:
        reader.close()


def test_index_dtype_is_f16_and_records_its_builder(engine):
    engine.ingest()
    meta = engine.vectors.index.read_meta()
    assert meta.dtype == "f16" and meta.ndim == 256
    assert meta.count == Chunk.select().count()


def test_bundled_model_loads_offline_and_embeds():
    embedder = Embedder()
    vectors = embedder.encode(["the gearbox overheated during the test",
                               "thermal failure of the gear reducer in testing",
                               "I prefer concise answers"])
    assert vectors.shape == (3, 256)
    assert abs(float((vectors[0] ** 2).sum()) - 1.0) < 1e-4
    assert float(vectors[0] @ vectors[1]) > float(vectors[0] @ vectors[2])
    assert (BUNDLED_MODEL / "LICENSE").exists()


def test_configured_model_folder_replaces_the_bundled_one(tmp_path):
    import shutil

    copy = tmp_path / "my-model"
    shutil.copytree(BUNDLED_MODEL, copy)
    embedder = Embedder(str(copy))
    assert embedder.encode(["x"]).shape == (1, 256)
    assert embedder.name == str(copy)


@pytest.mark.parametrize("reference, message", [
    ("/no/such/model", "embedding model folder not found"),
    ("./missing-model", "embedding model folder not found"),
    ("minishlab/potion-base-8M", "allow_download"),
])
def test_missing_model_folder_is_a_clear_error(reference, message):
    with pytest.raises(ModelError, match=message):
        Embedder(reference)


def test_incomplete_model_folder_is_a_clear_error(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ModelError, match="lacks"):
        Embedder(str(tmp_path))


def test_graph_is_built_cheaply_while_searches_scan_and_rebuilt_past_exact_below(tmp_path):
    """Below exact_below every search is exact, so the graph is built with little
    effort; crossing it rebuilds the graph with the configured effort, keeping
    every vector, and a saved cheap graph opened under a lower exact_below is
    rebuilt too."""
    import numpy as np

    from atocore_tui.search.index import SCAN_EXPANSION_ADD, VectorIndex

    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(120, 16)).astype(np.float32)
    index = VectorIndex(tmp_path, "t", expansion_add=128, exact_below=100)
    index.reset("m", "f", 16)
    index.add(np.arange(60, dtype=np.uint64), vectors[:60])
    assert index.index.expansion_add == SCAN_EXPANSION_ADD
    index.save(1)
    assert index.read_meta().expansion_add == SCAN_EXPANSION_ADD
    index.add(np.arange(60, 120, dtype=np.uint64), vectors[60:])
    assert index.index.expansion_add == 128 and len(index) == 120
    for key in (0, 59, 60, 119):  # each vector is still there, under its key
        assert index.search(vectors[key], 1)[0][0] == key
    index.save(2)
    assert index.read_meta().expansion_add == 128

    small = VectorIndex(tmp_path, "s", expansion_add=128, exact_below=100)
    small.reset("m", "f", 16)
    small.add(np.arange(60, dtype=np.uint64), vectors[:60])
    small.save(1)
    reopened = VectorIndex(tmp_path, "s", expansion_add=128, exact_below=100)
    assert reopened.open("m", "f", 16) is None and reopened.index.expansion_add == SCAN_EXPANSION_ADD
    lowered = VectorIndex(tmp_path, "s", expansion_add=128, exact_below=50)
    assert lowered.open("m", "f", 16) is None and lowered.index.expansion_add == 128
    assert len(lowered) == 60 and lowered.search(vectors[7], 1)[0][0] == 7


def test_bundled_model_loads_as_model2vec_loads_it():
    """The engine reads a model folder itself (without the hub client); the
    vectors must be those of model2vec's own loader."""
    import numpy as np
    from model2vec import StaticModel

    texts = ["Gearbox backlash after TVAC", "Ti-6Al-4V bracket", "", "x" * 3000]
    ours = Embedder().load()
    theirs = StaticModel.from_pretrained(str(BUNDLED_MODEL), force_download=False)
    assert ours.normalize == theirs.normalize and ours.max_length == theirs.max_length
    assert np.array_equal(ours.encode(texts), theirs.encode(texts))
