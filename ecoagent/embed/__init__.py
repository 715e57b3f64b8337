"""Sentence embeddings shared by the bank (and later replay, router, memory).

:class:`Embedder` wraps sentence-transformers (the bundled all-MiniLM-L6-v2 by
default) and runs single queries on ONNX Runtime when the model exports
(:mod:`.onnx`), with identical vectors at about half the time.
"""

from __future__ import annotations

from .embedder import BUNDLED_EMBEDDING, Backend, Embedder

__all__ = ["BUNDLED_EMBEDDING", "Backend", "Embedder"]
