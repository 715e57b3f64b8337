"""The embedding model exported to ONNX and run by ONNX Runtime: half the time per query.

Embedding the query is the largest part of what ecoagent adds to every query. For
a Transformer → mean-pooling model such as all-MiniLM-L6-v2, ONNX Runtime takes about
half of PyTorch's time on a short text on CPU, with the same vectors (differences
below 1e-6). The export (PyTorch's own exporter, pooling and normalization included
in the graph) takes a few seconds and is cached by content: the file name is a hash
of the weights and the exporter's version, so a changed model never meets a stale
export. The cache is :func:`ecoagent.paths.cache_dir`; when it cannot be written,
the export is kept in memory.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ..paths import cache_dir

__all__ = ["OnnxEncoder"]

log = logging.getLogger(__name__)

_EXPORT_VERSION = "1"  # bump when the exported graph changes
_OPSET = 17
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


class OnnxEncoder:
    """Normalized mean-pooled sentence embeddings from an ONNX Runtime session.

    Build one with :meth:`for_model`; it exports the model on first use.
    """

    def __init__(self, session: Any, tokenizer: Any, max_length: int, inputs: Sequence[str]) -> None:
        self._session = session
        self._tokenizer = tokenizer
        self._max_length = max_length
        self._inputs = tuple(inputs)
        # A fast tokenizer with truncation/padding set is not safe to share between
        # threads ("Already borrowed"); the session itself is.
        self._tokenize = threading.Lock()

    @classmethod
    def for_model(cls, model: Any, folder: Path | None = None) -> OnnxEncoder:
        """Export (or reuse the cached export of) a sentence-transformers model.

        Args:
            model: A ``SentenceTransformer`` whose modules are Transformer → mean Pooling
                (→ Normalize).
            folder: Cache folder (default: :func:`cache_dir`).

        Raises:
            ImportError: onnxruntime or onnx is not installed.
            Exception: The model cannot be exported, or its export gives other vectors
                than PyTorch (the caller falls back to PyTorch).
        """
        transformer = model[0]
        tokenizer = transformer.tokenizer
        probe = tokenizer(["ecoagent"], return_tensors="pt")
        inputs = [name for name in _INPUTS if name in probe]
        key = _fingerprint(transformer.auto_model, inputs)
        target = (folder or cache_dir()) / "onnx" / f"{key}.onnx"

        def checked(source: str | bytes) -> OnnxEncoder:
            encoder = cls(_session(source), tokenizer, int(transformer.max_seq_length), inputs)
            encoder._check(model)
            return encoder

        if target.is_file():
            try:
                return checked(str(target))
            except Exception as exc:  # a damaged or foreign file: export again over it
                log.info("re-exporting %s: the cached file does not load (%s)", target, exc)
        graph = _export(transformer.auto_model, probe, inputs)
        return checked(_store(graph, target) or graph)

    def _check(self, model: Any) -> None:
        """Refuse an export whose vectors differ from the PyTorch model's."""
        texts = ["ecoagent checks its ONNX export", "x"]
        reference = np.asarray(model.encode(texts, normalize_embeddings=True), dtype=np.float32)
        drift = float(np.abs(self.encode(texts) - reference).max())
        if drift > 1e-4:
            raise ValueError(f"the ONNX export's vectors differ from PyTorch's by {drift:.2g}")

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> npt.NDArray[np.float32]:
        """Embed texts; rows are unit vectors (float32), in the order given."""
        rows: list[npt.NDArray[np.float32]] = []
        for start in range(0, len(texts), batch_size):
            with self._tokenize:
                enc = self._tokenizer(
                    list(texts[start : start + batch_size]),
                    padding=True,
                    truncation=True,
                    max_length=self._max_length,
                    return_tensors="np",
                )
            feed = {name: np.asarray(enc[name], dtype=np.int64) for name in self._inputs}
            rows.append(np.asarray(self._session.run(None, feed)[0], dtype=np.float32))
        if not rows:
            return np.zeros((0, 0), dtype=np.float32)
        return np.concatenate(rows)


def _session(source: str | bytes) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.inter_op_num_threads = 1
    # Idle ORT threads otherwise spin after each call and take the CPU from the
    # model and the sandbox that run right after retrieval.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])


def _fingerprint(auto_model: Any, inputs: Sequence[str]) -> str:
    """A content hash of the weights and of what shapes the export."""
    import torch

    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"{_EXPORT_VERSION}|{torch.__version__}|{_OPSET}|{','.join(inputs)}".encode())
    digest.update(type(auto_model).__name__.encode())
    for name, tensor in auto_model.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().contiguous().cpu().numpy().tobytes())
    return digest.hexdigest()


def _export(auto_model: Any, probe: Any, inputs: Sequence[str]) -> bytes:
    """The model plus mean pooling and L2 normalization as one ONNX graph."""
    import torch

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = auto_model

        def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
            named = dict(zip(inputs, tensors, strict=True))
            hidden = self.inner(**named).last_hidden_state
            mask = named["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, dim=-1)

    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer notes about Python control flow in the model
        out = Path(tmp) / "model.onnx"
        torch.onnx.export(
            Pooled().eval(),
            tuple(probe[name] for name in inputs),
            out,
            input_names=list(inputs),
            output_names=["embedding"],
            dynamic_axes={name: {0: "batch", 1: "tokens"} for name in inputs} | {"embedding": {0: "batch"}},
            opset_version=_OPSET,
            dynamo=False,
        )
        return out.read_bytes()


def _store(graph: bytes, target: Path) -> str | None:
    """Write the export atomically; None (keep it in memory) if the folder is read-only."""
    part: str | None = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=target.parent, suffix=".part", delete=False) as tmp:
            part = tmp.name
            tmp.write(graph)
        os.chmod(part, 0o644)  # like any cache file (NamedTemporaryFile makes it 0600)
        os.replace(part, target)  # concurrent exporters each write whole files; last one wins
        return str(target)
    except OSError as exc:
        log.info("cannot cache the ONNX export in %s (%s); keeping it in memory", target.parent, exc)
        if part is not None:
            Path(part).unlink(missing_ok=True)
        return None
