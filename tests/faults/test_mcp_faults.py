"""Hostile ids at the MCP face (issue 11, item 7)."""

from __future__ import annotations

import json
import os
import sys

import pytest
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from atocore_tui.engine import Engine

from ..conftest import ROOT, make_settings, write

pytestmark = pytest.mark.faults

HUGE = "a" * 60_000


async def test_mcp_tools_refuse_ids_of_60000_characters_and_keep_serving(tmp_path):
    write(tmp_path / "v" / "a.md", "# Alpha\n\nalpha text about flanges\n")
    engine = Engine(make_settings(tmp_path / "data", tmp_path / "v"))
    engine.ingest()
    engine.close()
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "atocore_tui.cli", "--data-dir", str(tmp_path / "data"), "--vault", str(tmp_path / "v"), "mcp"],
        cwd=str(ROOT), env={"PYTHONPATH": str(ROOT), "ATOCORE_API_TOKEN": "", "ATOCORE_CONFIG": os.devnull,
                            "HOME": os.environ.get("HOME", "/tmp")})
    with open(os.devnull, "w") as quiet:
        async with stdio_client(params, errlog=quiet) as (read, write_):
            async with ClientSession(read, write_) as session:
                await session.initialize()
                for tool, arguments in [("memory_update", {"memory_id": HUGE, "confidence": 0.5}),
                                        ("memory_invalidate", {"memory_id": HUGE}),
                                        ("review_promote", {"memory_id": HUGE}),
                                        ("graph_impact", {"entity": HUGE}),
                                        ("graph_evidence", {"entity": HUGE})]:
                    answer = await session.call_tool(tool, arguments)
                    assert answer.is_error, tool
                    text = answer.content[0].text
                    if tool.startswith("graph_"):  # names, looked up by equality: a clear miss
                        assert "no entity named" in text, (tool, text[:300])
                    else:
                        assert "too long" in text, (tool, text[:300])
                health = await session.call_tool("health", {})
                assert not health.is_error and json.loads(health.content[0].text)["chunks"] == 1
