"""The HTTP face (``atocore-tui --serve``) and the MCP face (``atocore-tui mcp``).

Both are thin translations of engine calls; nothing here imports Textual.
"""

from __future__ import annotations

import ipaddress
import socket
import sys

from ..errors import ValidationError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8100


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and names that resolve only to loopback (``localhost``)."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
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


def serve(engine, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, allow_remote: bool = False,
          log_level: str = "info") -> int:
    """Run the HTTP server in the foreground (one process, one worker) until interrupted."""
    warning = check_bind(host, allow_remote)
    if not 0 < port < 65536:
        raise ValidationError(f"port must be from 1 to 65535, got {port}")
    if warning:
        print(f"atocore-tui: {warning}", file=sys.stderr)
    import uvicorn

    from .app import create_app

    app = create_app(engine, token=_token(), allow_remote=allow_remote)
    uvicorn.run(app, host=host, port=port, workers=1, log_level=log_level, access_log=False,
                server_header=False)
    return 0
