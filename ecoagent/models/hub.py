"""Model files named the way the field names them: ``hf:ORG/REPO/FILE`` (``@REVISION`` after the
repo pins a revision), from Hugging Face's cache.

A rung's ``model`` may be a path, ``bundled:NAME``, or ``hf:Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF/
qwen2.5-coder-0.5b-instruct-q4_k_m.gguf``. The file is looked up in huggingface_hub's cache first
(``HF_HUB_CACHE`` / ``HF_HOME``), with no network at all; only when it is missing, and the hub is
not switched off (``HF_HUB_OFFLINE=1``), is it downloaded into that cache. A file already in the
cache is used as it is; ``hf download ORG/REPO FILE`` refreshes it.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import EcoagentError

__all__ = ["HF_PREFIX", "HubFile", "hub_file", "parse_hub_name"]

HF_PREFIX = "hf:"


class HubFile:
    """A file in a Hugging Face repository: ``repo`` (``ORG/NAME``), ``filename``, ``revision``."""

    def __init__(self, repo: str, filename: str, revision: str | None = None) -> None:
        self.repo, self.filename, self.revision = repo, filename, revision

    def __str__(self) -> str:
        at = f"@{self.revision}" if self.revision else ""
        return f"{HF_PREFIX}{self.repo}{at}/{self.filename}"


def parse_hub_name(name: str) -> HubFile:
    """``hf:ORG/REPO[@REV]/FILE`` as its parts.

    Raises:
        EcoagentError: Not of that shape (exit code 2).
    """
    body = name.removeprefix(HF_PREFIX)
    parts = body.split("/")
    if not name.startswith(HF_PREFIX) or len(parts) < 3 or not all(parts):
        raise EcoagentError(
            f"{name!r} is not a Hugging Face file name",
            "write hf:ORG/REPO/FILE, e.g. hf:Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            exit_code=2,
        )
    repo_name, _, revision = parts[1].partition("@")
    return HubFile(f"{parts[0]}/{repo_name}", "/".join(parts[2:]), revision or None)


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def hub_file(name: str) -> Path:
    """The local path of ``hf:ORG/REPO/FILE``: from the cache, else downloaded into it.

    Raises:
        EcoagentError: A bad name, or a file that is not cached and cannot be downloaded
            (the hub switched off or unreachable, no such repository or file).
    """
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    wanted = parse_hub_name(name)
    cache = os.environ.get("HF_HUB_CACHE") or None  # read now: huggingface_hub reads it once, at import
    repo, filename, revision = wanted.repo, wanted.filename, wanted.revision
    try:
        return Path(hf_hub_download(repo, filename, revision=revision, cache_dir=cache, local_files_only=True))
    except LocalEntryNotFoundError:
        if _offline():
            raise EcoagentError(
                f"{wanted} is not in the Hugging Face cache, and HF_HUB_OFFLINE is set",
                f"download it where the hub is reachable (hf download {wanted.repo} {wanted.filename}) "
                "and copy the cache here, or give the rung the file's path",
            ) from None
    try:
        return Path(hf_hub_download(repo, filename, revision=revision, cache_dir=cache))
    except (HfHubHTTPError, LocalEntryNotFoundError, OSError, ValueError) as exc:
        raise EcoagentError(
            f"{wanted} could not be downloaded ({exc.__class__.__name__}: {str(exc).splitlines()[0][:200]})",
            "check the repository and file name on huggingface.co; without internet, fill the cache "
            f"elsewhere (hf download {wanted.repo} {wanted.filename}) or give the rung the file's path",
        ) from None
