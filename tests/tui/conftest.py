"""Workstation tests: the real app (make_app) on a real data dir, driven by Pilot.

A data dir that went through the first run (sample vault ingested, seed
memories and state, sample graph) is prepared once per session; each test gets
its own copy, so tests may change data freely.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import NamedTuple

import pytest

from atocore_tui.engine import Engine
from atocore_tui.ops.first_run import first_run
from atocore_tui.tui import make_app

from ..conftest import SAMPLE_VAULT, make_settings

os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")


@pytest.fixture(scope="session")
def prepared_data(tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("tui-prepared") / "data"
    engine = Engine(make_settings(data, SAMPLE_VAULT))
    first_run(engine)
    engine.close()
    return data


@pytest.fixture
def sample_data(prepared_data, tmp_path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(prepared_data, target, ignore=shutil.ignore_patterns("ingest.lock", "*.tmp*"))
    return target


@pytest.fixture
def tui_engine(sample_data):
    engine = Engine(make_settings(sample_data, SAMPLE_VAULT, **{"tui.theme": "atocore-dark"}))
    yield engine
    engine.close()


@pytest.fixture
def app(tui_engine):
    """The workstation on a copy of the first-run sample data dir."""
    return make_app(engine=tui_engine, run_first_run=False)


async def settle(pilot) -> None:
    """Let typed keys and workers finish and the screen catch up."""
    await pilot.app.wait_for_keys()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.app.wait_for_keys()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def open_pane(pilot, key: str, screen_class):
    """Leave the Context prompt (so letters are pane keys), press the pane's key
    and wait for it to load; returns the pane's screen."""
    await settle(pilot)
    await pilot.press("escape", key)
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, screen_class)
    return screen


async def wait_until(pilot, condition) -> None:
    """Let the app run until ``condition()`` holds (while a held or failing
    worker keeps ``settle`` from returning)."""
    for _ in range(200):
        if condition():
            return
        await pilot.pause()
    assert condition()


def row_keys(table) -> list[str]:
    """The row keys of a DataTable, top to bottom."""
    return [table.coordinate_to_cell_key((row, 0)).row_key.value for row in range(table.row_count)]


class Notice(NamedTuple):
    message: str
    title: str
    severity: str


def record_notifications(app) -> list[Notice]:
    """Every notification the app is asked to show from now on, in order.

    Install before ``run_test``: every widget's ``notify`` (and a worker's
    error report) goes through ``app.notify``, which still shows them."""
    shown: list[Notice] = []
    notify = app.notify

    def record(message, *, title="", severity="information", timeout=None, markup=True):
        shown.append(Notice(str(message), title, severity))
        notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    app.notify = record
    return shown
