"""The Docker engine as ecoagent sees it: connect, explain failures, reap leftovers.

Every sandbox container carries labels naming ecoagent and the process that owns
it (host name and PID). A process that dies hard (``kill -9``, power loss) cannot
remove its container, so every executor start reaps containers whose owner is
gone; containers of live processes (another chat, a parallel batch) are left alone.
"""

from __future__ import annotations

import os
import socket
import threading
from typing import Any

import docker
from docker.errors import DockerException, ImageNotFound

from ..errors import DockerUnavailableError, SandboxImageMissingError

__all__ = [
    "LABEL",
    "LABEL_HASH",
    "LABEL_OWNER",
    "connect",
    "shared_client",
    "forget_shared_client",
    "owner_label",
    "reap_leftovers",
    "require_image",
]

LABEL = "io.ecoagent.sandbox"
LABEL_OWNER = "io.ecoagent.owner"
LABEL_HASH = "io.ecoagent.sandbox.hash"

START_HINT = (
    "start the Docker engine: run scripts/setup.sh from the ecoagent checkout (as root it "
    "installs and starts dockerd), or `sudo systemctl start docker`; if it runs elsewhere, "
    "set DOCKER_HOST"
)


def owner_label() -> str:
    """``host:pid`` of this process, stored on every container it starts."""
    return f"{socket.gethostname()}:{os.getpid()}"


def connect(timeout: float = 30.0) -> docker.DockerClient:
    """A client for the local engine (``DOCKER_HOST`` honoured) that has answered a ping.

    Raises:
        DockerUnavailableError: The engine does not answer; the hint says how to start it.
    """
    try:
        client = docker.from_env(timeout=int(timeout))
        client.ping()
    except DockerException as exc:
        raise DockerUnavailableError(f"the Docker engine is not answering ({_short(exc)})", START_HINT) from exc
    return client


_SHARED: dict[str | None, docker.DockerClient] = {}
_SHARED_LOCK = threading.Lock()


def shared_client() -> docker.DockerClient:
    """One pinged client per process (and ``DOCKER_HOST``), for the executors.

    Creating and pinging a client costs ~20 ms; a query's sandbox should not pay it.

    Raises:
        DockerUnavailableError: The engine does not answer.
    """
    key = os.environ.get("DOCKER_HOST")
    with _SHARED_LOCK:
        client = _SHARED.get(key)
        if client is None:
            client = _SHARED[key] = connect()
        return client


def forget_shared_client() -> None:
    """Drop the cached clients (after the engine went away, say)."""
    with _SHARED_LOCK:
        _SHARED.clear()


def require_image(client: docker.DockerClient, image: str) -> Any:
    """The sandbox image object.

    Raises:
        SandboxImageMissingError: The image is not in the local engine.
    """
    try:
        return client.images.get(image)
    except ImageNotFound as exc:
        raise SandboxImageMissingError(
            f"sandbox image {image} is not built",
            "build it with `ecoagent sandbox build` (works offline), or run scripts/setup.sh",
        ) from exc


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def reap_leftovers(client: docker.DockerClient) -> list[str]:
    """Remove sandbox containers whose owning process on this host is gone.

    Returns:
        Short ids of the removed containers.
    """
    host = socket.gethostname()
    removed: list[str] = []
    # The low-level list carries the labels: no inspect per container, which fails with 404
    # when another query's container goes between the list and the inspect (the server runs
    # many queries at once, each starting and removing containers).
    for container in client.api.containers(all=True, filters={"label": LABEL}):
        owner = (container.get("Labels") or {}).get(LABEL_OWNER, "")
        owner_host, _, pid = owner.rpartition(":")
        if owner_host != host or not pid.isdigit() or _pid_alive(int(pid)):
            continue
        try:
            client.api.remove_container(container["Id"], force=True)
            removed.append(container["Id"][:12])
        except DockerException:
            continue  # already gone, or being removed by someone else
    return removed


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]
