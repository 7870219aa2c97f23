"""``atocore-tui mcp`` as an MCP host runs it: a subprocess on stdio, called
through the official SDK's client."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from atocore_tui.engine import Engine
from atocore_tui.ops.first_run import first_run

from .conftest import SAMPLE_VAULT, make_settings

ROOT = Path(__file__).resolve().parent.parent
EXPECTED_TOOLS = {
    "context_build", "query", "memory_create", "memory_list", "memory_update", "memory_invalidate",
    "review_list", "review_promote", "review_reject", "project_state_get", "project_state_set",
    "interaction_record", "health", "projects_list", "graph_entities", "graph_map", "graph_gaps",
    "graph_requirements", "graph_decisions", "graph_changes", "graph_impact", "graph_evidence",
}
ORIGINAL_TOOLS = {  # the original AtoCore's engineering tools
    "atocore_engineering_map", "atocore_engineering_gaps", "atocore_engineering_requirements_for_component",
    "atocore_engineering_decisions", "atocore_engineering_changes", "atocore_engineering_impact",
    "atocore_engineering_evidence",
}


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("mcp")
    vault = root / "vault"
    shutil.copytree(SAMPLE_VAULT, vault)
    engine = Engine(make_settings(root / "data", vault))
    first_run(engine)
    engine.close()
    return root / "data", vault


def result(answer) -> dict:
    assert not answer.is_error, answer.content
    return json.loads(answer.content[0].text)


def error(answer) -> str:
    assert answer.is_error
    return answer.content[0].text


async def test_mcp_tools_over_stdio(data_dir):
    data, vault = data_dir
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "atocore_tui.cli", "--data-dir", str(data), "--vault", str(vault), "mcp"],
        cwd=str(ROOT), env={"PYTHONPATH": str(ROOT), "ATOCORE_API_TOKEN": "", "HOME": os.environ.get("HOME", "/tmp")})
    with open(os.devnull, "w") as quiet:
        async with stdio_client(params, errlog=quiet) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                tools = {t.name: t for t in (await session.list_tools()).tools}
                assert EXPECTED_TOOLS | ORIGINAL_TOOLS <= set(tools)
                assert all(len(t.description or "") > 60 for t in tools.values())

                health = result(await session.call_tool("health", {}))
                assert health["chunks"] > 0 and "orion-drive" in health["projects"]

                pack = result(await session.call_tool("context_build", {
                    "prompt": "Which lubricant does the gearbox use?", "project": "orion-drive", "budget": 3000}))
                assert pack["formatted_context"] and pack["total_chars"] <= 3000

                hits = result(await session.call_tool("query", {"prompt": "cold plate pressure drop", "top_k": 3}))
                assert 0 < len(hits["results"]) <= 3 and hits["results"][0]["source_file"]

                stored = result(await session.call_tool("memory_create", {
                    "memory_type": "preference", "content": "Answers in SI units, please"}))
                assert stored["status"] == "stored"
                listed = result(await session.call_tool("memory_list", {"memory_type": "preference"}))
                assert stored["id"] in {m["id"] for m in listed["memories"]}
                assert result(await session.call_tool("memory_update", {
                    "memory_id": stored["id"], "confidence": 0.7}))["status"] == "updated"
                assert result(await session.call_tool("memory_invalidate", {
                    "memory_id": stored["id"]}))["status"] == "invalidated"

                candidate = result(await session.call_tool("memory_create", {
                    "memory_type": "project", "content": "ODU-110 run-in lasts 4 hours", "project": "orion-drive",
                    "candidate": True}))
                queue = result(await session.call_tool("review_list", {"project": "orion-drive"}))
                assert queue["count"] >= 1
                assert result(await session.call_tool("review_promote", {
                    "memory_id": candidate["id"]}))["status"] == "active"
                assert "candidate" in error(await session.call_tool("review_reject", {"memory_id": candidate["id"]}))

                set_ = result(await session.call_tool("project_state_set", {
                    "project": "orion-drive", "category": "milestone", "key": "EM-3", "value": "2026-09"}))
                assert set_["status"] in ("created", "updated")
                state = result(await session.call_tool("project_state_get",
                                                       {"project": "odu", "category": "milestone"}))
                assert "EM-3" in {e["key"] for e in state["entries"]}

                recorded = result(await session.call_tool("interaction_record", {
                    "prompt": "Which lubricant?", "response": "Braycote 601EF, decided in DEC-ODU-004",
                    "project": "orion-drive", "chunks_used": [c["chunk_id"] for c in pack["chunks"]],
                    "memories_used": pack["memories_used"]}))
                assert recorded["status"] == "recorded"

                gaps = result(await session.call_tool("graph_gaps", {"project": "orion-drive"}))
                assert gaps
                assert result(await session.call_tool("graph_map", {"project": "orion-drive"}))
                requirements = result(await session.call_tool("graph_requirements", {"component": "ODU-110 housing"}))
                assert requirements["entity"]["id"] == "odu-housing"
                assert result(await session.call_tool("graph_decisions", {"project": "orion-drive"}))["count"] > 0
                assert "changes" in result(await session.call_tool("graph_changes", {"limit": 5}))
                assert result(await session.call_tool("graph_impact", {"entity": "odu-housing"}))
                assert result(await session.call_tool("graph_evidence", {"entity": "ODU-110 housing"}))
                assert result(await session.call_tool("graph_entities", {"name_contains": "housing"}))["count"] >= 1
                # The original names answer as ours do.
                assert result(await session.call_tool("atocore_engineering_gaps", {"project": "orion-drive"})) == gaps
                assert result(await session.call_tool("atocore_engineering_requirements_for_component", {
                    "component": "ODU-110 housing"}))["entity"]["id"] == "odu-housing"
                assert result(await session.call_tool("atocore_engineering_impact", {"entity": "odu-housing"}))

                # Engine refusals come back as tool errors carrying the engine's message.
                assert "unknown memory type" in error(await session.call_tool(
                    "memory_create", {"memory_type": "gossip", "content": "x"}))
                assert "prompt must not be blank" in error(await session.call_tool("context_build", {"prompt": " "}))
                assert "unknown project" in error(await session.call_tool("graph_gaps", {"project": "nope"}))
                assert "no entity named" in error(await session.call_tool("graph_impact", {"entity": "warp core"}))
