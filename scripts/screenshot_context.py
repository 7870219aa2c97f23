"""Make docs/images/context.png: the Context pane with a pack, from the app's
own SVG screenshot (rsvg-convert turns it into PNG).

    .venv/bin/python scripts/screenshot_context.py
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from atocore_tui.config import load_settings  # noqa: E402
from atocore_tui.engine import Engine  # noqa: E402
from atocore_tui.ops.first_run import first_run  # noqa: E402
from atocore_tui.tui import make_app  # noqa: E402


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        engine = Engine(load_settings(env={}, overrides={
            "data_dir": Path(tmp) / "data", "sources.vault": ROOT / "sample_vault",
            "tui.theme": "atocore-dark"}))
        first_run(engine)
        app = make_app(engine=engine, run_first_run=False)
        async with app.run_test(size=(130, 40)) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()
            app.screen.query_one("#project").value = "orion-drive"
            app.screen.query_one("#prompt").insert("why did EM-1 miss the cold efficiency requirement?")
            while app.screen.pack is None:
                await pilot.pause(0.05)
            await app.workers.wait_for_complete()
            await pilot.pause()
            svg = app.save_screenshot(path=tmp, filename="context.svg")
        target = ROOT / "docs" / "images" / "context.png"
        subprocess.run(["rsvg-convert", svg, "-o", str(target)], check=True)
        print(target)


if __name__ == "__main__":
    asyncio.run(main())
