"""The external extractor command, and the :class:`Proposal` both kinds of
extraction produce (see :mod:`.extraction`).

The command (e.g. a local LLM CLI) is an argument list that receives
``{"prompt", "response", "project"}`` as JSON on stdin and answers
``{"candidates": [{"memory_type", "content", "confidence"}]}`` on stdout. Its
answer is validated strictly; any failure raises :class:`ExtractionError` and
nothing of that run is written.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from ..errors import AtoCoreError
from .vocab import MEMORY_TYPES, MemoryType

EXTERNAL_TIMEOUT_S = 30.0
MAX_EXTERNAL_CANDIDATES = 50
MAX_CONTENT_CHARS = 2000
PROJECT_SCOPED_TYPES: tuple[str, ...] = (MemoryType.PROJECT.value, MemoryType.EPISODIC.value)
"""Types that belong to the interaction's project; the others are personal or
cross-project by nature."""


class ExtractionError(AtoCoreError):
    """The external extractor failed or answered badly; nothing was written."""


@dataclass(frozen=True)
class Proposal:
    """One memory the extractor proposes; becomes a ``candidate`` memory."""

    memory_type: str
    content: str
    confidence: float
    project: str = ""
    rule: str = ""
    origin: str = "prompt"
    """Where the sentence came from: ``prompt``, ``response`` or ``external``."""

    def key(self) -> str:
        return content_key(self.content)

    def to_dict(self) -> dict:
        return asdict(self)


def content_key(text: str) -> str:
    """Comparable form of a memory's content: case, spacing and end punctuation ignored."""
    return re.sub(r"\s+", " ", text).strip().rstrip(".!;:").strip().casefold()



def run_external(command: Sequence[str], prompt: str, response: str, project: str,
                 timeout: float = EXTERNAL_TIMEOUT_S) -> list[Proposal]:
    """Ask the external extractor for proposals; raise ExtractionError on any fault."""
    payload = json.dumps({"prompt": prompt, "response": response, "project": project}, ensure_ascii=False)
    name = command[0] if command else "?"
    try:
        done = subprocess.run(list(command), input=payload, capture_output=True, text=True,
                              encoding="utf-8", timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise ExtractionError(f"external extractor {name} timed out after {timeout:g} s") from None
    except OSError as error:
        raise ExtractionError(f"external extractor {name} could not start: {error}") from None
    if done.returncode != 0:
        detail = (done.stderr or "").strip().splitlines()[-1:] or [""]
        raise ExtractionError(f"external extractor {name} exited with {done.returncode}: {detail[0]}".rstrip(": "))
    return parse_external(done.stdout, project)


def parse_external(stdout: str, project: str) -> list[Proposal]:
    """Validate the external extractor's answer strictly; every fault names the item."""
    try:
        answer = json.loads(stdout)
    except json.JSONDecodeError as error:
        raise ExtractionError(f"external extractor answered invalid JSON: {error}") from None
    if not isinstance(answer, dict) or not isinstance(answer.get("candidates"), list):
        raise ExtractionError('external extractor must answer {"candidates": [...]}')
    items = answer["candidates"]
    if len(items) > MAX_EXTERNAL_CANDIDATES:
        raise ExtractionError(f"external extractor proposed {len(items)} candidates (at most "
                              f"{MAX_EXTERNAL_CANDIDATES})")
    proposals = []
    for n, item in enumerate(items):
        where = f"external extractor candidate {n}"
        if not isinstance(item, dict):
            raise ExtractionError(f"{where} is not an object")
        memory_type, content, confidence = item.get("memory_type"), item.get("content"), item.get("confidence")
        if memory_type not in MEMORY_TYPES:
            raise ExtractionError(f"{where}: unknown memory_type {memory_type!r} "
                                  f"(one of {', '.join(MEMORY_TYPES)})")
        if not isinstance(content, str) or not content.strip() or len(content) > MAX_CONTENT_CHARS:
            raise ExtractionError(f"{where}: content must be non-blank text of at most "
                                  f"{MAX_CONTENT_CHARS} characters")
        if isinstance(confidence, bool) or not isinstance(confidence, (int, float)) or not 0 <= confidence <= 1:
            raise ExtractionError(f"{where}: confidence must be a number from 0 to 1")
        scoped = memory_type in PROJECT_SCOPED_TYPES
        proposals.append(Proposal(memory_type, " ".join(content.split()), float(confidence),
                                  project if scoped else "", "external", "external"))
    return proposals
