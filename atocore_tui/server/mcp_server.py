"""The MCP face: the engine's tools for MCP hosts (Claude Code, Cursor, Zed…) over stdio.

Each tool is one engine call. Engine errors become MCP tool errors carrying
the engine's message, so the model reads why a call was refused. Tool
descriptions are written for the model that decides when to call them.
Nothing may print to stdout here: stdout is the protocol channel.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

from .. import __version__
from ..errors import AtoCoreError
from ..memory.service import invalidated_answer, list_answer, stored_answer, updated_answer

if TYPE_CHECKING:
    from ..engine import Engine

INSTRUCTIONS = """AtoCore is the user's local context engine: their notes (a markdown vault),
trusted per-project facts ("project state"), typed memories, an engineering graph
(components, requirements, decisions, evidence) and a log of LLM interactions.
Call `context_build` with the user's request before answering questions about their
projects: it returns the most trusted, most relevant material within a character
budget. Record durable facts the user states with `memory_create` (or
`project_state_set` for authoritative project facts), and log the finished exchange
with `interaction_record` so that AtoCore can learn from it. Project names may be
given as an id or an alias."""


def _call(fn: Callable[[], Any]) -> Any:
    """Run one engine call; an engine refusal becomes a tool error with its message."""
    try:
        return fn()
    except AtoCoreError as error:
        raise ToolError(f"{type(error).__name__}: {error}") from None


def entity_id(engine: Engine, ref: str, project: str | None = None, entity_type: str | None = None) -> str:
    """An entity id from an id or an exact name: the engine's rule (``GraphService.find_entity``)."""
    return engine.graph.find_entity(ref, project, entity_type)["id"]


def build_server(engine: Engine) -> MCPServer:
    """An MCP server whose tools call ``engine``."""
    mcp = MCPServer("atocore", instructions=INSTRUCTIONS, version=__version__)

    # ------------------------------------------------------------ context
    @mcp.tool()
    def context_build(prompt: str, project: str | None = None, budget: int | None = None) -> dict:
        """Build a context pack for a prompt: the user's trusted project state, relevant
        memories, engineering context and note excerpts, ranked by trust and relevance and
        trimmed to a character budget (default from the user's config). Call this first when
        the user asks about their own projects, decisions, requirements or notes. Returns
        `formatted_context` (ready to read), the chunks used with their sources, the memory
        ids used, and character counts. Pass `project` (id or alias) when the request is
        about one project."""
        pack = _call(lambda: engine.context.build(prompt, project, budget))
        data = pack.to_dict()
        return {key: data[key] for key in (
            "project", "formatted_context", "total_chars", "budget", "budget_remaining", "chunks_used",
            "memories_used")} | {"chunks": [{k: c.get(k) for k in ("chunk_id", "source_file", "heading_path",
                                                                     "score")} for c in data["chunks"]]}

    @mcp.tool()
    def query(prompt: str, top_k: int = 10, project: str | None = None,
              tags: list[str] | None = None) -> dict:
        """Search the user's notes (hybrid keyword + semantic search). Use it to find specific
        passages or check a detail that `context_build` did not surface. Returns up to `top_k`
        hits, each with chunk_id, content, score, heading_path, source_file and title.
        `project` boosts that project's notes; `tags` keeps only notes carrying one of them."""
        hits = _call(lambda: engine.query(prompt, top_k, project=project, tags=tags))
        return {"results": [{k: v for k, v in h.to_dict().items()
                             if k in ("chunk_id", "content", "score", "heading_path", "source_file", "title",
                                      "project")} for h in hits]}

    # ------------------------------------------------------------- memory
    @mcp.tool()
    def memory_create(memory_type: str, content: str, project: str = "", confidence: float = 1.0,
                      candidate: bool = False) -> dict:
        """Store one durable fact as a memory. memory_type is one of identity (who the user is),
        preference (how they like things), project (a fact about a project), knowledge (domain
        knowledge), episodic (something that happened), adaptation (how to work with them).
        `project` is an id or alias, empty for cross-project. Set `candidate` true when you are
        not sure: the memory then waits in the user's review queue instead of being trusted.
        Returns {status, id, memory_type}."""
        record = _call(lambda: engine.memories.create(memory_type, content, project, confidence,
                                                      status="candidate" if candidate else "active",
                                                      actor="mcp"))
        return stored_answer(record)

    @mcp.tool()
    def memory_list(memory_type: str | None = None, project: str | None = None, active_only: bool = True,
                    min_confidence: float = 0.0, limit: int = 50) -> dict:
        """List stored memories, most recently changed first, optionally filtered by type,
        project (id or alias; empty string = cross-project only) and minimum confidence.
        Use it to check what is already known before creating a memory, or to find an id
        to update or invalidate. Returns {memories: [...], types}."""
        return list_answer(_call(lambda: engine.memories.list(memory_type, project, active_only,
                                                              min_confidence, limit)))

    @mcp.tool()
    def memory_update(memory_id: str, content: str | None = None, confidence: float | None = None,
                      status: str | None = None) -> dict:
        """Change a memory's content, confidence (0..1) or status (candidate, active, superseded,
        invalid, graduated). Every change is audited and can be undone by the user.
        Returns {status: "updated", id}."""
        return updated_answer(_call(lambda: engine.memories.update(memory_id, content, confidence, status,
                                                                   actor="mcp")))

    @mcp.tool()
    def memory_invalidate(memory_id: str) -> dict:
        """Mark a memory as wrong (error correction) so it is no longer used in context packs.
        Use it when the user says a stored fact is incorrect. Returns {status: "invalidated", id}."""
        return invalidated_answer(_call(lambda: engine.memories.invalidate(memory_id, actor="mcp")))

    # ------------------------------------------------------------- review
    @mcp.tool()
    def review_list(project: str | None = None, limit: int = 20, order: str = "oldest") -> dict:
        """The review queue: candidate memories (from extraction or uncertain input) waiting for
        the user's decision, each with its evidence and near-duplicate existing memories.
        `order` is oldest or evidence. Only promote or reject when the user asks you to."""
        items = _call(lambda: engine.review.list(order=order, project=project, limit=limit))
        return {"count": _call(lambda: engine.review.count(project)), "items": [i.to_dict() for i in items]}

    @mcp.tool()
    def review_promote(memory_id: str) -> dict:
        """Accept a candidate memory from the review queue: it becomes active (trusted)."""
        return _call(lambda: engine.review.promote(memory_id, actor="mcp")).to_dict()

    @mcp.tool()
    def review_reject(memory_id: str) -> dict:
        """Reject a candidate memory from the review queue: it becomes invalid (kept for the audit)."""
        return _call(lambda: engine.review.reject(memory_id, actor="mcp")).to_dict()

    # -------------------------------------------------------------- state
    @mcp.tool()
    def project_state_get(project: str, category: str | None = None) -> dict:
        """The trusted facts of a project (status, decisions, requirements, milestones, risks,
        contacts, config, notes) as key/value entries. These are the most authoritative facts
        AtoCore holds; prefer them over anything else. Returns {project, entries, categories}."""
        return _call(lambda: engine.state.get(project, category))

    @mcp.tool()
    def project_state_set(project: str, category: str, key: str, value: str, source: str = "",
                          confidence: float = 1.0) -> dict:
        """Set one trusted fact of a project (category: status, decision, requirement, milestone,
        risk, contact, config or note). An existing key is superseded, its history kept. Only
        record facts the user stated or confirmed. Returns {status, id, category, key}."""
        return _call(lambda: engine.state.set(project, category, key, value, source or "mcp", confidence))

    # ------------------------------------------------------- interactions
    @mcp.tool()
    def interaction_record(prompt: str, response: str = "", response_summary: str = "", project: str = "",
                           session_id: str = "", memories_used: list[str] | None = None,
                           chunks_used: list[str] | None = None, client: str = "mcp") -> dict:
        """Log one finished exchange (the user's prompt and your response) in the user's
        interaction log. Pass the memory ids and chunk ids that `context_build` returned and
        that your answer used: those memories are reinforced. Decisions, preferences and
        requirements stated in the exchange become candidate memories for the user's review.
        Returns {status: "recorded", id, created_at, reinforced, candidates}."""
        return _call(lambda: engine.interactions.record(
            prompt, response, response_summary, project, client, session_id, memories_used or [],
            chunks_used or []))

    # ------------------------------------------------------------- status
    @mcp.tool()
    def health() -> dict:
        """AtoCore's status: data directory, sources, number of notes and chunks, known
        projects, index state and whether an ingestion is running. Call it to learn which
        projects exist or when other tools return nothing."""
        return _call(engine.status)

    @mcp.tool()
    def projects_list() -> dict:
        """The registered projects with their aliases, descriptions, ingest roots and counts."""
        return _call(engine.projects.list)

    # -------------------------------------------------------------- graph
    @mcp.tool()
    def graph_entities(project: str | None = None, entity_type: str | None = None,
                       name_contains: str | None = None, limit: int = 100) -> dict:
        """Search the engineering graph's entities (system, subsystem, component, requirement,
        decision, material, analysis, test, risk…) by project, type and part of the name.
        Returns their ids, names, types, statuses and descriptions."""
        found = _call(lambda: engine.graph.entities(project, entity_type, None, name_contains, limit))
        return {"count": len(found), "entities": found}

    @mcp.tool()
    def graph_map(project: str) -> dict:
        """A project's system map: the PART_OF tree from systems down to components. Use it to
        orient yourself in an engineering project's structure."""
        return _call(lambda: engine.graph.system_map(project))

    @mcp.tool()
    def graph_gaps(project: str) -> dict:
        """Weak spots of a project's engineering graph, with reasons: requirements nothing
        satisfies, decisions based on nothing or on unsupported claims, claims with no
        supporting result, analysis or test. Use it for design reviews and "what are we missing"."""
        return _call(lambda: engine.graph.gaps(project))

    @mcp.tool()
    def graph_requirements(component: str, project: str | None = None) -> dict:
        """The requirements and constraints that apply to a component (id or exact name),
        including those inherited from the assemblies it is part of."""
        return _call(lambda: engine.graph.requirements_for(entity_id(engine, component, project)))

    @mcp.tool()
    def graph_decisions(project: str, include_superseded: bool = False) -> dict:
        """A project's engineering decisions with what each is based on and what it affects."""
        found = _call(lambda: engine.graph.decisions(project, include_superseded))
        return {"count": len(found), "decisions": found}

    @mcp.tool()
    def graph_changes(project: str | None = None, since: str | None = None, limit: int = 50) -> dict:
        """Recent changes to the engineering graph (created, promoted, updated, superseded
        entities and relationships), newest first. `since` is a date or 'YYYY-MM-DD HH:MM:SS'."""
        found = _call(lambda: engine.graph.recent_changes(project, since, limit))
        return {"count": len(found), "changes": found}

    @mcp.tool()
    def graph_impact(entity: str, project: str | None = None, depth: int | None = None) -> dict:
        """What would be affected if an entity (id or exact name) changed: everything that
        depends on it, walked downstream breadth-first with the path to each."""
        return _call(lambda: engine.graph.impact(entity_id(engine, entity, project), depth))

    @mcp.tool()
    def graph_evidence(entity: str, project: str | None = None, depth: int | None = None) -> dict:
        """What an entity (id or exact name) rests on: the analyses, results, tests, decisions
        and source notes/memories that support it (inbound provenance)."""
        return _call(lambda: engine.graph.evidence(entity_id(engine, entity, project), depth))

    # The original AtoCore's names for the engineering tools: the same tools again.
    for original_name, tool in ORIGINAL_NAMES.items():
        fn = locals()[tool]
        mcp.add_tool(fn, name=original_name,
                     description=f"{fn.__doc__} (The original AtoCore's name for `{tool}`.)")
    return mcp


ORIGINAL_NAMES = {
    "atocore_engineering_map": "graph_map",
    "atocore_engineering_gaps": "graph_gaps",
    "atocore_engineering_requirements_for_component": "graph_requirements",
    "atocore_engineering_decisions": "graph_decisions",
    "atocore_engineering_changes": "graph_changes",
    "atocore_engineering_impact": "graph_impact",
    "atocore_engineering_evidence": "graph_evidence",
}
"""Original tool name -> ours (same parameters)."""


def run_stdio(engine: Engine) -> int:
    """Serve MCP over stdin/stdout until the host closes the pipe."""
    build_server(engine).run("stdio")
    return 0
