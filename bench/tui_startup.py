"""Workstation start-up: time to first paint and to the first pack.

Runs the real app headless (Textual's test driver) on a first-run copy of the
sample vault, in a fresh interpreter per run so imports count too:

- import: importing the workstation (Textual and the engine);
- first paint: from building the app to its first screen being ready;
- first pack: from the first keystroke of a prompt to the pack on screen,
  cold (the embedding model loads lazily on this first build) and then warm.

    .venv/bin/python bench/tui_startup.py [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import asyncio, json, sys, time
t0 = time.perf_counter()
from atocore_tui.config import load_settings
from atocore_tui.engine import Engine
from atocore_tui.tui import make_app
from textual.widgets import TextArea
imported = time.perf_counter()

async def main():
    settings = load_settings(env={}, overrides={"data_dir": sys.argv[1], "sources.vault": sys.argv[2]})
    started = time.perf_counter()
    app = make_app(engine=Engine(settings), run_first_run=False)
    async with app.run_test(size=(120, 40)) as pilot:
        painted = time.perf_counter()
        screen = app.screen
        results = {}
        for label, prompt in (("first_pack_ms", "what grease did we choose for the gearbox"),
                              ("warm_pack_ms", "is the cold plate pressure drop within budget")):
            screen.query_one("#prompt", TextArea).load_text("")
            await pilot.pause()
            screen.pack = None
            typed = time.perf_counter()
            screen.query_one("#prompt", TextArea).insert(prompt)
            while screen.pack is None or screen.pack.prompt != prompt:
                await pilot.pause(0.005)
            results[label] = (time.perf_counter() - typed) * 1000
    print(json.dumps({"import_ms": (imported - t0) * 1000, "first_paint_ms": (painted - started) * 1000,
                      **results}))

asyncio.run(main())
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from atocore_tui.config import load_settings
    from atocore_tui.engine import Engine
    from atocore_tui.ops.first_run import first_run

    with tempfile.TemporaryDirectory() as tmp:
        prepared = Path(tmp) / "prepared"
        engine = Engine(load_settings(env={}, overrides={"data_dir": prepared,
                                                         "sources.vault": ROOT / "sample_vault"}))
        first_run(engine)
        engine.close()
        runs = []
        for index in range(args.runs):
            data = Path(tmp) / f"run{index}"
            shutil.copytree(prepared, data)
            out = subprocess.run([sys.executable, "-c", CHILD, str(data), str(ROOT / "sample_vault")],
                                 capture_output=True, text=True, check=True, cwd=ROOT)
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(f"workstation start-up on sample_vault, {args.runs} runs (median, min–max), "
          "the pack includes its debounce of 350 ms:")
    for key in ("import_ms", "first_paint_ms", "first_pack_ms", "warm_pack_ms"):
        values = [r[key] for r in runs]
        print(f"  {key:<15} {statistics.median(values):8.0f} ms   ({min(values):.0f}–{max(values):.0f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
