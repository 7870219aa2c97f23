"""Extraction: turn interactions (prompt + response) into *candidate* memories.

Cue-based rules read each sentence of an interaction ("we decided …",
"I prefer …", "remember that …", requirement language, …) and propose a
memory of the right type and project. Proposals become ``candidate`` memories
in the review queue — nothing extracted is ever trusted (promoted)
automatically; a person decides.

Two layers, so that the rules can be tested without a database:

* :func:`extract_candidates` — pure: text in, :class:`Proposal` list out.
* :class:`Extractor` — the engine side: reads an interaction, adds the
  proposals of an optional external extractor command, drops duplicates of
  existing memories, writes the rest as candidates in one transaction.

The external command (e.g. a local LLM CLI) is an argument list that receives
``{"prompt", "response", "project"}`` as JSON on stdin and answers
``{"candidates": [{"memory_type", "content", "confidence"}]}`` on stdout. Its
answer is validated strictly; any failure raises :class:`ExtractionError` and
nothing of that run is written.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..errors import AtoCoreError, ValidationError
from ..store.lookup import find_interaction, normalise_since
from ..store.models import Interaction, Memory
from .duplicates import DUPLICATE_THRESHOLD, duplicate_score
from .external import (
    EXTERNAL_TIMEOUT_S,
    MAX_CONTENT_CHARS,
    MAX_EXTERNAL_CANDIDATES,
    PROJECT_SCOPED_TYPES,
    ExtractionError,
    Proposal,
    content_key,
    parse_external,
    run_external,
)
from .vocab import MemoryStatus

__all__ = ["EXTERNAL_TIMEOUT_S", "EXTRACTOR_ACTOR", "MAX_CONTENT_CHARS", "MAX_EXTERNAL_CANDIDATES", "MAX_WORDS",
           "MIN_WORDS", "PROJECT_SCOPED_TYPES", "RULES", "ExtractionError", "Extractor", "Proposal", "Rule", "clean",
           "content_key", "extract_candidates", "is_statement", "parse_external", "run_external", "sentences"]

EXTRACTOR_ACTOR = "extractor"
MIN_WORDS = 4
MAX_WORDS = 80
RESPONSE_CONFIDENCE_PENALTY = 0.1
"""A cue in the model's answer is weaker evidence than the user saying it."""

# ------------------------------------------------------------------ text prep

_FENCED_CODE = re.compile(r"^\s*(```|~~~).*?^\s*\1[^\n]*$", re.S | re.M)
_INDENTED_CODE = re.compile(r"^(?: {4,}|\t).*$", re.M)
_BLOCKQUOTE = re.compile(r"^\s*>.*$", re.M)
_QUOTED = re.compile(r'"[^"\n]*"|“[^”\n]*”')
_INLINE_CODE = re.compile(r"`([^`\n]*)`")
_LIST_MARK = re.compile(r"^\s*(?:[-*+•]|\d+[.)])\s+")
_HEADING_MARK = re.compile(r"^\s*#{1,6}\s+")
_EMPHASIS = re.compile(r"\*\*|__")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"“(]?[A-Z0-9])")
_LONG_QUOTE_WORDS = 4


def _drop_long_quote(match: re.Match) -> str:
    """Quoted speech (someone else's words) is not the user's statement; a short
    quoted term ("bar gauge") is part of the sentence and stays."""
    inner = match.group(0)[1:-1]
    return " " if len(inner.split()) >= _LONG_QUOTE_WORDS else inner


def sentences(text: str) -> list[str]:
    """Plain sentences of a markdown text, with code and quotations removed."""
    if not text:
        return []
    text = _FENCED_CODE.sub("\n", text)
    text = _INDENTED_CODE.sub("", text)
    text = _BLOCKQUOTE.sub("", text)
    text = _QUOTED.sub(_drop_long_quote, text)
    text = _INLINE_CODE.sub(r"\1", text)
    out: list[str] = []
    for line in text.splitlines():
        line = _EMPHASIS.sub("", _HEADING_MARK.sub("", _LIST_MARK.sub("", line))).strip()
        if not line:
            continue
        out.extend(s.strip() for s in _SENTENCE_END.split(line) if s.strip())
    return out


# ---------------------------------------------------------------- the filters

_QUESTION_START = re.compile(
    r"^(?:what|why|how|which|who|when|where|should|shall we|shall i|do(?! not)|does|did|can|could|would|"
    r"is|are|was|were|will|have|has|any idea|i wonder)\b", re.I)
_HEDGE = re.compile(
    r"\b(?:might|maybe|perhaps|possibly|probably|not sure|unsure|undecided|unclear|"
    r"(?:haven't|have not|hasn't|has not|not yet|didn't|did not|never) (?:yet )?(?:decided|chosen|agreed)|"
    r"tbd|to be decided|decide later|later on|still open|open question|whether|could|"
    r"we'll see|if (?:we|you|it|they|the|that|this)|i think|i guess|i suppose|assuming|"
    r"hypothetically|for example|e\.g\.)\b"
    r"|^(?:if|unless|suppose|assuming|although|though)\b", re.I)
_MODAL_MAY = re.compile(r"\b(?:may|may not)\b")  # lower-case only: not the month


def is_statement(sentence: str) -> bool:
    """A plain, committed statement: not a question, not a hedge or a what-if."""
    if sentence.endswith("?") or _QUESTION_START.match(sentence):
        return False
    if _HEDGE.search(sentence) or _MODAL_MAY.search(sentence):
        return False
    words = len(sentence.split())
    return MIN_WORDS <= words <= MAX_WORDS


# ---------------------------------------------------------------------- rules

# Leading words that carry no content: conversational fillers and prefix cues.
_FILLER = re.compile(r"^(?:ok(?:ay)?|so|also|and|btw|by the way|fyi|just|anyway|right|great|thanks)[,:]?\s+", re.I)
_PREFIX_CUES = re.compile(
    r"^(?:(?:please\s+)?(?:remember|note|keep in mind|bear in mind|don't forget|for the record|for reference)"
    r"(?:\s+that)?[,:]?\s+"
    r"|decision\s*[:\-–]\s*"
    r"|please\s+(?=always\b|never\b)"
    r"|(?:from now on|going forward|next time|in future|in the future|henceforth)[,:]?\s+)", re.I)


def clean(sentence: str) -> str:
    """The sentence as memory content: fillers and prefix cues removed, first
    letter capitalised, one final full stop."""
    text = sentence.strip()
    for _ in range(3):
        stripped = _PREFIX_CUES.sub("", _FILLER.sub("", text))
        if stripped == text:
            break
        text = stripped
    text = re.sub(r"\s+", " ", text).strip().rstrip(".!;:, ")
    if not text:
        return ""
    return text[0].upper() + text[1:] + "."


@dataclass(frozen=True)
class Rule:
    """One cue family: a pattern, the memory type it proposes, how sure it is."""

    name: str
    pattern: re.Pattern
    confidence: float
    in_response: bool = False
    """Users state preferences and identity; answers only restate decisions
    and requirements, so only those rules read the response."""

    def placement(self, project: str, content: str, project_names: Sequence[str]) -> tuple[str, str] | None:
        """(memory type, project) for a matching sentence, or None to skip it."""
        if self.name == "decision":
            return ("project", project) if project else ("episodic", "")
        if self.name == "requirement":
            return ("project", project) if project else None
        if self.name == "episodic":
            return ("episodic", project)
        if self.name == "remember":
            if project and _mentions_project(content, project_names):
                return ("project", project)
            return ("knowledge", "")
        return (self.name, "")


_SUBJECTLESS = {"i", "you", "we", "it", "this", "that", "they", "he", "she", "one", "there", "someone", "u"}
_REQUIREMENT = re.compile(
    r"^(?:[a-z][\w.-]*\d[\w.-]*:?\s+)?"  # a leading requirement id (ODU-REQ-003:)
    r"(?P<subject>[\w(][^,;:]{0,80}?)\s+"
    r"(?P<modal>shall|must|is required to|are required to)\s+"
    r"(?!have been\b|be (?:due|because|caused|wrong|right|correct|a mistake|an error)\b)", re.I)


def _is_requirement(sentence: str, origin: str) -> bool:
    """Requirement language with a real subject ("The housing shall …", not
    "you must …"). In an answer, "must" is usually advice; only "shall" and
    "is required to" count there."""
    match = _REQUIREMENT.match(sentence)
    if not match or match.group("subject").split()[0].casefold() in _SUBJECTLESS:
        return False
    return origin != "response" or match.group("modal").casefold() != "must"


_TODO_VERBS = ("bring", "send", "ask", "call", "check", "email", "book", "buy", "order", "update", "write",
               "schedule", "follow up", "chase")
"""'Remember to send the PO' is a to-do, not something to know."""

_PROJECT_MARKERS = re.compile(r"\b(?:our|we|we're|we've|us|this project|the project)\b", re.I)


def _mentions_project(content: str, names: Sequence[str]) -> bool:
    """A 'remember that …' belongs to the project when it speaks of it (our/we or
    the project's name); otherwise it is general domain knowledge."""
    if _PROJECT_MARKERS.search(content):
        return True
    lowered = content.casefold()
    for name in names:
        for form in {name.casefold(), name.casefold().replace("-", " "), name.casefold().replace("-", "")}:
            if form and re.search(rf"(?<!\w){re.escape(form)}(?!\w)", lowered):
                return True
    return False


RULES: tuple[Rule, ...] = (
    Rule("adaptation", re.compile(
        r"^(?:from now on|going forward|next time|in future|in the future|henceforth)\b"
        r"|\b(?:from now on|going forward)\W*$"
        r"|^(?:stop|don't|do not|never) .{0,120}\b(?:again|anymore|any more)\W*$", re.I), 0.75),
    Rule("decision", re.compile(
        r"^decision\s*[:\-–]"
        r"|\b(?:we|the team|i)\s+(?:have\s+|had\s+|finally\s+)?"
        r"(?:decided|chose|selected|agreed|settled on|went with|opted)\b", re.I), 0.75, in_response=True),
    Rule("preference", re.compile(
        r"^(?:please\s+)?(?:always|never)\s+\w+"
        r"|\bi(?:'d| would)?\s+(?:really\s+|strongly\s+)?prefer\b"
        r"|\bi(?:'d| would)?\s+(?:really\s+)?(?:like|want|need)\s+(?:\w+\s+){0,4}"
        r"(?:answers|responses|replies|tables|bullets|bullet points|lists|summaries|units|format)\b"
        r"|\bmy preference is\b", re.I), 0.7),
    Rule("identity", re.compile(
        r"^(?:i am|i'm)\s+(?:the|a|an)\s+(?!bit\b|little\b|lot\b)\w+"
        r"|^(?:i am|i'm)\s+responsible for\b"
        r"|^i\s+(?:work|lead|manage|own)\s+(?:as|at|for|the|on)\b"
        r"|^my\s+(?:role|job|title|name|team)\b", re.I), 0.7),
    Rule("remember", re.compile(
        r"^(?:please\s+)?(?:remember|keep in mind|bear in mind|don't forget|note|for the record)\b"
        r"(?!\s+to\b)(?![:,]?\s+(?:" + "|".join(_TODO_VERBS) + r")\b)", re.I), 0.7),
    Rule("requirement", _REQUIREMENT, 0.65, in_response=True),
    Rule("episodic", re.compile(
        r"^(?:today|yesterday|this morning|this week|last week|on \d{4}-\d{2}-\d{2})[,]?\s+"
        r"(?:we|i|the team)\s+(?:ran|tested|finished|completed|found|measured|held|had|shipped|"
        r"received|delivered|passed|failed|installed|assembled|met)\b", re.I), 0.6),
)


def _match(rule: Rule, sentence: str, origin: str) -> bool:
    if rule.name == "requirement":
        return _is_requirement(sentence, origin)
    return bool(rule.pattern.search(sentence))


def _strip_filler(sentence: str) -> str:
    text = sentence
    while (stripped := _FILLER.sub("", text)) != text:
        text = stripped
    return text


def extract_candidates(prompt: str, response: str = "", project: str = "",
                       project_names: Sequence[str] = ()) -> list[Proposal]:
    """The proposals of the cue rules for one interaction (pure: no database).

    Each sentence yields at most one proposal: the first rule that matches, in
    the order of :data:`RULES` (a "from now on …" is an adaptation even when it
    also states a preference). Duplicates within the interaction are dropped.
    """
    project = project or ""
    names = [project, *project_names] if project else list(project_names)
    proposals: list[Proposal] = []
    seen: set[str] = set()
    for origin, text in (("prompt", prompt), ("response", response)):
        for raw in sentences(text):
            sentence = _strip_filler(raw)
            if not is_statement(sentence):
                continue
            proposal = _propose(sentence, origin, project, names)
            if proposal is None or proposal.key() in seen:
                continue
            seen.add(proposal.key())
            proposals.append(proposal)
    return proposals


def _propose(sentence: str, origin: str, project: str, names: Sequence[str]) -> Proposal | None:
    for rule in RULES:
        if origin == "response" and not rule.in_response:
            continue
        if not _match(rule, sentence, origin):
            continue
        content = clean(sentence)
        if len(content.split()) < MIN_WORDS:
            return None
        typed = rule.placement(project, content, names)
        if typed is None:
            return None
        memory_type, memory_project = typed
        confidence = rule.confidence - (RESPONSE_CONFIDENCE_PENALTY if origin == "response" else 0.0)
        return Proposal(memory_type, content, round(confidence, 2), memory_project, rule.name, origin)
    return None


# ------------------------------------------------------------- engine side

class Extractor:
    """Writes the proposals for stored interactions as candidate memories.

    Idempotent: a proposal is skipped when a memory with the same content
    already came from that interaction (whatever its status now — a rejected
    candidate is not proposed again by a re-run), when a live (active or
    candidate) memory is a near-duplicate by embedding similarity (the memory
    service's threshold), or when it is a near-duplicate of a proposal kept
    earlier in the same run.
    """

    def __init__(self, engine, external_command: Sequence[str] | None = None,
                 external_timeout: float = EXTERNAL_TIMEOUT_S):
        self.engine = engine
        if external_command is not None and (
                isinstance(external_command, str) or not external_command
                or not all(isinstance(part, str) and part for part in external_command)):
            raise ValidationError("external extractor command must be a non-empty list of arguments")
        self.external_command = list(external_command) if external_command else None
        self.external_timeout = external_timeout

    def propose(self, interaction: Interaction) -> list[Proposal]:
        """Cue-rule proposals plus the external command's (if configured)."""
        project = interaction.project or ""
        names = self.engine.project_names(project)[1:] if project else ()
        proposals = extract_candidates(interaction.prompt, interaction.response, project, names)
        if self.external_command:
            proposals += run_external(self.external_command, interaction.prompt, interaction.response,
                                      project, self.external_timeout)
        return proposals

    def run(self, interaction_id: str) -> list[str]:
        """Extract candidates from one stored interaction; returns the new memory ids."""

        interaction = find_interaction(interaction_id)
        fresh = self.new_proposals(interaction.id, self.propose(interaction))
        with self.engine.db.atomic():
            return [self.engine.memories.create(
                p.memory_type, p.content, project=p.project, confidence=p.confidence,
                status=MemoryStatus.CANDIDATE, source_interaction=interaction.id, actor=EXTRACTOR_ACTOR).id
                for p in fresh]

    def run_all(self, since: str | None = None, project: str | None = None) -> dict:
        """Extract over past interactions (oldest first); safe to re-run."""

        query = Interaction.select(Interaction.id).order_by(Interaction.created_at, Interaction.id)
        since_at = normalise_since(since)
        canonical = self.engine.resolve_project(project)
        if since_at:
            query = query.where(Interaction.created_at >= since_at)
        if canonical:
            query = query.where(Interaction.project == canonical)
        created: list[str] = []
        errors: list[dict] = []
        ids = [row.id for row in query]
        for interaction_id in ids:
            try:
                created += self.run(interaction_id)
            except AtoCoreError as error:
                errors.append({"interaction": interaction_id, "error": str(error)})
        return {"interactions": len(ids), "created": len(created), "candidates": created,
                "errors": errors, "since": since_at, "project": canonical or ""}

    # ---------------------------------------------------------- duplicates
    def new_proposals(self, interaction_id: str, proposals: Iterable[Proposal]) -> list[Proposal]:
        """The proposals that duplicate neither an existing memory nor each other."""
        known = {content_key(m.content) for m in
                 Memory.select(Memory.content).where(Memory.source_interaction == interaction_id)}
        kept: list[Proposal] = []
        for proposal in proposals:
            key = proposal.key()
            if key in known:
                continue
            if self._near_duplicate(proposal, DUPLICATE_THRESHOLD):
                continue
            if self._similar_to_kept(proposal, kept, DUPLICATE_THRESHOLD):
                continue
            known.add(key)
            kept.append(proposal)
        return kept

    def _near_duplicate(self, proposal: Proposal, threshold: float) -> bool:
        matches = self.engine.memories.near_duplicates(proposal.content, project=proposal.project or None,
                                                       limit=1)
        return any(score >= threshold for _, score in matches)

    def _similar_to_kept(self, proposal: Proposal, kept: list[Proposal], threshold: float) -> bool:
        if not kept:
            return False
        vectors = self.engine.embedder.encode([proposal.content, *(k.content for k in kept)])
        similarities = vectors[1:] @ vectors[0]
        return any(duplicate_score(float(sim), proposal.content, other.content) >= threshold
                   for sim, other in zip(similarities, kept, strict=False))

