"""Shared fixtures: real temporary data dirs, a copy of the sample vault, and
a guard that fails any test that tries to reach the network."""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import pytest

from atocore_tui.config import load_settings
from atocore_tui.engine import Engine
from atocore_tui.ops.first_run import first_run

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_VAULT = ROOT / "sample_vault"
DATA = Path(__file__).resolve().parent / "data"

# No background semantic passes (a detached process after a CLI ingest, a
# thread in a server) unless a test asks for one (tests/test_semantic_cli.py):
# they would compete for the CPU. Set at import, before any test module builds
# an environment for its subprocesses from os.environ.
os.environ["ATOCORE_RETRIEVAL_SEMANTIC_BACKGROUND"] = "false"

_real_connect = socket.socket.connect


def _guarded_connect(self, address):
    if self.family == socket.AF_UNIX:
        return _real_connect(self, address)
    host = address[0] if isinstance(address, tuple) else address
    if host in ("127.0.0.1", "::1", "localhost") or str(host).startswith("127."):
        return _real_connect(self, address)
    raise AssertionError(f"test tried to reach the network: {address!r}")


@pytest.fixture(autouse=True, scope="session")
def no_network():
    socket.socket.connect = _guarded_connect
    yield
    socket.socket.connect = _real_connect


def make_settings(data_dir: Path, vault: Path | None, **overrides):
    # no background semantic passes unless a test asks (they would compete for the CPU)
    values = {"data_dir": data_dir, "sources.vault": vault, "retrieval.semantic_background": False}
    values.update(overrides)
    return load_settings(env={}, overrides=values)


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    """A private copy of the sample vault that a test may edit."""
    target = tmp_path / "vault"
    shutil.copytree(SAMPLE_VAULT, target)
    return target


@pytest.fixture
def engine(tmp_path: Path, vault: Path):
    eng = Engine(make_settings(tmp_path / "data", vault))
    yield eng
    eng.close()


@pytest.fixture(scope="session")
def _shared_sample_engine(tmp_path_factory):
    data = tmp_path_factory.mktemp("sample-data")
    eng = Engine(make_settings(data, SAMPLE_VAULT))
    first_run(eng)
    yield eng
    eng.close()


@pytest.fixture
def sample_engine(_shared_sample_engine):
    """One first-run sample data dir (notes, seed memories and state, graph)
    shared by read-only tests; re-bound to the models for each test, since
    other tests' engines bind them to their own databases."""
    _shared_sample_engine.activate()
    return _shared_sample_engine


@pytest.fixture
def mem(engine):
    """The engine with the sample vault's two projects registered (no ingestion
    needed) and the alias ODU, for memory, review and reinforcement tests."""
    from atocore_tui.store.models import Project, ProjectAlias

    Project.create(id="orion-drive")
    Project.create(id="coldplate")
    ProjectAlias.create(alias="ODU", project="orion-drive")
    return engine


def memory_counts() -> tuple[int, int]:
    """(memories, memory audit rows): bad input must leave both unchanged."""
    from atocore_tui.store.models import Memory, MemoryAudit

    return Memory.select().count(), MemoryAudit.select().count()


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# Markers by where a test lives or what it does (pyproject.toml lists them). The
# fast subset, for the edit-test loop: pytest -m "not tui and not process and not slow".
PROCESS_MODULES = {"test_server_process", "test_serve_workers", "test_semantic_cli", "test_mcp",
                   "test_cli_faults", "test_disk_faults", "test_database_faults", "test_http_faults"}
SLOW_TESTS = {"test_the_pass_resumes_after_a_kill", "test_backup_during_ingestion_validates_and_restores",
              "test_a_background_pass_runs_beside_ingestion_and_covers_what_came_during_it",
              "test_a_cli_ingest_leaves_a_detached_pass_that_finishes",
              "test_the_pass_covers_every_chunk_once_and_matches_the_database",
              "test_a_changed_note_is_encoded_again_and_only_it"}


def pytest_collection_modifyitems(items):
    for item in items:
        parts = item.path.parts
        if "tui" in parts or "snapshots" in parts:
            item.add_marker(pytest.mark.tui)
        if item.path.stem in PROCESS_MODULES or "subprocess" in item.name:
            item.add_marker(pytest.mark.process)
        if item.originalname in SLOW_TESTS or item.path.stem in {"test_serve_workers", "test_daily"}:
            item.add_marker(pytest.mark.slow)
