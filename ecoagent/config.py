"""Typed settings: every knob ecoagent has, validated, with one place to read them.

Settings come from, in order of precedence (highest first):

1. ``ECOAGENT_<SECTION>__<KEY>`` environment variables
   (e.g. ``ECOAGENT_SANDBOX__TIMEOUT_S=30``; values are parsed as TOML, so lists work:
   ``ECOAGENT_SANDBOX__ENV_ALLOWLIST='["LANG"]'``);
2. the TOML file given with ``--config``, else ``./ecoagent.toml``, else
   ``<config dir>/config.toml``;
3. the defaults below.

Invalid values raise :class:`~ecoagent.errors.EcoagentError` naming the file, the key
and what is allowed, so a typo never turns into a silent default.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .errors import EcoagentError
from .paths import config_dir

__all__ = [
    "ENV_PREFIX",
    "SandboxSettings",
    "Settings",
    "find_config_file",
    "load_settings",
]

ENV_PREFIX = "ECOAGENT_"

_SIZE_RE = re.compile(r"^\d+[bkmg]?$", re.IGNORECASE)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class SandboxSettings(_Section):
    """Limits of the hardened Docker sandbox that runs the assistant's code.

    The defaults are deliberately tight: generated code needs seconds of CPU, a few
    hundred MB of memory and no network. Raise them per project, not globally.
    """

    image: str = Field("ecoagent-sandbox:latest", description="Docker image the code runs in.")
    timeout_s: float = Field(60.0, gt=0, le=3600, description="Per code block, enforced in the container.")
    kill_grace_s: float = Field(2.0, ge=0, le=60, description="SIGTERM → SIGKILL grace after a timeout.")
    host_grace_s: float = Field(
        10.0, gt=0, le=600, description="Extra time before the host kills a hung container."
    )
    memory: str = Field("512m", description="Container memory limit (no swap), e.g. 512m, 2g.")
    cpus: float = Field(1.0, gt=0, le=64, description="CPU limit in cores.")
    pids_limit: int = Field(128, ge=8, le=65536, description="Max processes in the container.")
    workspace_size: str = Field("64m", description="Size of the tmpfs scratch workspace.")
    output_cap_bytes: int = Field(
        65536, ge=256, le=64 * 1024 * 1024, description="Output kept per block; the rest is counted."
    )
    env_allowlist: list[str] = Field(
        default_factory=list, description="Host environment variables passed into the sandbox."
    )
    user: str = Field("1000:1000", description="uid:gid the code runs as (never root).")

    @field_validator("memory", "workspace_size")
    @classmethod
    def _size(cls, v: str) -> str:
        if not _SIZE_RE.match(v):
            raise ValueError("must be a size like 512m, 64m or 2g")
        return v.lower()

    @field_validator("user")
    @classmethod
    def _non_root(cls, v: str) -> str:
        m = re.fullmatch(r"(\d+):(\d+)", v)
        if not m:
            raise ValueError("must be numeric uid:gid, e.g. 1000:1000")
        if int(m.group(1)) == 0 or int(m.group(2)) == 0:
            raise ValueError("the sandbox never runs code as root (uid or gid 0)")
        return v

    @field_validator("env_allowlist")
    @classmethod
    def _env_names(cls, v: list[str]) -> list[str]:
        for name in v:
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
                raise ValueError(f"{name!r} is not an environment variable name")
        return v


class Settings(_Section):
    """All of ecoagent's settings."""

    sandbox: SandboxSettings = Field(default_factory=SandboxSettings)
    source: Path | None = Field(None, exclude=True, description="File the settings came from.")


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


def _env_overrides(environ: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, raw in environ.items():
        if not key.startswith(ENV_PREFIX) or "__" not in key:
            continue
        parts = key[len(ENV_PREFIX) :].lower().split("__")
        try:
            value: Any = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw  # plain strings need no TOML quoting
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return out


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(merged.get(k), dict):
            merged[k] = _merge(merged[k], v)
        else:
            merged[k] = v
    return merged


def load_settings(path: Path | None = None, environ: dict[str, str] | None = None) -> Settings:
    """Load settings from the config file chain and the environment.

    Args:
        path: An explicit config file (``--config``); must exist.
        environ: Environment to read overrides from (defaults to ``os.environ``).

    Raises:
        EcoagentError: The file is not valid TOML, or a key is unknown or invalid; the
            message names the file, the key and what is allowed.
    """
    source = find_config_file(path)
    data: dict[str, Any] = {}
    if source is not None:
        try:
            data = tomllib.loads(source.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise EcoagentError(
                f"{source}: not valid TOML: {exc}", "fix the syntax at the line shown", exit_code=2
            ) from exc
    data = _merge(data, _env_overrides(dict(os.environ if environ is None else environ)))
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        where = str(source) if source else "environment"
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise EcoagentError(
            f"{where}: invalid settings: {problems}",
            "see README.md 'Configuration' for the allowed keys and values "
            f"(environment overrides use {ENV_PREFIX}<SECTION>__<KEY>)",
            exit_code=2,
        ) from exc
    settings.source = source
    return settings
