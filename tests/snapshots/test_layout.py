"""Layout snapshots of the panes at 100x32 (pytest-textual-snapshot).

Update after an intended change of layout with ``pytest tests/snapshots --snapshot-update``
and look at the report before committing the new SVGs.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from atocore_tui.engine import Engine
from atocore_tui.ops.first_run import first_run
from atocore_tui.tui import make_app

from ..conftest import SAMPLE_VAULT, make_settings

SIZE = (100, 32)


FIXED_VAULT = Path(tempfile.gettempdir()) / "atocore-snapshots" / "sample_vault"
"""The vault at the same absolute path on every machine: panes show root paths."""


@pytest.fixture(scope="module")
def prepared(tmp_path_factory) -> Path:
    shutil.rmtree(FIXED_VAULT, ignore_errors=True)
    shutil.copytree(SAMPLE_VAULT, FIXED_VAULT)
    data = tmp_path_factory.mktemp("snap") / "data"
    engine = Engine(make_settings(data, FIXED_VAULT))
    first_run(engine)
    freeze_times(engine)
    engine.close()
    return data


def freeze_times(engine) -> None:
    """Every stored time set to one fixed moment, and memory ids derived from
    their content, so that screens showing times and short ids look the same
    on every run."""
    import hashlib

    engine.db.execute_sql("PRAGMA foreign_keys=OFF")
    for old, content in engine.db.execute_sql("SELECT id, content FROM memory").fetchall():
        new = hashlib.sha256(content.encode()).hexdigest()[:32]
        engine.db.execute_sql("UPDATE memory SET id = ? WHERE id = ?", (new, old))
        engine.db.execute_sql("UPDATE memory_audit SET memory_id = ? WHERE memory_id = ?", (new, old))
    engine.db.execute_sql("PRAGMA foreign_keys=ON")
    fixed = "2026-05-04 09:30:00"
    for table in engine.db.get_tables():
        if table.startswith("chunk_fts"):
            continue
        for column in engine.db.get_columns(table):
            if column.name in ("created_at", "updated_at", "ingested_at", "at", "last_refreshed_at",
                               "last_referenced_at", "resolved_at"):
                engine.db.execute_sql(f'UPDATE "{table}" SET "{column.name}" = ? '
                                      f'WHERE "{column.name}" IS NOT NULL', (fixed,))


@pytest.fixture
def snap_app(prepared, tmp_path, monkeypatch):
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    data = tmp_path / "data"
    shutil.copytree(prepared, data)
    engine = Engine(make_settings(data, FIXED_VAULT, **{"tui.theme": "atocore-dark"}))
    yield make_app(engine=engine, run_first_run=False)
    engine.close()


def test_context_pane_layout(snap_app, snap_compare):
    assert snap_compare(snap_app, terminal_size=SIZE)


@pytest.mark.parametrize("key", ["r", "g", "i", "p"])
def test_pane_layouts(snap_app, snap_compare, key):
    async def open_pane(pilot):
        await pilot.press("escape", key)
        await pilot.app.wait_for_keys()
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    assert snap_compare(snap_app, terminal_size=SIZE, run_before=open_pane)
