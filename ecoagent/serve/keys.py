"""API keys and budgets for ``ecoagent serve``.

Keys live in a TOML file (``[serve] keys_file``, default ``<config dir>/keys.toml``)
that holds only their SHA-256, a name and an optional budget, written by
``ecoagent keys add``; or in an environment variable (``KEY`` or ``NAME=KEY``, comma-
separated) for deployments that inject secrets. A request names its key as
``Authorization: Bearer KEY``, which every OpenAI client sends.

Spend is what the run log's ``spend`` table says the key has spent, on every path
(cache and replay hits at $0, router, judge and summary calls included). A budget is
checked before the query runs: a key at or over it gets a 429 and spends nothing more.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..config import ServeSettings
from ..errors import EcoagentError
from ..runlog import RunLog
from .errors import APIError

__all__ = ["ApiKey", "KeyRing", "add_key", "hash_key", "read_keys", "remove_key"]

_PREFIX = "eco-"


def hash_key(key: str) -> str:
    """The stored form of a key."""
    return hashlib.sha256(key.encode()).hexdigest()


class ApiKey(BaseModel):
    """One key: its name (kept in the run log with every run it sent), hash and budgets."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(..., pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    sha256: str = Field(..., pattern=r"^[0-9a-f]{64}$")
    budget_usd: float | None = Field(None, ge=0)
    budget_tokens: int | None = Field(None, ge=0)


@dataclass
class KeyRing:
    """The keys a server accepts (none: an open, loopback-only server)."""

    keys: list[ApiKey]

    @classmethod
    def load(cls, settings: ServeSettings, environ: dict[str, str] | None = None) -> KeyRing:
        """The keys of the keys file and of the ``keys_env`` variable.

        Raises:
            EcoagentError: The keys file is unreadable or invalid (names the file and key).
        """
        keys = _read_file(settings.keys_path())
        raw = (os.environ if environ is None else environ).get(settings.keys_env, "")
        for i, item in enumerate(x.strip() for x in raw.split(",") if x.strip()):
            name, sep, key = item.partition("=")
            if not sep:
                name, key = f"env-{i + 1}", item
            keys.append(ApiKey(name=name.strip(), sha256=hash_key(key.strip())))
        names = [k.name for k in keys]
        if len(set(names)) != len(names):
            raise EcoagentError(
                f"two API keys share a name: {sorted(n for n in names if names.count(n) > 1)}",
                "give every key its own name (ecoagent keys list)",
                exit_code=2,
            )
        return cls(keys)

    @property
    def open(self) -> bool:
        """No keys: every request is accepted (the server then binds to loopback only)."""
        return not self.keys

    def authenticate(self, authorization: str | None) -> ApiKey | None:
        """The key a request's ``Authorization`` header names (None on an open server).

        Raises:
            APIError: 401 when the header is missing or the key is unknown.
        """
        if self.open:
            return None
        if not authorization or not authorization.lower().startswith("bearer "):
            raise APIError(
                401, "no API key: send 'Authorization: Bearer KEY' (the openai SDK's api_key)", code="missing_api_key"
            )
        digest = hash_key(authorization[7:].strip())
        for key in self.keys:
            if hmac.compare_digest(key.sha256, digest):
                return key
        raise APIError(
            401,
            "the API key is not valid for this server (ecoagent keys list shows the names it accepts)",
            code="invalid_api_key",
        )

    @staticmethod
    def check_budget(key: ApiKey | None, runlog: RunLog) -> None:
        """Refuse a key that has spent its budget.

        Raises:
            APIError: 429 with the budget and the spend.
        """
        if key is None or (key.budget_usd is None and key.budget_tokens is None):
            return
        spent = runlog.spend(key.name)
        if key.budget_usd is not None and spent.cost >= key.budget_usd:
            raise APIError(
                429,
                f"key {key.name!r} has spent ${spent.cost:.6f} of its ${key.budget_usd:.6f} budget "
                f"over {spent.items} item(s); raise it with `ecoagent keys add {key.name} --budget-usd N --replace`",
                code="budget_exceeded",
            )
        if key.budget_tokens is not None and spent.tokens >= key.budget_tokens:
            raise APIError(
                429,
                f"key {key.name!r} has spent {spent.tokens:,} of its {key.budget_tokens:,} token budget "
                f"over {spent.items} item(s); raise it with `ecoagent keys add {key.name} --budget-tokens N --replace`",
                code="budget_exceeded",
            )


def _read_file(path: Path) -> list[ApiKey]:
    if not path.is_file():
        return []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise EcoagentError(
            f"keys file {path}: cannot read it ({exc})", "fix it, or remove it and add keys again", exit_code=2
        ) from exc
    out = []
    for i, raw in enumerate(data.get("keys", [])):
        try:
            out.append(ApiKey.model_validate(raw))
        except ValidationError as exc:
            err = exc.errors()[0]
            raise EcoagentError(
                f"keys file {path}: keys[{i}].{'.'.join(map(str, err['loc']))}: {err['msg']}",
                "each [[keys]] has name, sha256 and optional budget_usd / budget_tokens",
                exit_code=2,
            ) from exc
    return out


def _write_file(path: Path, keys: list[ApiKey]) -> None:
    lines = ["# ecoagent serve API keys: only their SHA-256 is kept. Edit with `ecoagent keys`.\n"]
    for k in keys:
        lines.append(f'[[keys]]\nname = "{k.name}"\nsha256 = "{k.sha256}"\n')
        if k.budget_usd is not None:
            lines.append(f"budget_usd = {k.budget_usd!r}\n")
        if k.budget_tokens is not None:
            lines.append(f"budget_tokens = {k.budget_tokens}\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text("".join(lines), encoding="utf-8")
    os.chmod(tmp, 0o600)
    tmp.replace(path)


def add_key(
    path: Path,
    name: str,
    *,
    budget_usd: float | None = None,
    budget_tokens: int | None = None,
    replace: bool = False,
    key: str | None = None,
) -> tuple[str | None, ApiKey]:
    """Add a key (a new random one unless ``key`` is given) and return it with its entry;
    with ``replace``, an existing key of that name keeps its secret and gets the new budgets
    (the returned secret is then None).

    Raises:
        EcoagentError: The name is taken (without ``replace``) or invalid.
    """
    keys = _read_file(path)
    old = next((k for k in keys if k.name == name), None)
    if old is not None and not replace:
        raise EcoagentError(
            f"a key named {name!r} exists",
            f"pick another name, or `ecoagent keys add {name} --replace` to change its budget",
            exit_code=2,
        )
    secret = None if (old is not None and key is None) else (key or _PREFIX + secrets.token_urlsafe(24))
    fields: dict[str, Any] = {
        "name": name,
        "sha256": hash_key(secret) if secret else old.sha256 if old else "",
        "budget_usd": budget_usd,
        "budget_tokens": budget_tokens,
    }
    try:
        entry = ApiKey.model_validate(fields)
    except ValidationError as exc:
        raise EcoagentError(
            f"invalid key {name!r}: {exc.errors()[0]['msg']}", "names use letters, digits, . _ -", exit_code=2
        ) from exc
    _write_file(path, [entry if k.name == name else k for k in keys] if old else [*keys, entry])
    return secret, entry


def remove_key(path: Path, name: str) -> bool:
    """Remove a key; False if there was none by that name."""
    keys = _read_file(path)
    kept = [k for k in keys if k.name != name]
    if len(kept) == len(keys):
        return False
    _write_file(path, kept)
    return True


def read_keys(path: Path) -> list[ApiKey]:
    """The keys file's entries."""
    return _read_file(path)
