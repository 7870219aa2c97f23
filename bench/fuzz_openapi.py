"""Property-based fuzzing of the HTTP API from its own OpenAPI schema (schemathesis).

Every operation gets generated requests (valid and invalid bodies, odd query
values, unknown ids) against the real app on a first-run copy of the sample
vault; the check is that no answer is a 5xx, whatever the input. Runs the app
in-process through schemathesis' ASGI transport (no network).

    .venv/bin/python bench/fuzz_openapi.py --examples 30
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SKIP = {("POST", "/ingest/sources"), ("POST", "/projects/{name}/refresh"), ("POST", "/admin/backup")}
"""Slow and already covered by the tests; fuzzing them only rewrites the same files."""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=25, help="generated cases per operation")
    args = parser.parse_args()

    import schemathesis
    from hypothesis import HealthCheck, Phase, given, settings

    from atocore_tui.config import load_settings
    from atocore_tui.engine import Engine
    from atocore_tui.ops.first_run import first_run
    from atocore_tui.server.app import create_app

    work = Path(tempfile.mkdtemp(prefix="atocore-fuzz-"))
    shutil.copytree(ROOT / "sample_vault", work / "vault")
    engine = Engine(load_settings(env={}, overrides={"data_dir": work / "data", "sources.vault": work / "vault"}))
    first_run(engine)
    app = create_app(engine).api
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    statuses: Counter = Counter()
    failures: list[str] = []
    try:
        for result in schema.get_all_operations():
            operation = result.ok()
            if (operation.method.upper(), operation.path) in SKIP:
                continue

            @given(case=operation.as_strategy())
            @settings(max_examples=args.examples, deadline=None, phases=[Phase.explicit, Phase.generate],
                      suppress_health_check=list(HealthCheck), database=None)
            def check(case):
                response = case.call()
                statuses[response.status_code] += 1
                if response.status_code >= 500:
                    failures.append(f"{case.method} {case.formatted_path} {case.body!r} -> "
                                    f"{response.status_code} {response.text[:200]}")

            check()
            print(f"{operation.method.upper():7} {operation.path}", flush=True)
    finally:
        engine.close()
        shutil.rmtree(work, ignore_errors=True)
    print("statuses:", dict(sorted(statuses.items())))
    print(f"{sum(statuses.values())} requests, {len(failures)} with a 5xx")
    for failure in failures[:20]:
        print("  ", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
