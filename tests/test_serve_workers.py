"""``atocore-tui --serve --workers N``: worker processes, each with its own
engine on one data dir, started for real."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from atocore_tui.server.background import free_port

from .conftest import SAMPLE_VAULT

ROOT = Path(__file__).resolve().parent.parent


def env() -> dict:
    """The environment for the processes started here, read when they start
    (session fixtures may set variables after this module is imported)."""
    return {**os.environ, "ATOCORE_API_TOKEN": "", "PYTHONPATH": str(ROOT)}


def call(url: str, body: dict | None = None, timeout: float = 30.0) -> dict:
    """One request on a fresh connection (so it may land on any worker)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as answer:
        return json.loads(answer.read())


def workers_of(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(c) for c in children
            if b"resource_tracker" not in Path(f"/proc/{c}/cmdline").read_bytes()]


def cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def test_workers_out_of_range_are_refused(tmp_path):
    for bad in ("0", "-1", "33"):
        result = subprocess.run(
            [sys.executable, "-m", "atocore_tui.cli", "--data-dir", str(tmp_path / "d"), "--serve",
             "--port", str(free_port()), "--workers", bad],
            cwd=ROOT, env=env(), capture_output=True, text=True, timeout=60)
        assert result.returncode == 2, result.stderr
        assert "--workers must be a whole number from 1 to 32" in result.stderr
        assert "Traceback" not in result.stderr


def test_two_workers_share_the_data_dir_and_the_last_pack(tmp_path):
    data = tmp_path / "data"
    subprocess.run([sys.executable, "-m", "atocore_tui.cli", "--data-dir", str(data), "--vault",
                    str(SAMPLE_VAULT), "ingest", "--json"], cwd=ROOT, env=env(), check=True,
                   capture_output=True, timeout=300)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "atocore_tui.cli", "--data-dir", str(data), "--vault", str(SAMPLE_VAULT),
         "--serve", "--port", str(port), "--workers", "2"],
        cwd=ROOT, env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    log: list[str] = []
    reader = threading.Thread(target=lambda: log.extend(server.stderr), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 120
        while sum("Application startup complete" in line for line in log) < 2:
            assert server.poll() is None and time.monotonic() < deadline, "".join(log)
            time.sleep(0.1)
        workers = workers_of(server.pid)
        assert len(workers) == 2
        health = call(url + "/health")
        assert health["index_current"] and health["chunks"] > 0
        before = {pid: cpu_ticks(pid) for pid in workers}

        for round_ in range(8):
            # a burst of concurrent queries spreads connections over both workers
            burst = [threading.Thread(target=call, args=(url + "/query", {"prompt": f"gearbox {i}"}))
                     for i in range(4)]
            for thread in burst:
                thread.start()
            for thread in burst:
                thread.join()
            prompt = f"which lubricant does the gearbox use? round {round_}"
            built = call(url + "/context/build", {"prompt": prompt, "budget": 2000})
            for _ in range(2):  # the last pack, whichever worker answers
                assert call(url + "/debug/context")["prompt"] == prompt
        recorded = call(url + "/interactions", {"prompt": built["prompt"], "response": "ok",
                                                "context_pack": call(url + "/debug/context")})
        for _ in range(3):  # replay of a recorded pack, whichever worker answers
            replay = call(f"{url}/context/replay/{recorded['id']}")
            assert replay["interaction_id"] == recorded["id"] and replay["pack"]["prompt"] == built["prompt"]
        assert all(cpu_ticks(pid) > before[pid] for pid in workers), "one worker served nothing"
    finally:
        server.terminate()
        server.wait(30)
    reader.join(10)
    assert server.returncode == 0, "".join(log)
    # stopped cleanly: no semaphore left behind (tqdm's multiprocessing lock, created by
    # model2vec's progress bar, used to be reported as leaked)
    assert "leaked" not in "".join(log) and "Traceback" not in "".join(log), "".join(log)


def test_a_worker_that_cannot_start_stops_the_server_with_a_message(tmp_path):
    """An engine error in a worker (here a model folder that is not there) is a
    message and a failed exit, not a traceback and workers started forever."""
    script = (
        "import sys\n"
        "from atocore_tui.config import load_settings\n"
        "from atocore_tui.server import serve\n"
        "from atocore_tui.server.background import free_port\n"
        "class CliEngine:  # what serve() uses of the CLI's engine\n"
        "    def __init__(self, settings): self.settings = settings\n"
        "    def close(self): pass\n"
        f"settings = load_settings(env={{}}, overrides={{'data_dir': {str(tmp_path / 'd')!r},\n"
        f"                         'embedding.model': {str(tmp_path / 'no-such-model')!r}}})\n"
        "sys.exit(serve(CliEngine(settings), port=free_port(), workers=2))\n")
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env(), capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 1, result.stderr
    assert "embedding model folder not found" in result.stderr
    assert "a worker could not start" in result.stderr
    assert "Traceback" not in result.stderr
