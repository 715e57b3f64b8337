"""Proof, from a live container, that the sandbox is as locked down as configured.

``ecoagent sandbox check`` and ``ecoagent doctor`` show these rows; each compares
what the container reports about itself (from inside) and what the engine reports
(``docker inspect``) with what the settings promise.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

from ..config import SandboxSettings
from .executor import WORKSPACE, DockerSandboxExecutor

__all__ = ["Check", "verify_hardening"]

_PROBE = r"""
import json, os, socket
r = {"uid": os.getuid(), "gid": os.getgid()}
for line in open("/proc/self/status"):
    key, _, value = line.partition(":")
    if key in ("CapEff", "NoNewPrivs"):
        r[key] = value.strip()
def can_write(path):
    try:
        with open(path, "w") as f:
            f.write("x")
        os.unlink(path)
        return True
    except OSError:
        return False
r["write_usr"] = can_write("/usr/.ecoagent-probe")
r["write_root"] = can_write("/.ecoagent-probe")
r["write_workspace"] = can_write("/workspace/.ecoagent-probe")
def reach(host, port):
    try:
        socket.create_connection((host, port), timeout=2).close()
        return True
    except OSError:
        return False
r["connect_ip"] = reach("1.1.1.1", 53)
r["metadata"] = reach("169.254.169.254", 80)
try:
    socket.getaddrinfo("example.com", 80)
    r["dns"] = True
except OSError:
    r["dns"] = False
r["env"] = sorted(os.environ)
print(json.dumps(r))
"""


@dataclass(frozen=True)
class Check:
    """One verified property of the sandbox."""

    name: str
    expected: str
    actual: str
    ok: bool


async def verify_hardening(settings: SandboxSettings | None = None) -> list[Check]:
    """Start a sandbox container, probe it from inside and outside, remove it.

    Raises:
        DockerUnavailableError: The engine does not answer.
        SandboxImageMissingError: The image is not built.
    """
    settings = settings or SandboxSettings()
    async with DockerSandboxExecutor(settings) as executor:
        result = await executor.run(_PROBE, "python", timeout_s=30)
        attrs = await asyncio.to_thread(executor.inspect)
    try:
        inside = json.loads(result.output.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return [Check("probe ran", "exit 0 with a JSON report", result.output[-200:], False)]
    host = attrs.get("HostConfig", {})
    mounts = [m.get("Destination") for m in attrs.get("Mounts", [])]
    tmpfs = sorted((host.get("Tmpfs") or {}).keys())
    allowed_env = {
        "HOME",
        "TMPDIR",
        "LANG",
        "PYTHONUNBUFFERED",
        "PYTHONDONTWRITEBYTECODE",
        "MPLBACKEND",
        "PATH",
        "HOSTNAME",
        *settings.env_allowlist,
    }
    extra_env = sorted(set(inside["env"]) - allowed_env)
    mem = int(host.get("Memory") or 0)

    def row(name: str, expected: str, actual: Any, ok: bool) -> Check:
        return Check(name, expected, str(actual), ok)

    return [
        row("runs as non-root", "uid != 0", inside["uid"], inside["uid"] != 0 and inside["gid"] != 0),
        row("capabilities", "CapEff 0", inside.get("CapEff"), int(inside.get("CapEff", "1"), 16) == 0),
        row("no-new-privileges", "NoNewPrivs 1", inside.get("NoNewPrivs"), inside.get("NoNewPrivs") == "1"),
        row("outbound connect", "fails", "succeeded" if inside["connect_ip"] else "fails", not inside["connect_ip"]),
        row("metadata address", "fails", "reached" if inside["metadata"] else "fails", not inside["metadata"]),
        row("DNS", "fails", "resolved" if inside["dns"] else "fails", not inside["dns"]),
        row("network mode", "none", host.get("NetworkMode"), host.get("NetworkMode") == "none"),
        row(
            "root filesystem",
            "read-only",
            "read-only" if not inside["write_root"] and not inside["write_usr"] else "writable",
            not inside["write_root"] and not inside["write_usr"] and bool(host.get("ReadonlyRootfs")),
        ),
        row(
            "workspace",
            f"tmpfs {WORKSPACE}, writable",
            ", ".join(tmpfs) or "-",
            tmpfs == [WORKSPACE] and inside["write_workspace"],
        ),
        row("host mounts", "none", ", ".join(str(m) for m in mounts) or "none", not mounts),
        row("host environment", "allow-list only", ", ".join(extra_env) or "allow-list only", not extra_env),
        row("dropped capabilities", "ALL", ",".join(host.get("CapDrop") or []), (host.get("CapDrop") or []) == ["ALL"]),
        row(
            "pids limit", str(settings.pids_limit), host.get("PidsLimit"), host.get("PidsLimit") == settings.pids_limit
        ),
        row(
            "memory limit",
            settings.memory,
            f"{mem // 2**20}m" if mem else "none",
            mem > 0 and host.get("MemorySwap") == mem,
        ),
        row(
            "cpu limit",
            f"{settings.cpus:g}",
            f"{(host.get('NanoCpus') or 0) / 1e9:g}",
            host.get("NanoCpus") == int(settings.cpus * 1e9),
        ),
        row("init process", "yes", "yes" if host.get("Init") else "no", bool(host.get("Init"))),
    ]
