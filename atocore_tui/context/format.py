"""How a context pack reads: tier blocks, item lines, the full prompt.

Every character an LLM sees from a pack is produced here, so the budget
arithmetic can measure exactly what will be sent.
"""

from __future__ import annotations

from .budget import Tier

SYSTEM_PREAMBLE = (
    "You are assisting an engineer on a long-running project. The context below was "
    "assembled by AtoCore from the user's own records, in trust order: project state "
    "(trusted facts) first, then the user's identity and preferences, project memories, "
    "domain knowledge, the engineering graph, and retrieved notes. Project state is the "
    "most authoritative source: when retrieved notes or memories conflict with it, trust "
    "the project state. Otherwise, when sources disagree, prefer the earlier tier. Cite "
    "notes by the file named in their [Source | Section | Score] line. "
    "If the context does not answer the question, say so."
)
NO_CONTEXT = "[AtoCore: no relevant context was found for this prompt.]"
SEPARATOR = "\n\n"


def header(tier: Tier, project: str | None) -> str:
    scope = f" ({project})" if project and tier.key in ("project_state", "project_memories",
                                                        "engineering") else ""
    return f"=== AtoCore {tier.number}/6: {tier.title}{scope} ==="


def footer(tier: Tier) -> str:
    return f"=== end {tier.title.lower()} ==="


def block(tier: Tier, project: str | None, lines: list[str]) -> str:
    return "\n".join([header(tier, project), *lines, footer(tier)])


def block_overhead(tier: Tier, project: str | None) -> int:
    """Characters a tier costs before any item: header, footer, their newlines."""
    return len(header(tier, project)) + len(footer(tier)) + 1


def item_cost(text: str) -> int:
    """An item line and the newline that joins it to the block."""
    return len(text) + 1


def state_line(category: str, key: str, value: str) -> str:
    return f"- [{category}] {key}: {value}"


def memory_line(memory_type: str, content: str) -> str:
    return f"- ({memory_type}) {' '.join(content.split())}"


def chunk_text(source_file: str, heading_path: str, score: float, content: str) -> str:
    """One retrieved chunk: its ``[Source | Section | Score]`` line, then the text."""
    section = heading_path or "-"
    return f"[Source: {source_file} | Section: {section} | Score: {score:.2f}]\n{content.strip()}\n"


def join_blocks(blocks: list[str]) -> str:
    return SEPARATOR.join(blocks)


def full_prompt(formatted_context: str, prompt: str) -> str:
    return f"{SYSTEM_PREAMBLE}{SEPARATOR}{formatted_context}{SEPARATOR}User prompt:\n{prompt}"
