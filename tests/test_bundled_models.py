"""The chat models that ship inside PyPI packages: found, joined, checked, and loaded.

Qwen2.5-Coder-0.5B arrives as six raw chunks of one GGUF file; the join and its digest
check are tested on small chunk files first (the logic), then on the real packages: the
joined file is the pinned one, llama.cpp loads it, and it writes code.
"""

from __future__ import annotations

import asyncio
import hashlib
import sys
from pathlib import Path

import pytest
from autogen_core.models import UserMessage

from ecoagent import bundled
from ecoagent.config import Rung, load_ladder_preset
from ecoagent.errors import EcoagentError
from ecoagent.models.llama import llama_client, llama_model_path


def _fake_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data: list[bytes], digest_of: bytes) -> Path:
    """Chunk packages made of ``data`` on sys.path, and the join's pins set to ``digest_of``."""
    parts = []
    for k, blob in enumerate(data, 1):
        pkg = tmp_path / "site" / f"fakechunk_{k}"
        (pkg / "data").mkdir(parents=True)
        (pkg / "__init__.py").write_text("")
        (pkg / "data" / "part.bin").write_bytes(blob)
        parts.append((pkg.name, "data/part.bin"))
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    for name in [m for m in sys.modules if m.startswith("fakechunk_")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(bundled, "_QWEN_CODER_PARTS", tuple(parts))
    monkeypatch.setattr(bundled, "QWEN_CODER_SHA256", hashlib.sha256(digest_of).hexdigest())
    monkeypatch.setattr(bundled, "QWEN_CODER_SIZE", len(digest_of))
    monkeypatch.setenv("ECOAGENT_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache" / "models" / bundled.QWEN_CODER_FILE


def test_the_chunks_are_joined_in_order_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = _fake_chunks(tmp_path, monkeypatch, [b"GGUF-one-", b"two-", b"three"], b"GGUF-one-two-three")
    assert bundled.qwen_coder_path() == target and target.read_bytes() == b"GGUF-one-two-three"
    (tmp_path / "site" / "fakechunk_1" / "data" / "part.bin").unlink()  # joined: the chunks are not read again
    assert bundled.qwen_coder_path() == target
    assert list(target.parent.iterdir()) == [target]  # no temporary file left beside it


def test_a_changed_chunk_is_refused_and_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = _fake_chunks(tmp_path, monkeypatch, [b"GGUF-one-", b"tw0-", b"three"], b"GGUF-one-two-three")
    with pytest.raises(FileNotFoundError, match="pinned"):
        bundled.qwen_coder_path()
    assert not target.exists() and not list(target.parent.iterdir())
    # a rung that names it says what to do
    with pytest.raises(EcoagentError) as info:
        llama_model_path("bundled:qwen2.5-coder-0.5b")
    assert "pinned" in info.value.message and "setup.sh" in (info.value.hint or "")


def test_a_missing_chunk_package_names_itself(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_chunks(tmp_path, monkeypatch, [b"a", b"b"], b"ab")
    monkeypatch.setattr(
        bundled, "_QWEN_CODER_PARTS", (*bundled._QWEN_CODER_PARTS, ("fakechunk_missing", "data/part.bin"))
    )
    with pytest.raises(FileNotFoundError, match="fakechunk-missing"):
        bundled.qwen_coder_path()


def test_an_unknown_bundled_name_lists_the_known_ones() -> None:
    with pytest.raises(EcoagentError) as info:
        llama_model_path("bundled:gpt-5")
    assert "bundled:smollm2" in (info.value.hint or "") and "bundled:qwen2.5-coder-0.5b" in (info.value.hint or "")


def test_the_offline_qwen_preset_names_the_bundled_model() -> None:
    assert [(r.model, r.adapter) for r in load_ladder_preset("offline-qwen")] == [
        ("bundled:qwen2.5-coder-0.5b", "bundled:qwen-eco")
    ]


def test_the_real_qwen_coder_is_the_pinned_file_and_writes_code() -> None:
    path = llama_model_path("bundled:qwen2.5-coder-0.5b")
    assert path.stat().st_size == bundled.QWEN_CODER_SIZE and path.read_bytes()[:4] == b"GGUF"
    client = llama_client(Rung(name="qwen", provider="llama-cpp", model="bundled:qwen2.5-coder-0.5b", max_tokens=40))
    reply = asyncio.run(client.create([UserMessage(content="Write Python code that prints 17 * 23.", source="user")]))
    assert "print" in str(reply.content) and "17" in str(reply.content)
    assert reply.usage.prompt_tokens > 0 and 0 < reply.usage.completion_tokens <= 40
