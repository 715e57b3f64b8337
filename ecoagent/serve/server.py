"""Running the app: uvicorn on a socket bound here, a discovery file, and a graceful stop.

The socket is bound before uvicorn starts, so ``--port 0`` gets a free port that is
known (and printed) before the first request. While the server runs,
``<state dir>/server.json`` says where it listens: a CLI command that finds the
embedded bank locked reads it to tell the person to pass ``--server URL``.

SIGTERM (and Ctrl-C) stop accepting connections at once; queries in flight get
``[serve] grace_s`` to finish, then are cancelled and logged as cancelled. Nothing a
client was told succeeded is lost: a run is in the run log before its response is
sent, and feedback is written (``wait=True``) before it is acknowledged.
"""

from __future__ import annotations

import ipaddress
import json
import os
import signal
import socket
from collections.abc import Callable

import uvicorn

from ..config import Settings
from ..errors import EcoagentError
from ..paths import running_server, server_file
from .keys import KeyRing

__all__ = ["is_loopback", "running_server", "serve", "server_file"]


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address or ``localhost``."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(
    settings: Settings,
    *,
    host: str | None = None,
    port: int | None = None,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve the pipeline until SIGTERM or Ctrl-C.

    Args:
        settings: All settings (``[serve]`` for the transport).
        host: Interface (default ``[serve] host``).
        port: Port (default ``[serve] port``; 0 picks a free one).
        on_ready: Called with the base URL once the socket is bound and the models are warm.

    Raises:
        EcoagentError: No keys and a host other than loopback; the port is taken; the
            bank is locked by another process; a rung cannot be built.
    """
    from ..assistant import EcoAssistant
    from .app import create_app

    cfg = settings.serve
    host = host or cfg.host
    port = cfg.port if port is None else port
    keys = KeyRing.load(cfg)
    if keys.open and not is_loopback(host):
        raise EcoagentError(
            f"refusing to serve on {host} with no API keys: anyone who can reach it could spend your budget",
            f"add a key (ecoagent keys add NAME, or set {cfg.keys_env}=KEY), or serve on 127.0.0.1",
            exit_code=2,
        )
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise EcoagentError(
            f"cannot listen on {host}:{port} ({exc.strerror})",
            "pick another --port, or stop what is using it",
            exit_code=1,
        ) from exc
    bound = sock.getsockname()[1]
    url = f"http://{host if ':' not in host else f'[{host}]'}:{bound}"
    eco = EcoAssistant(settings)
    try:
        eco.warm()  # a locked bank or a missing model fails here, with its own message
    except BaseException:
        eco.close()
        sock.close()
        raise
    app = create_app(eco, cfg, keys=keys)
    config = uvicorn.Config(
        app, log_level="warning", lifespan="on", timeout_graceful_shutdown=int(cfg.grace_s) or None, access_log=False
    )
    server = uvicorn.Server(config)
    info = server_file()
    info.parent.mkdir(parents=True, exist_ok=True)
    info.write_text(json.dumps({"url": url, "pid": os.getpid()}), encoding="utf-8")
    if on_ready is not None:
        on_ready(url)
    # uvicorn stops gracefully on SIGTERM, then raises the signal again for whoever handled
    # it before: this handler, so the cleanup below runs and the exit is a clean 0.
    previous = signal.signal(signal.SIGTERM, _stopped)
    try:
        server.run(sockets=[sock])
    except SystemExit:
        pass
    finally:
        try:
            if json.loads(info.read_text(encoding="utf-8")).get("pid") == os.getpid():
                info.unlink()
        except (OSError, ValueError):
            pass
        sock.close()
        signal.signal(signal.SIGTERM, previous)


def _stopped(signum: int, frame: object) -> None:
    raise SystemExit(0)
