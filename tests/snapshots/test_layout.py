"""Layout snapshots of the panes at 100x32 (pytest-textual-snapshot).

Update after an intended change of layout with ``pytest tests/snapshots --snapshot-update``
and look at the report before committing the new SVGs.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from atocore_tui.engine import Engine
from atocore_tui.ops.first_run import first_run
from atocore_tui.tui import make_app

from ..conftest import SAMPLE_VAULT, make_settings

SIZE = (100, 32)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("snap") / "data"
    engine = Engine(make_settings(data, SAMPLE_VAULT))
    first_run(engine)
    engine.close()
    return data


@pytest.fixture
def snap_app(prepared, tmp_path, monkeypatch):
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    data = tmp_path / "data"
    shutil.copytree(prepared, data)
    engine = Engine(make_settings(data, SAMPLE_VAULT, **{"tui.theme": "atocore-dark"}))
    yield make_app(engine=engine, run_first_run=False)
    engine.close()


def test_context_pane_layout(snap_app, snap_compare):
    assert snap_compare(snap_app, terminal_size=SIZE)
