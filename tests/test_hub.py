"""A rung may name its model as the field does, ``hf:ORG/REPO/FILE``: read from a pre-filled Hugging
Face cache with the hub switched off (this machine has no model hub), and run for real."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from autogen_core.models import UserMessage

from ecoagent import bundled
from ecoagent.config import Rung
from ecoagent.errors import EcoagentError
from ecoagent.models import build_client, check_rung
from ecoagent.models.hub import hub_file, parse_hub_name
from ecoagent.models.llama import llama_model_path

COMMIT = "0123456789abcdef0123456789abcdef01234567"
NAME = "hf:acme/smol-gguf/SmolLM2-135M-Instruct.Q4_1.gguf"


@pytest.fixture
def hub_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """huggingface_hub's cache layout, holding the bundled SmolLM2 as acme/smol-gguf's file."""
    repo = tmp_path / "hub" / "models--acme--smol-gguf"
    snapshot = repo / "snapshots" / COMMIT
    snapshot.mkdir(parents=True)
    (snapshot / bundled.SMOLLM2_FILE).symlink_to(bundled.smollm2_path())
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(COMMIT, encoding="utf-8")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return snapshot


def test_a_cached_hub_file_resolves_without_the_network(hub_cache: Path) -> None:
    assert llama_model_path(NAME) == hub_cache / bundled.SMOLLM2_FILE
    pinned = f"hf:acme/smol-gguf@{COMMIT}/{bundled.SMOLLM2_FILE}"
    assert hub_file(pinned) == hub_cache / bundled.SMOLLM2_FILE
    check_rung(Rung(name="smol", provider="llama-cpp", model=NAME))


def test_a_rung_on_a_hub_file_answers_with_the_real_model(hub_cache: Path) -> None:
    client = build_client(Rung(name="smol", provider="llama-cpp", model=NAME, max_tokens=16), retries=0)
    result = asyncio.run(client.create([UserMessage(content="Say hello.", source="user")]))
    assert isinstance(result.content, str) and result.content.strip() and result.usage.completion_tokens > 0


def test_a_file_missing_from_the_cache_says_how_to_get_it(hub_cache: Path) -> None:
    with pytest.raises(EcoagentError) as info:
        llama_model_path("hf:acme/smol-gguf/other.gguf")
    assert "not in the Hugging Face cache" in info.value.message and "hf download acme/smol-gguf other.gguf" in (
        info.value.hint or ""
    )
    with pytest.raises(EcoagentError, match="not in the Hugging Face cache"):
        check_rung(Rung(name="x", provider="llama-cpp", model="hf:nobody/nothing/model.gguf"))


@pytest.mark.parametrize("name", ["hf:acme/model.gguf", "hf:acme//model.gguf", "hf:/a/b"])
def test_a_malformed_hub_name_is_a_usage_error(name: str) -> None:
    with pytest.raises(EcoagentError, match="not a Hugging Face file name") as info:
        parse_hub_name(name)
    assert info.value.exit_code == 2


def test_a_revision_and_a_nested_file_are_parsed() -> None:
    found = parse_hub_name("hf:Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF@v1/sub/q4.gguf")
    assert (found.repo, found.revision, found.filename) == (
        "Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF",
        "v1",
        "sub/q4.gguf",
    )
    assert str(found) == "hf:Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF@v1/sub/q4.gguf"
