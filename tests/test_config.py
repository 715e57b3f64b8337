"""Settings: file chain, environment overrides, and errors that name file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecoagent.config import SandboxSettings, load_settings
from ecoagent.errors import EcoagentError


def test_defaults_without_any_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.source is None
    assert settings.sandbox == SandboxSettings()


def test_local_file_then_env_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ecoagent.toml").write_text('[sandbox]\ntimeout_s = 5\nmemory = "1g"\n')
    monkeypatch.setenv("ECOAGENT_SANDBOX__TIMEOUT_S", "7.5")
    monkeypatch.setenv("ECOAGENT_SANDBOX__ENV_ALLOWLIST", '["LANG", "TZ"]')
    settings = load_settings()
    assert settings.source == tmp_path / "ecoagent.toml"
    assert settings.sandbox.timeout_s == 7.5 and settings.sandbox.memory == "1g"
    assert settings.sandbox.env_allowlist == ["LANG", "TZ"]


def test_user_config_dir_is_used_when_no_local_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    home = Path(__import__("os").environ["ECOAGENT_HOME"])
    (home / "config").mkdir(parents=True)
    (home / "config" / "config.toml").write_text("[sandbox]\npids_limit = 64\n")
    assert load_settings().sandbox.pids_limit == 64


@pytest.mark.parametrize(
    ("toml", "needle"),
    [
        ("[sandbox]\ntimeout_s = -1\n", "sandbox.timeout_s"),
        ('[sandbox]\nuser = "0:0"\n', "never runs code as root"),
        ('[sandbox]\nmemroy = "1g"\n', "sandbox.memroy"),
        ('[sandbox]\nmemory = "lots"\n', "size like 512m"),
        ("[sandbox\n", "not valid TOML"),
    ],
)
def test_invalid_file_names_file_and_key(tmp_path: Path, toml: str, needle: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(toml)
    with pytest.raises(EcoagentError) as info:
        load_settings(path)
    assert str(path) in info.value.message and needle in info.value.message
    assert info.value.exit_code == 2 and info.value.hint


def test_missing_explicit_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(EcoagentError) as info:
        load_settings(tmp_path / "nope.toml")
    assert info.value.exit_code == 2 and "does not exist" in info.value.message


# ---- ladders -----------------------------------------------------------------------
from ecoagent.config import LadderSettings, Rung, load_ladder_preset  # noqa: E402
from ecoagent.models import build_client, resolve_api_key  # noqa: E402


def test_shipped_presets_load() -> None:
    assert [(r.name, r.adapter) for r in load_ladder_preset("offline")] == [
        ("smollm2-eco", "bundled:smollm2-eco"),
        ("qwen-eco", "bundled:qwen-eco"),
        ("qwen2.5-coder-0.5b", None),
    ]
    assert [(r.name, r.adapter) for r in load_ladder_preset("offline-plain")] == [("smollm2", None)]
    openai = load_ladder_preset("openai")
    assert [r.provider for r in openai] == ["openai", "openai"]
    assert openai[0].input_price_per_mtok < openai[1].input_price_per_mtok  # cheapest first
    assert all(r.api_key_env == "" for r in load_ladder_preset("ollama"))


def test_default_ladder_is_the_offline_preset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    rungs = load_settings().ladder.resolved()
    assert [(r.name, r.provider, r.model, r.adapter) for r in rungs] == [
        ("smollm2-eco", "llama-cpp", "bundled:smollm2", "bundled:smollm2-eco"),
        ("qwen-eco", "llama-cpp", "bundled:qwen2.5-coder-0.5b", "bundled:qwen-eco"),
        ("qwen2.5-coder-0.5b", "llama-cpp", "bundled:qwen2.5-coder-0.5b", None),
    ]


def test_inline_rungs_replace_the_preset(tmp_path: Path) -> None:
    cfg = tmp_path / "eco.toml"
    cfg.write_text(
        '[ladder]\npreset = "openai"\n[[ladder.rungs]]\nname = "local"\nprovider = "openai"\nmodel = "m"\n'
        'base_url = "http://127.0.0.1:8000/v1"\napi_key_env = ""\ninput_price_per_mtok = 0.5\n'
    )
    rungs = load_settings(cfg).ladder.resolved()
    assert [r.name for r in rungs] == ["local"] and rungs[0].input_price_per_mtok == 0.5


def test_unknown_preset_lists_the_known_ones() -> None:
    with pytest.raises(EcoagentError) as info:
        LadderSettings(preset="nope").resolved()
    assert "not found" in info.value.message and "offline" in (info.value.hint or "")


def test_invalid_rung_in_a_preset_file_names_file_and_key(tmp_path: Path) -> None:
    path = tmp_path / "ladder.toml"
    path.write_text('[[rungs]]\nname = "x"\nprovider = "anthropic"\nmodel = "m"\n')
    with pytest.raises(EcoagentError) as info:
        load_ladder_preset(str(path))
    assert str(path) in info.value.message and "rungs.provider" in info.value.message


def test_invalid_inline_rung_names_the_key(tmp_path: Path) -> None:
    cfg = tmp_path / "eco.toml"
    cfg.write_text('[[ladder.rungs]]\nname = "x"\nprovider = "openai"\nmodel = "m"\ntemperature = 9\n')
    with pytest.raises(EcoagentError) as info:
        load_settings(cfg)
    assert "ladder.rungs.0.temperature" in info.value.message


def test_rung_cost_is_per_million_tokens() -> None:
    rung = Rung(name="r", provider="openai", model="m", input_price_per_mtok=2.5, output_price_per_mtok=10)
    assert rung.cost(1_000_000, 0) == pytest.approx(2.5)
    assert rung.cost(2000, 500) == pytest.approx(0.005 + 0.005)


def test_api_keys_come_from_the_named_variable_only() -> None:
    rung = Rung(name="gpt", provider="openai", model="gpt-4o-mini", api_key_env="MY_KEY")
    assert resolve_api_key(rung, {"MY_KEY": "sk-1"}) == "sk-1"
    with pytest.raises(EcoagentError) as info:
        resolve_api_key(rung, {"OPENAI_API_KEY": "sk-other"})
    assert "no API key for rung gpt" in info.value.message and "MY_KEY" in info.value.message
    assert resolve_api_key(rung.model_copy(update={"api_key_env": ""}), {}) is None


def test_missing_gguf_names_the_file() -> None:
    rung = Rung(name="local", provider="llama-cpp", model="/nope/model.gguf")
    with pytest.raises(EcoagentError, match="does not exist"):
        build_client(rung)
