
import pytest
import yaml

from atocore_tui.engine import Engine
from atocore_tui.errors import NotFound, ValidationError

from .conftest import DATA, make_settings, write

SAMPLE_QUERIES = yaml.safe_load((DATA / "sample_queries.yaml").read_text(encoding="utf-8"))


def test_there_are_enough_sample_questions():
    assert len(SAMPLE_QUERIES) >= 10


@pytest.mark.parametrize("case", SAMPLE_QUERIES, ids=[c["query"][:40] for c in SAMPLE_QUERIES])
def test_sample_vault_questions_find_the_expected_notes(sample_engine, case):
    hits = sample_engine.query(case["query"], 5, project=case.get("project"))
    found = [h.source_file for h in hits]
    assert any(expected in found for expected in case["expect"]), found


def test_hit_fields(sample_engine):
    hit = sample_engine.query("thermal vacuum test", 1)[0]
    assert len(hit.chunk_id) == 16 and hit.content and hit.title
    assert 0 < hit.score <= 1
    assert hit.source == "vault" and hit.source_file.endswith((".md", ".markdown", ".txt"))
    assert hit.line_start >= 1 and hit.line_end >= hit.line_start


@pytest.fixture
def small(tmp_path):
    vault = tmp_path / "v"
    write(vault / "alpha" / "seal.md", "---\nproject: alpha\ntags: [seals]\n---\n# Seal\n\n"
          "The lip seal on the output shaft uses PTFE with a stainless spring.\n")
    write(vault / "beta" / "seal.md", "---\nproject: beta\n---\n# Seal\n\n"
          "The lip seal on the pump shaft uses FKM with a carbon steel spring.\n")
    write(vault / "beta" / "copy-one.md", "# Copy\n\nBolt preload for M6 A4-70 is 6.5 kN at 0.12 friction.\n")
    write(vault / "beta" / "copy-two.md", "# Copy\n\nBolt preload for M6 A4-70 is 6.5 kN at 0.12 friction.\n")
    write(vault / "notes" / "misc.md", "# Misc\n\nAn unrelated note on coffee grinders #kitchen.\n")
    engine = Engine(make_settings(tmp_path / "d", vault))
    engine.ingest()
    yield engine
    engine.close()


def test_project_hint_boosts_that_projects_chunks(small):
    plain = small.query("lip seal shaft spring", 2)
    assert {h.project for h in plain} == {"alpha", "beta"}
    assert small.query("lip seal shaft spring", 2, project="beta")[0].project == "beta"
    assert small.query("lip seal shaft spring", 2, project="alpha")[0].project == "alpha"


def test_only_project_filters(small):
    hits = small.query("seal", 10, project="alpha", only_project=True)
    assert hits and {h.project for h in hits} == {"alpha"}


def test_tag_filter_keeps_only_tagged_chunks(small):
    hits = small.query("seal spring", 10, tags=["SEALS"])
    assert [h.source_file for h in hits] == ["alpha/seal.md"]
    assert [h.source_file for h in small.query("coffee", 5, tags=["#kitchen"])] == ["notes/misc.md"]
    assert small.query("seal", 5, tags=["nothing-has-this"]) == []


def test_identical_chunks_are_returned_once(small):
    hits = small.query("bolt preload M6 A4-70", 5)
    copies = [h for h in hits if h.source_file.startswith("beta/copy-")]
    assert len(copies) == 1


def test_lexical_only_words_still_found_when_vectors_disagree(small):
    hit = small.query("FKM", 1)[0]
    assert hit.source_file == "beta/seal.md" and hit.lexical_rank == 1


def test_bad_queries(small):
    with pytest.raises(ValidationError):
        small.query("")
    with pytest.raises(ValidationError):
        small.query("x", 0)
    with pytest.raises(ValidationError):
        small.query("x", 10_000)
    with pytest.raises(NotFound):
        small.query("seal", 3, project="gamma")
    hits = small.query("the and of", 3)  # stopwords only: no lexical terms, vectors still answer
    assert hits and all(h.lexical_rank is None and h.vector_rank for h in hits)


def test_empty_store_answers_nothing(tmp_path):
    engine = Engine(make_settings(tmp_path / "d", tmp_path))
    try:
        assert engine.query("anything at all", 5) == []
    finally:
        engine.close()


def test_chunks_by_id_with_their_source(small):
    hit = small.query("FKM", 1)[0]
    found = small.chunks([hit.chunk_id, "not-hex", "f" * 40, "0" * 16])
    assert list(found) == [hit.chunk_id]
    assert found[hit.chunk_id]["path"] == "beta/seal.md" and "FKM" in found[hit.chunk_id]["content"]


@pytest.fixture
def stems(tmp_path):
    vault = tmp_path / "v"
    for i, line in enumerate(["We are testing the pump seal.", "The pump seal was tested cold.",
                              "Two pump tests remain open.", "Tests of the pump rig are due.",
                              "Still testin the pump rig, said the note."]):
        write(vault / f"t{i}.md", f"# Pump {i}\n\n{line}\n")
    write(vault / "gasket.md", "# Gasket\n\nThe gasket of the pump is testing well.\n")
    engine = Engine(make_settings(tmp_path / "d", vault, **{"retrieval.max_postings": 3}))
    engine.ingest()
    yield engine
    engine.close()


def test_document_frequencies_count_the_stem_the_index_stores(stems):
    from atocore_tui.store import fts

    # "testin" is a stored term too (a longer prefix of "testing" than "test"):
    # the count is the stem's, as FTS5 matches it, not the longest prefix's.
    assert fts.document_frequencies(stems.db, ["testing", "gasket", "absent"]) == {
        "testing": 5, "gasket": 1, "absent": 0}
    assert fts.index_terms("testing") == ("test",) and fts.index_terms("17-4PH") == ("17", "4ph")


def test_a_big_vault_keeps_the_rare_words_of_a_prompt(stems):
    # over retrieval.max_postings the rarest words are matched: "gasket", not "testing"
    assert stems.retriever.affordable_terms(["testing", "gasket"]) == (["gasket"], [])
    assert stems.query("testing gasket", 1)[0].title == "Gasket"


def test_big_indexes_estimate_frequent_words_from_a_key_range(tmp_path, monkeypatch):
    from atocore_tui.store import fts

    vault = tmp_path / "v"
    for i in range(400):
        write(vault / f"n{i:03d}.md", f"# Note {i}\n\nThe pump {'gasket ' if i == 7 else ''}runs at {i} rpm.\n")
    engine = Engine(make_settings(tmp_path / "d", vault))
    engine.ingest()
    try:
        exact = fts.document_frequencies(engine.db, ["pump", "gasket", "rpm"])
        assert exact == {"pump": 400, "gasket": 1, "rpm": 400}
        monkeypatch.setattr(fts, "SAMPLE_ABOVE", 100)
        monkeypatch.setattr(fts, "SAMPLED_CHUNKS", 200)  # half of the key space
        estimated = fts.document_frequencies(engine.db, ["pump", "gasket", "rpm"], chunks=400)
        assert 300 <= estimated["pump"] <= 500 and estimated["pump"] != 400  # scaled from about 200
        assert estimated["gasket"] == 1  # rare in the sample: counted exactly
        assert fts.document_frequencies(engine.db, ["pump"], chunks=400) == {"pump": estimated["pump"]}
    finally:
        engine.close()


def test_cached_word_sets_share_one_string_per_word():
    """tokens() and stems() are cached for thousands of texts: a word is one
    string however many texts hold it (16,384 texts: 120 MB -> 75 MB)."""
    from atocore_tui.search.terms import stems, tokens

    first, second = tokens("The bearing seal of unit 42"), tokens("a seal bearing on shaft 42 in unit 7")
    for word in ("bearing", "seal", "unit", "42"):
        assert next(w for w in first if w == word) is next(w for w in second if w == word)
    left, right = stems("two bearings on the shaft"), stems("the bearings of a shaft")
    assert next(w for w in left if w == "bearing") is next(w for w in right if w == "bearing")


def test_a_text_collection_scores_the_share_of_prompt_words_each_text_holds():
    import numpy as np

    from atocore_tui.search.text_vectors import MEANING_WEIGHT, TextCollection

    texts = ["PTFE lip seal on the output shaft", "bearing preload of the output shaft",
             "coffee grinder burrs", "", "seals and bearings of the shaft"]
    rows = [(i,) for i in range(len(texts))]
    collection = TextCollection(rows, texts, np.zeros((len(texts), 4), dtype=np.float32))
    scores = collection.relevance("shaft seal bearings", np.zeros(4, dtype=np.float32))
    coverage = scores / (1.0 - MEANING_WEIGHT)
    assert np.allclose(coverage, [2 / 3, 1 / 3, 0.0, 0.0, 1.0])  # "bearing" -> "bear", "bearings" -> "bearing"
    assert not TextCollection([], [], np.zeros((0, 4), dtype=np.float32)).relevance("seal", np.zeros(4)).size
    assert not collection.relevance("zzz unknownword", np.zeros(4, dtype=np.float32)).any()


def test_a_big_text_collection_settles_the_heap(monkeypatch):
    import gc

    from atocore_tui.search import text_vectors
    from atocore_tui.search.embedding import Embedder

    vectors = text_vectors.TextVectors(Embedder())

    def load(n):
        return lambda: ([(i,) for i in range(n)], [(str(i), f"text {i}") for i in range(n)])

    monkeypatch.setattr(text_vectors, "SETTLE_ABOVE", 50)
    from atocore_tui import heap

    monkeypatch.setattr(heap, "_settled_at", float("-inf"))
    gc.unfreeze()
    cache: dict = {}
    text_vectors.collection(vectors, cache, "small", 1, load(40))
    assert gc.get_freeze_count() == 0
    big = text_vectors.collection(vectors, cache, "big", 1, load(60))
    assert gc.get_freeze_count() > 0 and len(big) == 60
    gc.unfreeze()
    assert text_vectors.collection(vectors, cache, "big", 1, load(60)) is big  # cached: no second settle
    text_vectors.collection(vectors, cache, "big", 2, load(61))  # rebuilt within the minute: none either
    assert gc.get_freeze_count() == 0
    gc.unfreeze()
