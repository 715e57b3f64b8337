"""The hardened Docker sandbox that runs the assistant's code.

* :mod:`.executor` — :class:`DockerSandboxExecutor`, AutoGen's ``CodeExecutor`` protocol,
  locked down (no network, non-root, read-only root, resource and time limits);
* :mod:`._runner` / :mod:`._attach` — the in-container supervisor and its channel;
* :mod:`.engine` — the Docker engine client, leftover reaping;
* :mod:`.image` — building the sandbox image (Dockerfile or offline debootstrap);
* :mod:`.hardening` — checks that a live container is as locked down as promised.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_getattr

if TYPE_CHECKING:
    from .executor import DockerSandboxExecutor, SandboxResult, normalize_language, safe_filename
    from .hardening import verify_hardening
    from .image import build_image, image_status

__all__ = [
    "DockerSandboxExecutor",
    "SandboxResult",
    "build_image",
    "image_status",
    "normalize_language",
    "safe_filename",
    "verify_hardening",
]

__getattr__ = lazy_getattr(
    __name__,
    {
        "DockerSandboxExecutor": "executor",
        "SandboxResult": "executor",
        "normalize_language": "executor",
        "safe_filename": "executor",
        "verify_hardening": "hardening",
        "build_image": "image",
        "image_status": "image",
    },
)
