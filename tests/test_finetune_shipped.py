"""Training batches and precision, and shipped adapters: named ``bundled:NAME``, never
shadowed by a user's own, checked against their manifest. Docker-free and model-free
(the real shipped adapter on the real model is in test_finetune_path.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ecoagent.errors import EcoagentError
from ecoagent.finetune import TrainConfig, registry, resolve_adapter, shipped_adapters, verify_adapter
from ecoagent.finetune.data import Tokenized
from ecoagent.finetune.train import _batch


def examples(n: int) -> list[Tokenized]:
    return [Tokenized(list(range(10 + (i * 37) % 300)), [1] * (10 + (i * 37) % 300), False) for i in range(n)]


@pytest.mark.parametrize("by_length", [False, True])
def test_every_epoch_sees_every_example_once_in_a_seeded_order(by_length: bool) -> None:
    data = examples(203)
    per_epoch = 51  # ceil(203 / 4)
    for epoch in range(2):
        seen = [
            id(t) for s in range(epoch * per_epoch, (epoch + 1) * per_epoch) for t in _batch(data, s, 4, 0, by_length)
        ]
        assert sorted(seen) == sorted(id(t) for t in data)
    again = [_batch(data, s, 4, 0, by_length) for s in range(per_epoch)]
    assert again == [_batch(data, s, 4, 0, by_length) for s in range(per_epoch)]  # a resumed run sees the same
    assert [_batch(data, s, 4, 0, by_length) for s in range(per_epoch)] != [
        _batch(data, s, 4, 1, by_length) for s in range(per_epoch)
    ]


def test_length_grouping_cuts_the_padding() -> None:
    data = examples(400)

    def padded(by_length: bool) -> int:
        return sum(
            max(len(t.input_ids) for t in b) * len(b) for b in (_batch(data, s, 4, 0, by_length) for s in range(100))
        )

    assert padded(True) < 0.75 * padded(False)


def test_an_unknown_precision_is_refused_before_any_loading() -> None:
    with pytest.raises(EcoagentError, match="bf16, fp32 or auto"):
        TrainConfig(precision="fp8")


@pytest.fixture
def shipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "agents" / "adapters"
    folder = root / "tiny"
    folder.mkdir(parents=True)
    (folder / "adapter.gguf").write_bytes(b"GGUF adapter bytes")
    base = tmp_path / "base.gguf"
    base.write_bytes(b"GGUF base bytes")
    manifest = {
        "name": "tiny",
        "base": "bundled:smollm2",
        "adapter_sha256": registry.file_sha256(folder / "adapter.gguf"),
        "base_file": {"name": "base.gguf", "size": base.stat().st_size, "sha256": registry.file_sha256(base)},
    }
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    monkeypatch.setattr(registry, "shipped_root", lambda: root)
    monkeypatch.setenv("ECOAGENT_HOME", str(tmp_path / "home"))
    return tmp_path


def test_a_shipped_adapter_is_named_bundled_and_a_users_own_cannot_shadow_it(shipped: Path) -> None:
    (mine := registry.adapter_dir("tiny")).mkdir(parents=True)
    (mine / "adapter.gguf").write_bytes(b"mine")
    (mine / "manifest.json").write_text("{}", encoding="utf-8")
    assert [a.name for a in shipped_adapters()] == ["bundled:tiny"]
    adapter = resolve_adapter("bundled:tiny")
    assert adapter.shipped and adapter.gguf == shipped / "agents" / "adapters" / "tiny" / "adapter.gguf"
    assert resolve_adapter("tiny").gguf == mine / "adapter.gguf" and not resolve_adapter("tiny").shipped
    with pytest.raises(EcoagentError, match=r"no shipped adapter 'bundled:nope' \(shipped: bundled:tiny\)"):
        resolve_adapter("bundled:nope")


def test_a_shipped_adapter_is_checked_against_its_manifest(shipped: Path) -> None:
    adapter = resolve_adapter("bundled:tiny")
    base = shipped / "base.gguf"
    assert verify_adapter(adapter, base) == []
    other = shipped / "other.gguf"
    shutil.copyfile(base, other)
    other.write_bytes(b"another model")
    assert "is not the one bundled:tiny was trained on" in verify_adapter(adapter, other)[0]
    adapter.gguf.write_bytes(b"GGUF adapter bytes, damaged")
    assert "does not match its manifest" in verify_adapter(adapter, base)[0]


def test_doctor_checks_a_shipped_adapter_against_the_base_its_manifest_names(shipped: Path) -> None:
    from ecoagent.cli.doctor import _shipped_adapters

    manifest_path = shipped / "agents" / "adapters" / "tiny" / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["base"] = str(shipped / "base.gguf")  # a GGUF path, not the bundled SmolLM2
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    (row,) = _shipped_adapters()
    assert row.ok and "matches its manifest" in row.detail, row.detail

    manifest["base"] = str(shipped / "gone.gguf")
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    (row,) = _shipped_adapters()
    assert not row.ok and "gone.gguf does not exist" in row.detail, row.detail


def test_continuing_from_a_shipped_adapter_trains_the_base_its_manifest_names(shipped: Path) -> None:
    from typer.testing import CliRunner

    from ecoagent.cli import app

    manifest_path = shipped / "agents" / "adapters" / "tiny" / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["base"] = "bundled:qwen2.5-coder-0.5b"  # as bundled:qwen-eco's does
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    (mine := registry.adapter_dir("mine")).mkdir(parents=True)  # so training stops before any model loads
    (mine / "adapter.gguf").write_bytes(b"mine")
    data = shipped / "train.jsonl"
    data.write_text(
        json.dumps({"messages": [{"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "4"}]}) + "\n"
    )
    runner = CliRunner()
    done = runner.invoke(app, ["finetune", "train", str(data), "--name", "mine", "--from-adapter", "bundled:tiny"])
    assert done.exit_code == 2 and "loading bundled:qwen2.5-coder-0.5b for training" in done.output, done.output
    assert "already exists" in done.output
    plain = runner.invoke(app, ["finetune", "train", str(data), "--name", "mine"])  # without it, the plain SmolLM2
    assert plain.exit_code == 2 and "loading bundled:smollm2 for training" in plain.output, plain.output
