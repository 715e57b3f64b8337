"""Building the sandbox image, with or without a Docker registry.

Two builders produce the same image shape from the shipped ``sandbox/`` folder:

* **Dockerfile** — when its base image is already in the local engine (a machine
  with a registry pulls it once); the usual ``docker build``.
* **offline** — for machines with no registry: ``sandbox/bootstrap.sh`` makes a
  Debian minbase root filesystem with debootstrap from the machine's own apt mirror,
  the host's pip installs ``sandbox/requirements.txt`` into it, and the tree is
  ``docker import``-ed.

The image carries a label with a hash of ``sandbox/``; setup rebuilds only when that
hash changed, so running setup twice changes nothing.
"""

from __future__ import annotations

import glob
import hashlib
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docker.errors import BuildError, DockerException, ImageNotFound

from ..errors import SandboxError
from ..paths import shipped_dir
from .engine import LABEL_HASH

__all__ = [
    "ImageStatus",
    "apt_mirror",
    "build_image",
    "dockerfile_base",
    "image_status",
    "sandbox_hash",
]

Log = Callable[[str], None]


@dataclass(frozen=True)
class ImageStatus:
    """What the engine has under the image tag, compared with ``sandbox/``."""

    image: str
    exists: bool
    built_hash: str | None
    wanted_hash: str

    @property
    def current(self) -> bool:
        """The image exists and was built from the shipped ``sandbox/``."""
        return self.exists and self.built_hash == self.wanted_hash


def sandbox_hash(folder: Path | None = None) -> str:
    """A short hash of every file in ``sandbox/`` (names and contents)."""
    folder = folder or shipped_dir("sandbox")
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def image_status(client: Any, image: str) -> ImageStatus:
    """Whether ``image`` exists and matches the shipped ``sandbox/``."""
    wanted = sandbox_hash()
    try:
        labels = client.images.get(image).labels or {}
    except ImageNotFound:
        return ImageStatus(image, False, None, wanted)
    return ImageStatus(image, True, labels.get(LABEL_HASH), wanted)


def dockerfile_base(folder: Path | None = None) -> str:
    """The default base image named by ``ARG BASE_IMAGE=`` in the Dockerfile."""
    text = ((folder or shipped_dir("sandbox")) / "Dockerfile").read_text(encoding="utf-8")
    match = re.search(r"^ARG\s+BASE_IMAGE=(\S+)", text, re.MULTILINE)
    if not match:
        raise SandboxError("sandbox/Dockerfile has no `ARG BASE_IMAGE=` line")
    return match.group(1)


def _os_codename() -> str:
    try:
        text = Path("/etc/os-release").read_text(encoding="utf-8")
    except OSError:
        text = ""
    match = re.search(r"^VERSION_CODENAME=\"?([a-z]+)", text, re.MULTILINE)
    return match.group(1) if match else "bookworm"


def apt_mirror(suite: str, etc_apt: Path = Path("/etc/apt")) -> str:
    """The machine's own Debian mirror for ``suite``, read from its apt sources.

    Both formats are read: one-line ``sources.list`` entries and deb822
    ``*.sources`` files. Only entries that carry ``suite`` itself (not
    ``-security``/``-updates``) and the ``main`` component count.

    Raises:
        SandboxError: No apt source carries the suite.
    """
    files = [etc_apt / "sources.list", *sorted(etc_apt.glob("sources.list.d/*.list"))]
    for path in files:
        for line in _read_lines(path):
            parts = line.split("#", 1)[0].split()
            if len(parts) >= 4 and parts[0] == "deb":
                uri_at = 2 if parts[1].startswith("[") else 1
                if parts[uri_at + 1] == suite and "main" in parts[uri_at + 2 :]:
                    return parts[uri_at]
    for path in sorted(etc_apt.glob("sources.list.d/*.sources")):
        for stanza in "\n".join(_read_lines(path)).split("\n\n"):
            fields = _deb822(stanza)
            if (
                "deb" in fields.get("types", "").split()
                and suite in fields.get("suites", "").split()
                and "main" in fields.get("components", "").split()
                and fields.get("enabled", "yes").lower() != "no"
            ):
                return fields["uris"].split()[0]
    raise SandboxError(
        f"no apt source for Debian {suite!r} found under {etc_apt}",
        "the offline builder needs a Debian mirror in the apt configuration; on a machine "
        "with a registry use the Dockerfile instead (`ecoagent sandbox build` without --offline)",
    )


def _read_lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return []


def _deb822(stanza: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    key = None
    for line in stanza.splitlines():
        if line.startswith("#"):
            continue
        if line[:1].isspace() and key:
            fields[key] += " " + line.strip()
        elif ":" in line:
            key, _, value = line.partition(":")
            key = key.strip().lower()
            fields[key] = value.strip()
    return fields


def build_image(
    client: Any,
    image: str,
    *,
    offline: bool | None = None,
    force: bool = False,
    log: Log = lambda _msg: None,
) -> str:
    """Build the sandbox image unless it is already current.

    Args:
        client: A docker client.
        image: Tag to build.
        offline: True forces the offline builder; False forces the Dockerfile; None
            picks the Dockerfile when its base image is present locally.
        force: Rebuild even when the image is current.
        log: Receives one-line progress messages.

    Returns:
        ``"current"``, ``"dockerfile"`` or ``"offline"``: what happened.

    Raises:
        SandboxError: The build failed; the message says which step and what to do.
    """
    status = image_status(client, image)
    if status.current and not force:
        return "current"
    folder = shipped_dir("sandbox")
    base = dockerfile_base(folder)
    if offline is None:
        try:
            client.images.get(base)
            offline = False
        except ImageNotFound:
            offline = True
            log(f"base image {base} is not available locally: using the offline builder")
    if offline:
        _build_offline(client, image, folder, status.wanted_hash, log)
        return "offline"
    log(f"building {image} from sandbox/Dockerfile (FROM {base})")
    try:
        client.images.build(path=str(folder), tag=image, labels={LABEL_HASH: status.wanted_hash}, rm=True, pull=False)
    except (BuildError, DockerException) as exc:
        raise SandboxError(
            f"docker build of {image} failed: {exc}",
            "check that the base image can be pulled, or use `ecoagent sandbox build --offline`",
        ) from exc
    return "dockerfile"


def _build_offline(client: Any, image: str, folder: Path, wanted: str, log: Log) -> None:
    if os.geteuid() != 0:
        raise SandboxError(
            "the offline builder needs root (debootstrap and chroot)",
            "run `sudo ecoagent sandbox build --offline`, or build from the Dockerfile on a machine with a registry",
        )
    if shutil.which("debootstrap") is None:
        raise SandboxError("debootstrap is not installed", "install it: `apt-get install -y debootstrap`")
    suite = _os_codename()
    mirror = apt_mirror(suite)
    with tempfile.TemporaryDirectory(prefix="ecoagent-rootfs-") as tmp:
        rootfs = Path(tmp) / "rootfs"
        log(f"debootstrap {suite} from the machine's apt mirror (about 1-2 minutes)")
        _run(["sh", str(folder / "bootstrap.sh"), str(rootfs), suite, mirror], "debootstrap")
        _pip_into_rootfs(rootfs, folder / "requirements.txt", log)
        log("importing the root filesystem into Docker")
        tarball = Path(tmp) / "rootfs.tar"
        with tarfile.open(tarball, "w") as tar:
            tar.add(rootfs, arcname=".")
        changes = [
            f"LABEL {LABEL_HASH}={wanted}",
            "ENV LANG=C.UTF-8 PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1",
            "ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/bin:/usr/sbin:/bin:/sbin",
            "WORKDIR /workspace",
            "USER 1000:1000",
            'CMD ["python3"]',
        ]
        repo, _, tag = image.rpartition(":") if ":" in image.split("/")[-1] else (image, "", "latest")
        try:
            client.api.import_image_from_file(str(tarball), repository=repo, tag=tag, changes=changes)
        except DockerException as exc:
            raise SandboxError(f"docker import of {image} failed: {exc}") from exc
    status = image_status(client, image)
    if not status.current:
        raise SandboxError(f"docker import finished but {image} is missing or unlabelled")


def _pip_into_rootfs(rootfs: Path, requirements: Path, log: Log) -> None:
    found = sorted(glob.glob(str(rootfs / "usr/lib/python3.*")))
    versions = [Path(p).name.removeprefix("python") for p in found if re.search(r"3\.\d+$", p)]
    if not versions:
        raise SandboxError("the bootstrapped root filesystem has no python3")
    version = versions[-1]
    target = rootfs / f"usr/local/lib/python{version}/dist-packages"
    arch = platform.machine()
    platforms = [f"manylinux_2_{minor}_{arch}" for minor in range(17, 37)] + [
        f"manylinux2014_{arch}",
        f"linux_{arch}",
    ]
    log(f"pip: installing sandbox/requirements.txt for Python {version} into the image")
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",
        "--only-binary=:all:",
        "--python-version",
        version,
        "--implementation",
        "cp",
        "--target",
        str(target),
        "-r",
        str(requirements),
    ]
    for plat in platforms:
        cmd += ["--platform", plat]
    _run(cmd, "pip install of sandbox/requirements.txt")


def _run(cmd: list[str], what: str) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        raise SandboxError(
            f"{what} failed (exit {proc.returncode}):\n{tail}",
            "check the apt mirror and PyPI are reachable, then run `ecoagent sandbox build` again",
        )
