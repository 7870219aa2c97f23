"""The HTTP face (``atocore-tui --serve``) and the MCP face (``atocore-tui mcp``).

Both are thin translations of engine calls; nothing here imports Textual.
"""

from __future__ import annotations

import ipaddress
import socket
import sys
from typing import TYPE_CHECKING, Any

from ..errors import ValidationError

if TYPE_CHECKING:
    from ..config import Settings
    from ..engine import Engine

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8100


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and names that resolve only to loopback (``localhost``)."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    try:
        addresses = {str(info[4][0]) for info in socket.getaddrinfo(host, None)}
    except OSError:
        return False
    return bool(addresses) and all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addresses)


def check_bind(host: str, allow_remote: bool) -> str | None:
    """Refuse a non-loopback address unless allowed; returns the warning to print."""
    if is_loopback(host):
        return None
    if not allow_remote:
        raise ValidationError(f"refusing to listen on {host}: it is not a loopback address. "
                              "Pass --allow-remote to serve other machines (and set ATOCORE_API_TOKEN)")
    return (f"warning: listening on {host}: other machines can reach this AtoCore "
            "(its memories, notes and project state)"
            + ("" if _token() else "; no ATOCORE_API_TOKEN is set, so anyone who can connect may read and write"))


def _token() -> str | None:
    from .app import token_from_env

    return token_from_env()


MAX_WORKERS = 32
WORKER_STARTUP_FAILED = 3
"""A worker's exit code when it cannot start (uvicorn's own for a failed start:
its supervisor then stops instead of starting the worker again and again)."""


def check_workers(workers: int) -> int:
    if isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= MAX_WORKERS:
        raise ValidationError(f"--workers must be a whole number from 1 to {MAX_WORKERS}, got {workers}")
    return workers


def serve(engine: Engine, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, allow_remote: bool = False,
          log_level: str = "info", workers: int = 1) -> int:
    """Run the HTTP server in the foreground until interrupted.

    One worker serves from this process with ``engine``. With ``workers`` > 1
    this process only supervises (uvicorn's): it binds the socket, closes its
    engine and starts that many worker processes, each with its own engine on
    the same data dir (SQLite WAL; the vector index reloads when another
    process saved a newer one; the last pack is read from the data dir), and
    replaces a worker that dies.
    """
    warning = check_bind(host, allow_remote)
    if not 0 < port < 65536:
        raise ValidationError(f"port must be from 1 to 65535, got {port}")
    check_workers(workers)
    if warning:
        print(f"atocore-tui: {warning}", file=sys.stderr)
    import uvicorn

    from .app import create_app

    options: dict[str, Any] = dict(host=host, port=port, log_level=log_level, access_log=False,
                                   server_header=False)
    # create_app's options, the same in every worker
    app_options: dict[str, Any] = dict(token=_token(), allow_remote=allow_remote)
    if workers == 1:
        warm(engine)
        uvicorn.run(create_app(engine, **app_options), workers=1, **options)
        return 0
    import functools

    from uvicorn.supervisors import Multiprocess

    # The app is built in each worker by calling this picklable factory with
    # the parent's settings (uvicorn.run wants an import string for workers,
    # which could not carry them).
    config = uvicorn.Config(functools.partial(worker_app, engine.settings, app_options), factory=True,
                            workers=workers, **options)
    socket_ = config.bind_socket()
    engine.close()
    supervisor = Multiprocess(config, sockets=[socket_])
    supervisor.run()
    if any(process.exitcode == WORKER_STARTUP_FAILED for process in supervisor.processes):
        print("atocore-tui: error: a worker could not start (its message is above)", file=sys.stderr)
        return 1
    return 0


BLAS_THREADS = 1
"""Threads numpy's BLAS may use in a server worker. OpenBLAS starts one per
core and keeps them spinning after each product (the tiers' relevance is a
matrix-vector product over thousands of rows), so under load they burned a
core the request threads needed: 100k chunks, 8 clients, one worker, 20 s
(bench/serve_load.py): 81.3 -> 91.6 req/s, p99 278 -> 225 ms, 44 -> 59
requests per CPU-second; two workers 88.6 -> 113.4 req/s. A lone request is
a little slower (context p50 20.3 -> 24.1 ms with one client), so only the
server sets it; the workstation, the CLI and MCP keep numpy's default."""


def limit_blas_threads() -> None:
    """Set this process's BLAS to BLAS_THREADS (threadpoolctl finds the
    library numpy loaded, whatever its build calls the setter)."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(BLAS_THREADS, user_api="blas")  # stays set for the process


def warm(engine: Engine) -> None:
    """Load the model and the vector index before the first request (a
    worker would otherwise pay for it inside someone's request). A model that
    cannot load is reported and left to the routes that need it (503), as
    without the warm-up."""
    from ..errors import AtoCoreError
    from ..heap import start_trimming

    try:
        engine.vectors.ensure()
    except AtoCoreError as error:
        print(f"atocore-tui: warning: {error}", file=sys.stderr)
    # what the request threads free goes back to the system (see atocore_tui.heap)
    start_trimming()
    limit_blas_threads()
    # the semantic vectors still missing, in a low-priority background thread
    # (one pass per data dir: with several workers, one of them runs it)
    engine.start_semantic_pass(on_error=lambda message: print(f"atocore-tui: warning: {message}", file=sys.stderr))


def worker_app(settings: Settings, app_options: dict):
    """The ASGI app of one worker process: its own engine, warmed up;
    ``app_options`` go to ``create_app``."""
    import threading

    from tqdm import tqdm

    from ..engine import Engine
    from ..errors import AtoCoreError
    from .app import create_app

    # model2vec's (disabled) progress bar would create tqdm's multiprocessing
    # lock: a named semaphore that the supervisor's resource tracker reports
    # as leaked when it stops the worker. A thread lock does here.
    tqdm.set_lock(threading.RLock())
    try:
        engine = Engine(settings)
    except AtoCoreError as error:
        # a message, not a traceback; the supervisor stops on this exit code
        print(f"atocore-tui: error: {error}", file=sys.stderr)
        raise SystemExit(WORKER_STARTUP_FAILED) from None
    warm(engine)
    return create_app(engine, **app_options)
