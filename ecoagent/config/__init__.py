"""Typed settings: every knob ecoagent has, validated, with one place to read them.

Settings come from, in order of precedence (highest first):

1. ``ECOAGENT_<SECTION>__<KEY>`` environment variables
   (e.g. ``ECOAGENT_SANDBOX__TIMEOUT_S=30``; a list or table is written as JSON:
   ``ECOAGENT_SANDBOX__ENV_ALLOWLIST='["LANG"]'``);
2. the TOML file given with ``--config``, else ``./ecoagent.toml``, else
   ``<config dir>/config.toml``;
3. the defaults below.

pydantic-settings reads both (its environment source with ``__`` between nested keys, its
TOML source for the file); :func:`load_settings` picks the file and words the errors.

Invalid values raise :class:`~ecoagent.errors.EcoagentError` naming the file, the key
and what is allowed, so a typo never turns into a silent default.
"""

from __future__ import annotations

import tomllib
from contextvars import ContextVar
from pathlib import Path

from pydantic import Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

from ..errors import EcoagentError
from ..paths import config_dir, data_dir
from .ladder import LadderSettings, Rung, load_ladder_preset, problems
from .sections import (
    MAX_CONTEXT_CHARS,
    MAX_QUERY_CHARS,
    BankSettings,
    CacheSettings,
    CompressSettings,
    JudgeName,
    JudgeSettings,
    MemorySettings,
    RouterSettings,
    RunSettings,
    SandboxSettings,
    ServeSettings,
)

__all__ = [
    "ENV_PREFIX",
    "MAX_CONTEXT_CHARS",
    "MAX_QUERY_CHARS",
    "BankSettings",
    "CacheSettings",
    "CompressSettings",
    "JudgeName",
    "JudgeSettings",
    "LadderSettings",
    "MemorySettings",
    "RouterSettings",
    "Rung",
    "RunSettings",
    "SandboxSettings",
    "ServeSettings",
    "Settings",
    "load_ladder_preset",
    "find_config_file",
    "load_settings",
]

ENV_PREFIX = "ECOAGENT_"

_TOML_FILE: ContextVar[Path | None] = ContextVar("ecoagent_toml_file", default=None)


class Settings(BaseSettings):
    """All of ecoagent's settings: the environment (``ECOAGENT_<SECTION>__<KEY>``) over the
    config file :func:`load_settings` found over the defaults. Built directly
    (``Settings(ladder=...)``), its arguments come first."""

    model_config = SettingsConfigDict(
        extra="forbid",
        validate_assignment=True,
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        case_sensitive=False,
    )

    sandbox: SandboxSettings = Field(default_factory=SandboxSettings)
    ladder: LadderSettings = Field(default_factory=LadderSettings)
    cache: CacheSettings = Field(default_factory=CacheSettings)
    memory: MemorySettings = Field(default_factory=MemorySettings)
    compress: CompressSettings = Field(default_factory=CompressSettings)
    router: RouterSettings = Field(default_factory=RouterSettings)
    run: RunSettings = Field(default_factory=RunSettings)
    judge: JudgeSettings = Field(default_factory=JudgeSettings)
    bank: BankSettings = Field(default_factory=BankSettings)
    serve: ServeSettings = Field(default_factory=ServeSettings)
    runlog_path: Path | None = Field(None, description="SQLite run log (default: <data dir>/runs.sqlite3).")
    source: Path | None = Field(None, exclude=True, description="File the settings came from.")

    @model_validator(mode="after")
    def _judge_rung_exists(self) -> Settings:
        if self.run.judge_rung and self.ladder.rungs and self.run.judge_rung not in {r.name for r in self.ladder.rungs}:
            raise ValueError(f"run.judge_rung {self.run.judge_rung!r} is not a rung of the ladder")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = _TOML_FILE.get()
        file = (TomlConfigSettingsSource(settings_cls, toml_file=toml),) if toml is not None else ()
        return (init_settings, env_settings, *file)

    def runlog_file(self) -> Path:
        """The SQLite run log file."""
        return self.runlog_path if self.runlog_path is not None else data_dir() / "runs.sqlite3"


def find_config_file(explicit: Path | None = None) -> Path | None:
    """The config file to read: explicit, else ./ecoagent.toml, else the user config dir.

    Raises:
        EcoagentError: ``explicit`` was given but does not exist (exit code 2).
    """
    if explicit is not None:
        if not explicit.is_file():
            raise EcoagentError(
                f"config file {explicit} does not exist",
                "check the --config path, or omit it to use ./ecoagent.toml",
                exit_code=2,
            )
        return explicit
    for candidate in (Path.cwd() / "ecoagent.toml", config_dir() / "config.toml"):
        if candidate.is_file():
            return candidate
    return None


def load_settings(path: Path | None = None) -> Settings:
    """Load settings from the config file chain and the environment.

    Args:
        path: An explicit config file (``--config``); must exist.

    Raises:
        EcoagentError: The file is not valid TOML, or a key is unknown or invalid; the
            message names the file, the key and what is allowed.
    """
    source = find_config_file(path)
    token = _TOML_FILE.set(source)
    try:
        settings = Settings()
    except tomllib.TOMLDecodeError as exc:
        raise EcoagentError(
            f"{source}: not valid TOML: {exc}", "fix the syntax at the line shown", exit_code=2
        ) from exc
    except ValidationError as exc:
        where = str(source) if source else "environment"
        found = problems(exc)
        raise EcoagentError(
            f"{where}: invalid settings: {found}",
            "see README.md 'Configuration' for the allowed keys and values "
            f"(environment overrides use {ENV_PREFIX}<SECTION>__<KEY>)",
            exit_code=2,
        ) from exc
    except ValueError as exc:  # an environment value that is not the JSON a list or table needs
        raise EcoagentError(
            f"environment: invalid settings: {exc}",
            f"write lists and tables in {ENV_PREFIX}<SECTION>__<KEY> as JSON, e.g. '[\"LANG\"]'",
            exit_code=2,
        ) from exc
    finally:
        _TOML_FILE.reset(token)
    settings.source = source
    return settings
