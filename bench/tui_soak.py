"""Workstation soak: memory over pane switches, quit time, keys in a burst.

Three measurements on a first-run copy of the sample vault:

1. soak: the real app headless (Textual's test driver), 1,000 pane switches
   (c r g i p in turn, each waiting for the app to be idle); RSS and the
   number of live widgets after every 100.
2. burst: the real app in a pseudo-terminal at 120x36 (the real input driver
   parses the bytes), 500 keys written at once: ``--pane-keys`` pane letters,
   then ctrl+l (into the prompt) and text for the rest. Landed = pane switches
   the app made in the order sent + characters in the prompt equal to those
   sent.
3. quit: ctrl+q in that terminal until the process has exited; and again in
   a fresh one after visiting every pane once.

    .venv/bin/python bench/tui_soak.py [--switches 1000] [--burst 500]
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import gc
import json
import os
import pty
import random
import select
import shutil
import signal
import struct
import sys
import tempfile
import termios
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PANES = "rgipc"


def rss_mb(pid: int | str = "self") -> float:
    with open(f"/proc/{pid}/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def prepare(folder: Path) -> Path:
    from atocore_tui.config import load_settings
    from atocore_tui.engine import Engine
    from atocore_tui.ops.first_run import first_run

    data = folder / "data"
    engine = Engine(load_settings(env={}, overrides={"data_dir": data, "sources.vault": ROOT / "sample_vault"}))
    first_run(engine)
    engine.close()
    return data


# ------------------------------------------------------------------ soak
async def soak(data: Path, switches: int) -> list[tuple[int, float, int]]:
    from textual.widget import Widget

    from atocore_tui.config import load_settings
    from atocore_tui.engine import Engine
    from atocore_tui.tui import make_app

    engine = Engine(load_settings(env={}, overrides={"data_dir": data, "sources.vault": ROOT / "sample_vault"}))
    app = make_app(engine=engine, run_first_run=False)
    rows = []
    async with app.run_test(size=(120, 36)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.press("escape")
        for k in PANES:  # every pane once, so each is built before counting
            await pilot.press(k)
        await app.workers.wait_for_complete()
        await pilot.pause()
        gc.collect()
        rows.append((0, rss_mb(), sum(isinstance(o, Widget) for o in gc.get_objects())))
        for n in range(1, switches + 1):
            await pilot.press(PANES[n % len(PANES)])
            if n % 100 == 0:
                await app.workers.wait_for_complete()
                await pilot.pause()
                gc.collect()
                rows.append((n, rss_mb(), sum(isinstance(o, Widget) for o in gc.get_objects())))
    engine.close()
    return rows


# ---------------------------------------------------------- burst + quit
CHILD = r"""
import json, sys, time
from pathlib import Path
from atocore_tui.config import load_settings
from atocore_tui.engine import Engine
from atocore_tui.tui import make_app

state_path = Path(sys.argv[2])
engine = Engine(load_settings(env={}, overrides={"data_dir": sys.argv[1], "sources.vault": sys.argv[3]}))
app = make_app(engine=engine, run_first_run=False)
switched = []
original = app.switch_mode
def switch_mode(mode):
    switched.append(mode)
    return original(mode)
app.switch_mode = switch_mode

def dump():
    screen = app.get_screen_stack("context")[0] if "context" in app._screen_stacks else None
    prompt = screen.query_one("#prompt").text if screen is not None and screen.is_mounted else ""
    state_path.write_text(json.dumps({"mode": app.current_mode, "switched": switched, "prompt": prompt,
                                      "t": time.monotonic()}))

def ready():
    app.set_interval(0.25, dump)
    dump()

app.call_after_refresh(ready)
app.run()
engine.close()
"""


def _drain(fd: int, seconds: float) -> None:
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        readable, _, _ = select.select([fd], [], [], min(left, 0.05))
        if readable:
            try:
                os.read(fd, 65536)
            except OSError:
                return


def burst_and_quit(data: Path, keys: int, pane_keys: int, seed: int = 7) -> dict:
    rng = random.Random(seed)
    panes = [rng.choice(PANES) for _ in range(pane_keys - 1)] + ["c"]
    words = ("gearbox grease cold plate pressure drop orion drive bearing preload thermal margin "
             "requirement decision ").split()
    text = ""
    while len(text) < keys - pane_keys - 1:
        text += rng.choice(words) + " "
    text = text[: keys - pane_keys - 1]
    payload = "".join(panes) + "\x0c" + text
    assert len(payload) == keys

    state = data.parent / "state.json"
    pid, fd = pty.fork()
    if pid == 0:  # the child: the workstation on a 120x36 terminal
        os.environ["TERM"] = "xterm-256color"
        os.environ["PYTHONPATH"] = str(ROOT)
        os.execv(sys.executable, [sys.executable, "-c", CHILD, str(data), str(state), str(ROOT / "sample_vault")])
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 36, 120, 0, 0))
    try:
        deadline = time.monotonic() + 60
        while not state.exists() and time.monotonic() < deadline:
            _drain(fd, 0.1)
        _drain(fd, 2.0)  # the embedding model warms up after the first paint
        os.write(fd, b"\x1b")  # leave the prompt if it has the focus (alone: escape is ambiguous)
        _drain(fd, 0.5)
        sent_at = time.monotonic()
        os.write(fd, payload.encode())
        # wait until the app is idle: its state, written every 0.25 s by a timer
        # (which only runs when the app is free), unchanged over 4 fresh writes
        last, fresh, stable_since, last_t = None, 0, time.monotonic(), None
        while fresh < 4 and time.monotonic() - sent_at < 180:
            _drain(fd, 0.1)
            try:
                now = json.loads(state.read_text())
            except ValueError:
                continue
            stamp = now.pop("t")
            if stamp == last_t:
                continue
            last_t = stamp
            if now != last:
                last, fresh, stable_since = now, 0, time.monotonic()
            else:
                fresh += 1
        settled_s = stable_since - sent_at
        result = last
        child_rss = rss_mb(pid)
        quit_at = time.monotonic()
        os.write(fd, b"\x11")  # ctrl+q
        exited = None
        while time.monotonic() - quit_at < 20:
            _drain(fd, 0.02)
            done, _status = os.waitpid(pid, os.WNOHANG)
            if done:
                exited = time.monotonic() - quit_at
                break
    finally:
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        os.close(fd)
    names = {"c": "context", "r": "review", "g": "graph", "i": "interactions", "p": "projects"}
    # a key for the pane already shown is no switch: compare the panes visited
    expected, current = [], "context"
    for key in panes:
        if names[key] != current:
            current = names[key]
            expected.append(current)
    switched, current = [], "context"
    for mode in result["switched"]:
        if mode != current:
            current = mode
            switched.append(mode)
    pane_landed = len(os.path.commonprefix([switched, expected]))
    prompt = result["prompt"]
    text_landed = len(os.path.commonprefix([prompt, text]))
    return {"sent": keys, "pane_keys": pane_keys, "switches_expected": len(expected),
            "switches_made": len(switched), "switches_in_order": pane_landed, "final_pane": result["mode"],
            "text_sent": len(text), "text_landed": text_landed, "prompt_extra": len(prompt) - text_landed,
            "settled_s": settled_s, "rss_mb": child_rss, "quit_s": exited}


def quit_after_panes(data: Path) -> float | None:
    """A fresh workstation in a 120x36 pseudo-terminal: every pane visited once
    (a key each half second), then ctrl+q; seconds until the process is gone."""
    state = data.parent / "quit-state.json"
    pid, fd = pty.fork()
    if pid == 0:
        os.environ["TERM"] = "xterm-256color"
        os.environ["PYTHONPATH"] = str(ROOT)
        os.execv(sys.executable, [sys.executable, "-c", CHILD, str(data), str(state), str(ROOT / "sample_vault")])
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 36, 120, 0, 0))
    exited = None
    try:
        deadline = time.monotonic() + 60
        while not state.exists() and time.monotonic() < deadline:
            _drain(fd, 0.1)
        _drain(fd, 2.0)
        os.write(fd, b"\x1b")
        _drain(fd, 0.5)
        for key in PANES:
            os.write(fd, key.encode())
            _drain(fd, 1.0)
        quit_at = time.monotonic()
        os.write(fd, b"\x11")  # ctrl+q
        while time.monotonic() - quit_at < 20:
            _drain(fd, 0.02)
            done, _status = os.waitpid(pid, os.WNOHANG)
            if done:
                exited = time.monotonic() - quit_at
                break
    finally:
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        os.close(fd)
    return exited


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--switches", type=int, default=1000)
    parser.add_argument("--burst", type=int, default=500)
    parser.add_argument("--pane-keys", type=int, default=200)
    args = parser.parse_args()
    os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")
    with tempfile.TemporaryDirectory() as tmp:
        prepared = prepare(Path(tmp) / "prepared")
        soak_data = Path(tmp) / "soak" / "data"
        shutil.copytree(prepared, soak_data)
        started = time.perf_counter()
        rows = asyncio.run(soak(soak_data, args.switches))
        took = time.perf_counter() - started
        print(f"soak: {args.switches} pane switches at 120x36 in {took:.0f} s (headless)")
        print("  switches    RSS MB   widgets")
        for n, rss, widgets in rows:
            print(f"  {n:>8} {rss:>9.1f} {widgets:>9}")
        first, last = rows[0][1], rows[-1][1]
        print(f"  RSS growth {last - first:+.1f} MB ({(last - first) / first * 100:+.1f} %)")
        burst_data = Path(tmp) / "burst" / "data"
        shutil.copytree(prepared, burst_data)
        result = burst_and_quit(burst_data, args.burst, args.pane_keys)
        quit_data = Path(tmp) / "quit" / "data"
        shutil.copytree(prepared, quit_data)
        clean_quit = quit_after_panes(quit_data)
    print(f"burst: {result['sent']} keys written at once to a 120x36 pseudo-terminal")
    print(f"  pane keys {result['pane_keys']}: {result['switches_in_order']}/{result['switches_expected']} "
          f"switches landed in order ({result['switches_made']} made), final pane {result['final_pane']}")
    print(f"  text {result['text_sent']} chars after ctrl+l: {result['text_landed']} landed in the prompt "
          f"in order, {result['prompt_extra']} stray")
    landed = result["switches_in_order"] + (result["pane_keys"] - result["switches_expected"]
                                            if result["switches_in_order"] == result["switches_expected"] else 0)
    landed += result["text_landed"] + (1 if result["text_landed"] else 0)
    print(f"  keys landed {landed}/{result['sent']} · idle again after {result['settled_s']:.1f} s · "
          f"RSS {result['rss_mb']:.0f} MB")
    for label, seconds in (("after the burst", result["quit_s"]), ("after visiting every pane", clean_quit)):
        print(f"quit {label}: ctrl+q -> process gone in {seconds:.2f} s" if seconds is not None
              else f"quit {label}: still running after 20 s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
