"""The workstation starts the semantic pass and shows how far it is."""

from __future__ import annotations

import asyncio

from atocore_tui.engine import Engine
from atocore_tui.tui import make_app

from ..conftest import make_settings, write


async def test_the_workstation_runs_the_semantic_pass_and_shows_its_progress(tmp_path):
    vault = tmp_path / "v"
    for i in range(12):
        write(vault / f"n{i}.md", f"# Note {i}\n\nThe valve {i} leaks at {i} bar during the cold test.\n")
    engine = Engine(make_settings(tmp_path / "data", vault, **{"retrieval.semantic_background": True}))
    engine.ingest()
    app = make_app(engine=engine, run_first_run=False)
    seen: set[str] = set()
    async with app.run_test(size=(100, 30)) as pilot:
        for _ in range(600):  # the header is updated by the app's own once-a-second poll
            seen.add(app.sub_title)
            if engine.semantic_progress()["complete"] and app.sub_title == "":
                break
            await asyncio.sleep(0.1)
        await pilot.pause()
        assert engine.semantic_progress()["covered"] == 12
        assert app.sub_title == ""  # nothing left to say once every chunk is covered
    assert any(text.startswith("semantic vectors ") and "/12" in text for text in seen), seen
    engine.close()


async def test_nothing_is_shown_when_the_pass_is_off(tmp_path):
    vault = tmp_path / "v"
    write(vault / "a.md", "# A\n\ntext\n")
    engine = Engine(make_settings(tmp_path / "data", vault, **{"retrieval.semantic": False}))
    engine.ingest()
    app = make_app(engine=engine, run_first_run=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.app.workers.wait_for_complete()
        app.show_semantic_progress()
        assert app.sub_title == ""
        assert not engine.semantic.running
    engine.close()
