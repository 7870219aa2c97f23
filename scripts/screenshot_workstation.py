"""Make the screenshots of docs/workstation.md: every pane on the first-run
sample data, from the app's own SVG screenshots (rsvg-convert makes the PNGs).

    .venv/bin/python scripts/screenshot_workstation.py [--size 120x36] [--out docs/images]

(apt-get install librsvg2-bin for rsvg-convert.)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")

from atocore_tui.config import load_settings  # noqa: E402
from atocore_tui.engine import Engine  # noqa: E402
from atocore_tui.ops.first_run import first_run  # noqa: E402
from atocore_tui.tui import make_app  # noqa: E402

PROMPT = "why did EM-1 miss the cold efficiency requirement?"


async def settle(app, pilot) -> None:
    await app.wait_for_keys()
    await app.workers.wait_for_complete()
    await pilot.pause(0.2)
    await app.workers.wait_for_complete()
    await pilot.pause()


async def shoot(size: tuple[int, int], out: Path, theme: str) -> list[Path]:
    made = []
    with tempfile.TemporaryDirectory() as tmp:
        engine = Engine(load_settings(env={}, overrides={
            "data_dir": Path(tmp) / "data", "sources.vault": ROOT / "sample_vault", "tui.theme": theme}))
        first_run(engine)
        app = make_app(engine=engine, run_first_run=False)

        def save(name: str) -> None:
            svg = app.save_screenshot(path=tmp, filename=f"{name}.svg")
            target = out / f"{name}.png"
            subprocess.run(["rsvg-convert", svg, "-o", str(target)], check=True)
            made.append(target)

        async with app.run_test(size=size) as pilot:
            await settle(app, pilot)
            screen = app.screen
            screen.query_one("#project").value = "orion-drive"
            await pilot.press("ctrl+l", *PROMPT)
            while screen.pack is None or screen.pack.prompt != PROMPT:
                await pilot.pause(0.05)
            await settle(app, pilot)
            save("context")
            await pilot.press("ctrl+r")  # record it: the Interactions pane shows it
            await settle(app, pilot)
            screen.query_one("#tabs").active = "tab-receipt"
            await pilot.press("escape")
            await pilot.press("tab", "tab", "tab")
            await settle(app, pilot)
            save("context-receipt")
            await pilot.press("r")
            await settle(app, pilot)
            save("review")
            await pilot.press("g")
            await settle(app, pilot)
            app.open_item("entity", _first_entity(engine))
            await settle(app, pilot)
            await pilot.press("t")
            await settle(app, pilot)
            save("graph")
            await pilot.press("i")
            await settle(app, pilot)
            save("interactions")
            await pilot.press("p")
            await settle(app, pilot)
            save("projects")
            await pilot.press("f1")
            await settle(app, pilot)
            save("keys")
        engine.close()
    return made


def _first_entity(engine) -> str:
    with engine.db.connection_context():
        rows = engine.graph.entities(project="orion-drive", entity_type="component", limit=50)
        rows = [r for r in rows if "housing" in r["name"].lower()] or rows
    return rows[0]["id"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="120x36")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images")
    parser.add_argument("--theme", default="atocore-dark")
    args = parser.parse_args()
    width, height = (int(n) for n in args.size.split("x"))
    args.out.mkdir(parents=True, exist_ok=True)
    for path in asyncio.run(shoot((width, height), args.out, args.theme)):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
