"""Markdown (and plain text) to chunks: front matter, headings, tags, wikilinks.

Chunking is heading-aware: each section (text under one heading path) is cut
at paragraph boundaries into pieces of at most ``max_chars``; a paragraph that
alone is too long is cut at line, then sentence, then word boundaries. Pieces
shorter than ``min_chars`` are merged with a neighbour when the result still
fits, so that a heading with a one-line intro does not become a chunk of its
own. Every chunk keeps its character and line span in the source file.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

import yaml

_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader where installed (6x faster on front matter), else PyYAML's."""
HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$")
TITLE = re.compile(r"^#[ \t]+(.+?)[ \t#]*$")
SEPARATORS = re.compile(r"[-_]+")
FENCE = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})")
WIKILINK = re.compile(r"(!?)\[\[([^\]|#\n]*)(#[^\]|\n]*)?(?:\|([^\]\n]+))?\]\]")
INLINE_TAG = re.compile(r"(?<![\w/#&:\[])#([A-Za-z][\w\-/]*)")
HEX_COLOUR = re.compile(r"^(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
FENCED_BLOCK = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,}).*?^[ \t]{0,3}\1[ \t]*$", re.S | re.M)
INLINE_CODE = re.compile(r"`[^`\n]*`")


@dataclass
class ParsedChunk:
    ordinal: int
    heading_path: str
    content: str
    tags: list[str]
    char_start: int
    char_end: int
    line_start: int
    line_end: int
    slot: str
    """Where the chunk sits in its document (heading path + occurrence); the
    chunk id derives from it, so an edit elsewhere keeps this chunk's id."""


@dataclass
class ParsedDocument:
    title: str
    tags: list[str]
    project: str | None
    chunks: list[ParsedChunk]
    warnings: list[str] = field(default_factory=list)


@dataclass
class _Piece:
    heading_path: tuple[str, ...]
    start: int
    end: int
    headings_only: bool


def render_wikilinks(text: str) -> str:
    """``[[note|shown]]`` -> ``shown``; ``[[note#part]]`` -> ``note > part``."""

    def repl(match: re.Match) -> str:
        target, section, alias = match.group(2).strip(), match.group(3), match.group(4)
        if alias:
            return alias.strip()
        shown = target
        if section:
            part = section.lstrip("#").lstrip("^").strip()
            shown = f"{target} > {part}" if target else part
        return shown

    return WIKILINK.sub(repl, text) if "[[" in text else text


def normalise_tag(tag: str) -> str:
    return tag.strip().lstrip("#").strip().lower()


def inline_tags(text: str) -> list[str]:
    """``#tags`` in prose: not inside code, not headings, not colours."""
    if "#" not in text:
        return []
    text = INLINE_CODE.sub(" ", FENCED_BLOCK.sub(" ", text))
    found: dict[str, None] = {}
    for match in INLINE_TAG.finditer(text):
        tag = match.group(1).rstrip("-/")
        if HEX_COLOUR.match(tag):
            continue
        found.setdefault(normalise_tag(tag), None)
    return list(found)


def _front_matter(text: str, warnings: list[str]) -> tuple[dict, int]:
    """The front matter mapping and the offset where the body starts."""
    if not (text.startswith("---\n") or text.startswith("---\r\n")):
        return {}, 0
    first_newline = text.index("\n") + 1
    closing = re.compile(r"^(?:---|\.\.\.)[ \t]*\r?$", re.M).search(text, first_newline)
    if closing is None:
        warnings.append("front matter is not closed with '---': read as body text")
        return {}, 0
    block = text[first_newline:closing.start()]
    body_start = closing.end()
    if body_start < len(text) and text[body_start] == "\n":
        body_start += 1
    try:
        data = yaml.load(block, Loader=_YAML_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" at line {mark.line + 2}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        warnings.append(f"malformed front matter{line}: {problem}; front matter ignored")
        return {}, body_start
    if data is None:
        return {}, body_start
    if not isinstance(data, dict):
        warnings.append("front matter is not a mapping; ignored")
        return {}, body_start
    return data, body_start


def _front_matter_tags(value, warnings: list[str]) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        items = re.split(r"[,\s]+", value)
    elif isinstance(value, list):
        items = [str(v) for v in value if v is not None and not isinstance(v, (dict, list))]
        if len(items) != len(value):
            warnings.append("front matter tags: nested values ignored")
    else:
        warnings.append("front matter tags must be a list or a string; ignored")
        return []
    return [t for t in (normalise_tag(i) for i in items) if t]


def _pretty_stem(filename: str) -> str:
    name = filename.rsplit("/", 1)[-1]
    dot = name.rfind(".")
    stem = name[:dot] if 0 < dot < len(name) - 1 else name  # as PurePath.stem, without a Path
    return SEPARATORS.sub(" ", stem).strip().capitalize() or filename


class _Lines:
    """Maps character offsets to 1-based line numbers."""

    def __init__(self, text: str):
        self.starts = [0] + [m.end() for m in re.finditer(r"\n", text)]

    def line_of(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset)


def _split_long(text: str, start: int, end: int, max_chars: int,
                first_room: int | None = None) -> list[tuple[int, int]]:
    """Cut [start, end) into spans of at most max_chars at good boundaries,
    of about equal size: a paragraph of 1,300 characters becomes two of ~650,
    not 1,200 and a stub of 100 that means nothing alone.

    ``first_room``: the first span must be shorter (the section's heading
    shares its chunk), so the heading is never left as a chunk by itself.
    """
    spans: list[tuple[int, int]] = []
    room = first_room if first_room is not None else max_chars
    while end - start > room:
        remaining = end - start + (max_chars - room)  # the heading counts in the first piece
        pieces = -(-remaining // max_chars)
        limit = min(room, (remaining + pieces - 1) // pieces + max_chars // 10)
        window = text[start:start + limit]
        cut = -1
        for boundary in ("\n\n", "\n", ". ", "; ", ", ", " "):
            position = window.rfind(boundary)
            if position > limit // 2:
                cut = position + len(boundary)
                break
        if cut <= 0:
            cut = limit
        spans.append((start, start + cut))
        start += cut
        while start < end and text[start] in " \t\n":
            start += 1
        room = max_chars
    if start < end:
        spans.append((start, end))
    return spans


def _sections(text: str, body_start: int, use_headings: bool):
    """Yield (heading_path, heading_span or None, paragraph spans) per section."""
    stack: list[tuple[int, str]] = []
    heading_span = None
    paragraphs: list[tuple[int, int]] = []
    para_start = None
    para_end = None
    fence: str | None = None

    def close_paragraph():
        nonlocal para_start
        if para_start is not None:
            paragraphs.append((para_start, para_end))
            para_start = None

    position = body_start
    for line in text[body_start:].splitlines(keepends=True):
        line_start, line_end = position, position + len(line.rstrip("\r\n"))
        position += len(line)
        stripped = line.strip()
        fence_match = FENCE.match(line) if use_headings else None
        if fence is not None:
            para_end = line_end
            if fence_match and fence_match.group(1)[0] == fence[0] and len(fence_match.group(1)) >= len(fence):
                fence = None
            continue
        if fence_match:
            if para_start is None:
                para_start = line_start
            para_end = line_end
            fence = fence_match.group(1)
            continue
        heading = HEADING.match(line.rstrip("\r\n")) if use_headings else None
        if heading:
            close_paragraph()
            if heading_span is not None or paragraphs:
                yield tuple(t for _, t in stack), heading_span, paragraphs
            level = len(heading.group(1))
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, render_wikilinks(heading.group(2).strip())))
            heading_span = (line_start, line_end)
            paragraphs = []
            continue
        if not stripped:
            close_paragraph()
            continue
        if para_start is None:
            para_start = line_start
        para_end = line_end
    close_paragraph()
    if heading_span is not None or paragraphs:
        yield tuple(t for _, t in stack), heading_span, paragraphs


def _pieces(text: str, body_start: int, use_headings: bool, max_chars: int,
            min_chars: int = 0) -> list[_Piece]:
    pieces: list[_Piece] = []
    for path, heading_span, paragraphs in _sections(text, body_start, use_headings):
        units: list[tuple[int, int]] = []
        head = 0
        if heading_span is not None:
            units.append(heading_span)
            head = heading_span[1] - heading_span[0] + 2
        for index, (start, end) in enumerate(paragraphs):
            # A first paragraph too long to join its heading whole gives the
            # heading room in its first piece (short headings only).
            shares_heading = index == 0 and head and end - start + head > max_chars and head <= max_chars // 3
            units.extend(_split_long(text, start, end, max_chars,
                                     first_room=max_chars - head if shares_heading else None))
        groups: list[list[tuple[int, int]]] = [[]]
        for unit in units:
            if groups[-1] and unit[1] - groups[-1][0][0] > max_chars:
                groups.append([])
            groups[-1].append(unit)
        _rebalance_tail(groups, min_chars, max_chars)
        for group in groups:
            if group:
                pieces.append(_Piece(path, group[0][0], group[-1][1],
                                     headings_only=group == [heading_span]))
    return pieces


def _rebalance_tail(groups: list[list[tuple[int, int]]], min_chars: int, max_chars: int) -> None:
    """A section's last piece too small to stand alone takes paragraphs from the
    piece before it (a lone closing line would otherwise be a useless chunk)."""
    if len(groups) < 2:
        return
    previous, last = groups[-2], groups[-1]

    def size(group):
        return group[-1][1] - group[0][0] if group else 0

    while size(last) < min_chars and len(previous) > 1:
        candidate = [previous[-1], *last]
        if size(candidate) > max_chars or size(previous[:-1]) < min_chars:
            break
        last.insert(0, previous.pop())


def _common_path(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
    common = []
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        common.append(x)
    return tuple(common) or a


def _merge_small(pieces: list[_Piece], min_chars: int, max_chars: int) -> list[_Piece]:
    merged: list[_Piece] = []
    pending: _Piece | None = None  # a piece waiting to join the next one
    for piece in pieces:
        if pending is not None:
            if piece.end - pending.start <= max_chars:
                piece = _Piece(_common_path(pending.heading_path, piece.heading_path),
                               pending.start, piece.end, piece.headings_only)
            else:
                merged.append(pending)
            pending = None
        size = piece.end - piece.start
        if size >= min_chars:
            merged.append(piece)
            continue
        previous = merged[-1] if merged else None
        if (not piece.headings_only and previous is not None
                and piece.end - previous.start <= max_chars):
            merged[-1] = _Piece(_common_path(previous.heading_path, piece.heading_path),
                                previous.start, piece.end, False)
        else:
            pending = piece
    if pending is not None:
        previous = merged[-1] if merged else None
        if previous is not None and pending.end - previous.start <= max_chars:
            merged[-1] = _Piece(_common_path(previous.heading_path, pending.heading_path),
                                previous.start, pending.end, False)
        else:
            merged.append(pending)
    return merged


def parse_document(text: str, filename: str, *, max_chars: int = 1200, min_chars: int = 200,
                   plain_text: bool = False) -> ParsedDocument:
    """Parse one file's text into a document with chunks (never raises on content)."""
    warnings: list[str] = []
    text = text.lstrip("\ufeff")
    front, body_start = ({}, 0) if plain_text else _front_matter(text, warnings)

    raw_title = front.get("title")
    title = str(raw_title).strip() if raw_title not in (None, "") else ""
    if not title and not plain_text and "#" in text:
        for line in text[body_start:].splitlines():
            h1 = TITLE.match(line)
            if h1:
                title = render_wikilinks(h1.group(1).strip())
                break
    title = title or _pretty_stem(filename)

    doc_tags = _front_matter_tags(front.get("tags"), warnings)
    raw_project = front.get("project")
    project = str(raw_project).strip() if raw_project not in (None, "") else None

    pieces = _merge_small(_pieces(text, body_start, not plain_text, max_chars, min_chars),
                          min_chars, max_chars)
    lines = _Lines(text)
    chunks: list[ParsedChunk] = []
    occurrences: dict[str, int] = {}
    all_tags: dict[str, None] = dict.fromkeys(doc_tags)
    for piece in pieces:
        raw = text[piece.start:piece.end]
        content = render_wikilinks(raw).strip()
        if not content:
            continue
        heading_path = " > ".join(piece.heading_path)
        chunk_tags = dict.fromkeys(doc_tags)
        if not plain_text:
            for tag in inline_tags(raw):
                chunk_tags.setdefault(tag, None)
                all_tags.setdefault(tag, None)
        seen = occurrences.get(heading_path, 0)
        occurrences[heading_path] = seen + 1
        chunks.append(ParsedChunk(
            ordinal=len(chunks),
            heading_path=heading_path,
            content=content,
            tags=list(chunk_tags),
            char_start=piece.start,
            char_end=piece.end,
            line_start=lines.line_of(piece.start),
            line_end=lines.line_of(max(piece.start, piece.end - 1)),
            slot=f"{heading_path}#{seen}",
        ))
    return ParsedDocument(title=title, tags=list(all_tags), project=project, chunks=chunks,
                          warnings=warnings)
