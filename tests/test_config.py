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
        ("[sandbox]\nuser = \"0:0\"\n", "never runs code as root"),
        ("[sandbox]\nmemroy = \"1g\"\n", "sandbox.memroy"),
        ("[sandbox]\nmemory = \"lots\"\n", "size like 512m"),
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
