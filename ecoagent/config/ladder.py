"""The model ladder's settings: a rung (a model, its endpoint and prices), the ladder, and the
shipped presets a ladder may name."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, model_validator

from ..errors import EcoagentError
from ..paths import shipped_dir
from .sections import _Section

__all__ = ["LadderSettings", "Rung", "load_ladder_preset", "problems"]


class Rung(_Section):
    """One model on the ladder. Keys never live here: ``api_key_env`` names the variable."""

    name: str = Field(..., min_length=1, description="Shown in logs, records and the terminal.")
    description: str = Field("", description="What the model is good at (the LLM router reads it).")
    provider: Literal["openai", "llama-cpp", "scripted"] = Field(
        ...,
        description="openai: any OpenAI-compatible endpoint; llama-cpp: an in-process GGUF model; "
        "scripted: replies from a JSON file (model = its path), for tests and demos.",
    )
    model: str = Field(
        ...,
        min_length=1,
        description="Model id, or for llama-cpp a GGUF path, 'bundled:smollm2', 'bundled:qwen2.5-coder-0.5b' "
        "or a file of a Hugging Face repository, 'hf:ORG/REPO/FILE' (from its cache; downloaded when missing).",
    )
    base_url: str | None = Field(None, description="Endpoint for OpenAI-compatible servers (Azure, Ollama, vLLM...).")
    api_key_env: str | None = Field(
        None, description="Name of the environment variable holding the key; '' for servers that need none."
    )
    adapter: str | None = Field(
        None,
        description="llama-cpp only: a LoRA adapter applied to the model, by the name `ecoagent finetune train` "
        "registered it under (e.g. smollm2-ft), a shipped one (bundled:smollm2-eco), or a path to an adapter GGUF file.",
    )
    model_info: dict[str, Any] | None = Field(None, description="AutoGen ModelInfo for models it does not know.")
    temperature: float = Field(0.0, ge=0, le=2)
    seed: int | None = Field(
        None,
        ge=0,
        description="Sampling seed for each call (with temperature > 0: a rung that samples the same way "
        "every run, e.g. a retry rung that draws other code than the greedy one below it).",
    )
    max_tokens: int = Field(1024, ge=1, le=200_000, description="Completion tokens per model call.")
    context_tokens: int = Field(4096, ge=256, description="Context window (llama-cpp n_ctx).")
    input_price_per_mtok: float = Field(0.0, ge=0, description="USD per million input tokens.")
    output_price_per_mtok: float = Field(0.0, ge=0, description="USD per million output tokens.")
    price_per_compute_hour: float = Field(
        0.0,
        ge=0,
        description="USD per hour the model computes (a local or self-hosted rung: what its machine costs); "
        "added to the token prices.",
    )
    timeout_s: float = Field(120.0, gt=0, description="Per model call.")
    compress: bool | None = Field(
        None, description="LLMLingua on what this rung reads beyond the query; default: on when input costs money."
    )
    compress_rate: float | None = Field(
        None, gt=0, le=1, description="Share of the prose tokens to keep (default: compress.rate)."
    )

    @model_validator(mode="after")
    def _adapter_needs_llama(self) -> Rung:
        if self.adapter and self.provider != "llama-cpp":
            raise ValueError(f"adapter is for llama-cpp rungs only (this rung's provider is {self.provider})")
        return self

    @property
    def compresses(self) -> bool:
        """Whether this rung reads compressed context: as set, else when its input tokens cost money."""
        return self.compress if self.compress is not None else self.input_price_per_mtok > 0

    def cost(self, prompt_tokens: int, completion_tokens: int, compute_s: float = 0.0) -> float:
        """USD for this many tokens and seconds of model compute at this rung's prices."""
        tokens = (prompt_tokens * self.input_price_per_mtok + completion_tokens * self.output_price_per_mtok) / 1e6
        return tokens + compute_s * self.price_per_compute_hour / 3600


class LadderSettings(_Section):
    """The ladder: a preset from ``agents/ladders/`` (or a TOML path), or inline rungs."""

    preset: str = Field("offline", description="Name in agents/ladders/ or a path to a ladder TOML file.")
    rungs: list[Rung] = Field(default_factory=list, description="Inline rungs; replace the preset's when given.")

    def resolved(self) -> list[Rung]:
        """The rungs to climb, cheapest first.

        Raises:
            EcoagentError: The preset does not exist or is invalid.
        """
        return list(self.rungs) if self.rungs else load_ladder_preset(self.preset)


def load_ladder_preset(name_or_path: str) -> list[Rung]:
    """Rungs from ``agents/ladders/<name>.toml`` or from a TOML file path.

    Raises:
        EcoagentError: The preset is unknown, not TOML, or a rung is invalid (names file and key).
    """
    path = Path(name_or_path).expanduser()
    if not path.suffix:
        path = shipped_dir("agents") / "ladders" / f"{name_or_path}.toml"
    if not path.is_file():
        known = sorted(p.stem for p in (shipped_dir("agents") / "ladders").glob("*.toml"))
        raise EcoagentError(
            f"ladder preset {name_or_path!r} not found ({path})",
            f"use one of {', '.join(known)} or a path to a ladder TOML file",
            exit_code=2,
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise EcoagentError(f"{path}: not valid TOML: {exc}", "fix the syntax at the line shown", exit_code=2) from exc
    raw = data.get("rungs")
    if not isinstance(raw, list) or not raw:
        raise EcoagentError(f"{path}: no [[rungs]] defined", "add at least one [[rungs]] table", exit_code=2)
    try:
        return [Rung.model_validate(r) for r in raw]
    except ValidationError as exc:
        raise EcoagentError(
            f"{path}: invalid rung: {problems(exc, 'rungs')}", "see README.md 'Configuration'", exit_code=2
        ) from exc


def problems(exc: ValidationError, prefix: str = "") -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        parts.append(f"{prefix + '.' if prefix and loc else prefix}{loc}: {err['msg']}")
    return "; ".join(parts)
