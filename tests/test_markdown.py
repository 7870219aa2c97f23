import pytest

from atocore_tui.ingest.markdown import inline_tags, parse_document, render_wikilinks

NOTE = """---
title: Gearbox lubricant
tags: [tribology, Gearbox]
project: orion-drive
---
# Gearbox lubricant

Intro line about [[decision-gearbox-lubricant|the lubricant decision]].

## Candidates

Braycote 601EF is a PFPE grease #vacuum. See [[bearing-selection]] and [[test-report#Run 2]].

```python
# not a heading
x = "#notatag"
```

### Rejected

Mineral grease: outgasses. Colour #ff0000 is no tag.

## Results

Torque at -40 °C rose 12 %.
"""


def test_front_matter_title_tags_project():
    doc = parse_document(NOTE, "gear.md", max_chars=1200, min_chars=0)
    assert doc.title == "Gearbox lubricant"
    assert doc.project == "orion-drive"
    assert doc.tags[:2] == ["tribology", "gearbox"]
    assert "vacuum" in doc.tags
    assert doc.warnings == []


def test_heading_paths_and_fences():
    doc = parse_document(NOTE, "gear.md", max_chars=1200, min_chars=0)
    paths = [c.heading_path for c in doc.chunks]
    assert paths == ["Gearbox lubricant", "Gearbox lubricant > Candidates",
                     "Gearbox lubricant > Candidates > Rejected", "Gearbox lubricant > Results"]
    candidates = doc.chunks[1]
    assert "# not a heading" in candidates.content  # fenced code stays in its section
    assert "vacuum" in candidates.tags and "notatag" not in candidates.tags
    assert "ff0000" not in doc.chunks[2].tags


def test_wikilinks_are_readable():
    doc = parse_document(NOTE, "gear.md", max_chars=1200, min_chars=0)
    assert "the lubricant decision" in doc.chunks[0].content
    assert "[[" not in "".join(c.content for c in doc.chunks)
    assert "test-report > Run 2" in doc.chunks[1].content
    assert render_wikilinks("![[photo.png]] and [[a|b]]") == "photo.png and b"


def test_spans_point_into_the_source():
    doc = parse_document(NOTE, "gear.md", max_chars=1200, min_chars=0)
    lines = NOTE.splitlines()
    for chunk in doc.chunks:
        source = NOTE[chunk.char_start:chunk.char_end]
        assert source.splitlines()[0] == lines[chunk.line_start - 1]
        assert source.splitlines()[-1] == lines[chunk.line_end - 1]
    assert doc.chunks[-1].content.endswith("rose 12 %.")


def test_tiny_sections_merge_and_headings_only_join_the_next():
    doc = parse_document(NOTE, "gear.md", max_chars=1200, min_chars=200)
    assert len(doc.chunks) < 4
    assert all(len(c.content) >= 40 for c in doc.chunks)
    # a merge keeps the common heading path
    assert doc.chunks[0].heading_path.startswith("Gearbox lubricant")


def test_long_sections_split_at_paragraphs_within_limit():
    paragraphs = "\n\n".join(f"Paragraph {i} " + "word " * 60 for i in range(20))
    text = f"# Big\n\n{paragraphs}\n"
    doc = parse_document(text, "big.md", max_chars=500, min_chars=100)
    assert len(doc.chunks) > 5
    assert all(c.char_end - c.char_start <= 500 for c in doc.chunks)
    assert all(c.heading_path == "Big" for c in doc.chunks)
    slots = [c.slot for c in doc.chunks]
    assert len(set(slots)) == len(slots)


def test_one_huge_paragraph_is_cut_at_word_boundaries():
    text = "# H\n\n" + " ".join(f"w{i}" for i in range(2000))
    doc = parse_document(text, "h.md", max_chars=300, min_chars=50)
    assert all(c.char_end - c.char_start <= 300 for c in doc.chunks)
    joined = " ".join(c.content.replace("# H", "").strip() for c in doc.chunks)
    assert joined.split() == [f"w{i}" for i in range(2000)]


def test_malformed_front_matter_warns_and_keeps_body():
    text = "---\ntitle: Call\ntags: [a, b\n---\n# Supplier call\n\nThey quoted 6 weeks.\n"
    doc = parse_document(text, "call.md")
    assert any("malformed front matter" in w for w in doc.warnings)
    assert doc.title == "Supplier call"
    assert "6 weeks" in doc.chunks[0].content
    assert "tags: [a, b" not in doc.chunks[0].content


def test_unclosed_front_matter_and_bad_tags():
    doc = parse_document("---\ntitle: x\nno end\n", "x.md")
    assert any("not closed" in w for w in doc.warnings)
    doc = parse_document("---\ntags: {a: 1}\n---\nbody\n", "x.md")
    assert any("tags" in w for w in doc.warnings)
    doc = parse_document("---\ntags: alpha, beta\n---\nbody\n", "x.md")
    assert doc.tags == ["alpha", "beta"]


def test_plain_text_is_one_section_and_title_from_filename():
    text = "Line one #nottag\n\n# not a heading in txt\n"
    doc = parse_document(text, "instrument-log.txt", plain_text=True)
    assert doc.title == "Instrument log"
    assert [c.heading_path for c in doc.chunks] == [""]
    assert doc.chunks[0].tags == []


def test_inline_tags_rules():
    assert inline_tags("a #tag and #nested/tag, `#code` http://x.y/#frag") == ["tag", "nested/tag"]


def test_empty_and_whitespace_documents():
    assert parse_document("", "e.md").chunks == []
    assert parse_document("---\ntitle: t\n---\n\n   \n", "e.md").chunks == []


def test_a_short_closing_paragraph_is_not_left_alone():
    first = "Clean the gears in the ultrasonic bath. " * 12      # ~480 chars
    second = "Weigh the grease per stage on the balance. " * 15 + "Record it." * 5  # ~694 chars
    text = f"# Procedure\n\n{first.strip()}\n\n{second.strip()}\n\nRelated: a, b.\n"
    doc = parse_document(text, "p.md", max_chars=1200, min_chars=200)
    assert len(doc.chunks) == 2
    assert all(len(c.content) >= 200 for c in doc.chunks)
    assert doc.chunks[-1].content.startswith("Weigh the grease")
    assert doc.chunks[-1].content.endswith("Related: a, b.")
    assert all(c.char_end - c.char_start <= 1200 for c in doc.chunks)


def test_a_long_paragraph_is_cut_into_even_pieces_and_keeps_its_heading():
    """Before: 1,300 characters under a heading became the heading alone, a
    piece of ~1,150 and a stub; now two pieces of about equal size, the
    first with the heading."""
    sentence = "The slipstream raises the lift of the wing section behind the propeller. "
    text = "# Wing in a slipstream\n\n" + (sentence * 18).strip() + "\n"
    doc = parse_document(text, "w.md", max_chars=1200, min_chars=200)
    sizes = [c.char_end - c.char_start for c in doc.chunks]
    assert len(doc.chunks) == 2, sizes
    assert doc.chunks[0].content.startswith("# Wing in a slipstream\n\nThe slipstream")
    assert max(sizes) <= 1200 and min(sizes) >= 0.6 * max(sizes)
    joined = " ".join(c.content.replace("# Wing in a slipstream", "").strip() for c in doc.chunks)
    assert joined.split() == (sentence * 18).split()


@pytest.mark.parametrize("filename", ["a/b.tar.gz", "foo.", ".hidden", "x/y_z-w.md", "noext", "a.b/c",
                                      "dir/.md", "a..md", "Über_Lager--notes.md"])
def test_a_title_from_the_file_name_is_its_stem_as_pathlib_reads_it(filename):
    from pathlib import PurePath

    expected = " ".join(PurePath(filename).stem.replace("_", " ").replace("-", " ").split()).capitalize()
    assert parse_document("no heading here\n", filename).title == (expected or filename)
