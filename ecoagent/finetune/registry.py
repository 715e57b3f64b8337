"""Trained adapters by name, so a ladder file can say ``adapter = "smollm2-ft"``.

Shipped adapters (``agents/adapters/<name>/``, inside the wheel) are named
``bundled:<name>``, as the bundled model is ``bundled:smollm2``: a user's own adapter
can never shadow them. Their manifest records the SHA-256 of the adapter file and of
the base model, which ``ecoagent doctor`` checks (:func:`verify_adapter`).

Each adapter is a folder under ``<data dir>/adapters/<name>/``: ``adapter.gguf``
(what llama.cpp applies), ``peft/`` (the PEFT adapter, for transformers or further
training) and ``manifest.json`` (base model, data, settings, losses, time). The
base model is recorded by file name and size, so a rung that puts the adapter on
another model fails with a clear message instead of producing noise.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import EcoagentError
from ..paths import data_dir, shipped_dir

__all__ = [
    "SHIPPED_PREFIX",
    "Adapter",
    "adapter_dir",
    "adapters_root",
    "file_sha256",
    "list_adapters",
    "resolve_adapter",
    "shipped_adapters",
    "shipped_root",
    "valid_name",
    "verify_adapter",
]

SHIPPED_PREFIX = "bundled:"

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def adapters_root() -> Path:
    """Where registered adapters live."""
    return data_dir() / "adapters"


def valid_name(name: str) -> str:
    """``name`` if it can name an adapter folder.

    Raises:
        EcoagentError: It cannot (exit code 2).
    """
    if not _NAME.match(name):
        raise EcoagentError(
            f"invalid adapter name {name!r}", "use letters, digits, '.', '_' or '-' (e.g. smollm2-ft)", exit_code=2
        )
    return name


def shipped_root() -> Path:
    """Where the adapters that ship with ecoagent live (``agents/adapters``)."""
    return shipped_dir("agents") / "adapters"


def adapter_dir(name: str) -> Path:
    """The folder of the adapter called ``name`` (it may not exist yet)."""
    return adapters_root() / valid_name(name)


@dataclass(frozen=True)
class Adapter:
    """A registered adapter and what its manifest says."""

    name: str
    gguf: Path
    manifest: dict[str, Any]

    @property
    def shipped(self) -> bool:
        """Whether it ships with ecoagent (named ``bundled:<name>``)."""
        return self.name.startswith(SHIPPED_PREFIX)

    @property
    def base(self) -> str:
        """The base model as a rung names it (``bundled:smollm2`` or a GGUF path)."""
        return str(self.manifest.get("base", ""))

    def check_base(self, model_path: Path) -> None:
        """Raise unless ``model_path`` is the GGUF file this adapter was trained on.

        Raises:
            EcoagentError: Another model (names both and what to do).
        """
        want = self.manifest.get("base_file", {})
        size = model_path.stat().st_size if model_path.is_file() else -1
        if want and (want.get("name") != model_path.name or want.get("size") != size):
            raise EcoagentError(
                f"adapter {self.name} was trained on {want.get('name')} ({want.get('size')} bytes), not {model_path.name}",
                f"put it on a rung with model = {self.base!r}, or train one for this model",
            )


def _load(folder: Path, prefix: str = "") -> Adapter | None:
    gguf, manifest = folder / "adapter.gguf", folder / "manifest.json"
    if not gguf.is_file() or not manifest.is_file():
        return None
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except ValueError:
        data = {}
    return Adapter(prefix + folder.name, gguf, data if isinstance(data, dict) else {})


def shipped_adapters() -> list[Adapter]:
    """The adapters that ship with ecoagent, named ``bundled:<name>``."""
    root = shipped_root()
    found = [_load(p, SHIPPED_PREFIX) for p in sorted(root.iterdir()) if p.is_dir()] if root.is_dir() else []
    return [a for a in found if a is not None]


def list_adapters() -> list[Adapter]:
    """Every finished adapter (a training still running or interrupted has no adapter.gguf yet)."""
    root = adapters_root()
    found = [_load(p) for p in sorted(root.iterdir())] if root.is_dir() else []
    return [a for a in found if a is not None]


def resolve_adapter(ref: str) -> Adapter:
    """A rung's ``adapter``: a registered name, or a path to an adapter GGUF file.

    Raises:
        EcoagentError: No such adapter (lists the registered ones).
    """
    if ref.startswith(SHIPPED_PREFIX):
        shipped = _load(shipped_root() / valid_name(ref[len(SHIPPED_PREFIX) :]), SHIPPED_PREFIX)
        if shipped is None:
            names = ", ".join(a.name for a in shipped_adapters()) or "none"
            raise EcoagentError(
                f"no shipped adapter {ref!r} (shipped: {names})",
                "reinstall ecoagent (pip install --force-reinstall), or name one of those",
            )
        return shipped
    path = Path(ref).expanduser()
    if path.suffix == ".gguf":
        if not path.is_file():
            raise EcoagentError(f"adapter file {path} does not exist", "fix the rung's adapter path")
        found = _load(path.parent)
        return found if found is not None and found.gguf == path else Adapter(path.stem, path, {})
    found = _load(adapter_dir(ref))
    if found is None:
        names = ", ".join(a.name for a in list_adapters()) or "none yet"
        raise EcoagentError(
            f"no fine-tuned adapter named {ref!r} (registered: {names})",
            f"train it: ecoagent finetune train DATA.jsonl --name {ref}",
        )
    return found


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file, hex (read in 1 MiB blocks: model files are large)."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_adapter(adapter: Adapter, base_path: Path) -> list[str]:
    """What is wrong with ``adapter`` against its manifest (empty: nothing): the adapter
    file's and the base model's SHA-256, where the manifest records them."""
    problems = []
    want = adapter.manifest.get("adapter_sha256")
    if want and file_sha256(adapter.gguf) != want:
        problems.append(
            f"{adapter.gguf} does not match its manifest (SHA-256 differs): the file is damaged or was replaced"
        )
    want_base = adapter.manifest.get("base_file", {}).get("sha256")
    if want_base and (not base_path.is_file() or file_sha256(base_path) != want_base):
        problems.append(f"the base model {base_path} is not the one {adapter.name} was trained on (SHA-256 differs)")
    if not want:
        problems.append(f"{adapter.name}'s manifest records no adapter_sha256, so the file cannot be checked")
    return problems
