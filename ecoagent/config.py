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

import re
import tomllib
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

from .errors import EcoagentError
from .paths import config_dir, data_dir, shipped_dir

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
MAX_QUERY_CHARS = 20_000  # a question; long material goes in the query's context
MAX_CONTEXT_CHARS = 400_000  # about 100k tokens: beyond what any rung here reads, and minutes of compression

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
    host_grace_s: float = Field(10.0, gt=0, le=600, description="Extra time before the host kills a hung container.")
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


JudgeName = Literal["evidence", "auto", "expected", "tests", "llm", "human"]


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
        description="Model id, or for llama-cpp a GGUF path, 'bundled:smollm2' or 'bundled:qwen2.5-coder-0.5b'.",
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


class RunSettings(_Section):
    """How one query runs on one rung, and how success is judged."""

    max_turns: int = Field(8, ge=2, le=100, description="Messages per rung (assistant + executor).")
    token_budget: int = Field(16_000, ge=100, description="Tokens per rung before it counts as failed.")
    judge: JudgeName = Field(
        "evidence",
        description="evidence | auto | expected | tests | llm | human (a query with tests uses tests, one "
        "with an expected answer uses expected, unless told otherwise). evidence: an answer is accepted only when "
        "independent evidence backs it under [judge] max_error; auto: any answer whose code ran",
    )
    stop_on_convergence: bool = Field(
        True, description="Stop a rung when its code reproduces its last successful output (counts as done)."
    )
    judge_rung: str | None = Field(None, description="Rung name the llm judge uses (default: the top rung).")
    retries: int = Field(3, ge=0, le=10, description="Retries of a failing model call (429/5xx/timeouts).")
    retry_backoff_s: float = Field(1.0, ge=0, le=60, description="First backoff; doubles per retry.")


class JudgeSettings(_Section):
    """The judges' knobs: the evidence judge's error bound and sampling, the ``tests`` judge's limits."""

    timeout_s: float = Field(20.0, gt=0, le=3600, description="How long the solution and its tests may run together.")
    show_tests: bool = Field(
        False,
        description="Show a query's tests to the model in its first message (off: a benchmark must not "
        "leak its tests into the prompt).",
    )
    max_error: float = Field(
        0.10,
        ge=0,
        le=1,
        description="The evidence judge accepts an answer only where the upper confidence bound of "
        "how often answers with the same evidence are wrong is at most this (0 accepts nothing: every answer is "
        "returned unverified).",
    )
    confidence: float = Field(0.95, gt=0.5, lt=1, description="Confidence of that upper bound.")
    samples: int = Field(
        2,
        ge=1,
        le=8,
        description="Attempts the evidence judge may draw on one rung (the first greedy, the others "
        "sampled) before the next rung tries; a disagreement climbs at once.",
    )
    sample_temperature: float = Field(
        0.7, gt=0, le=2, description="Temperature of the sampled attempts (seeded 1, 2, ...)."
    )
    explore: bool = Field(
        False,
        description="Calibration runs only: the evidence judge accepts nothing and every rung draws all its "
        "samples, so every kind of evidence is observed (score the run by its key, then `ecoagent calibrate`).",
    )
    calibration: Path | None = Field(
        None,
        description="Where your own calibration lives (default: <data dir>/calibration.json); it adds to the "
        "shipped one for the offline default's rungs.",
    )

    def calibration_file(self) -> Path:
        """The user's calibration file (``ecoagent calibrate`` and feedback write it)."""
        return self.calibration if self.calibration is not None else data_dir() / "calibration.json"


class BankSettings(_Section):
    """Where confirmed solutions live and how they come back as demonstrations."""

    path: Path | None = Field(None, description="Embedded Qdrant folder (default: <data dir>/bank).")
    url: str | None = Field(None, description="Qdrant server URL; when set, used instead of the folder.")
    api_key_env: str | None = Field(None, description="Env var with the Qdrant server's API key.")
    collection: str = Field("solutions", pattern=r"^[A-Za-z0-9_-]+$")
    embedding_model: str = Field(
        "bundled:all-MiniLM-L6-v2", description="sentence-transformers model name/path, or the bundled one."
    )
    embedding_backend: Literal["auto", "onnx", "torch"] = Field(
        "auto", description="auto: ONNX Runtime when the model exports (about 2x faster), else PyTorch."
    )
    top_k: int = Field(1, ge=0, le=20, description="Demonstrations per query, as EcoAssistant (0 turns them off).")
    threshold: float = Field(0.5, ge=-1, le=1, description="Minimum cosine similarity of a demonstration.")
    dedupe_threshold: float = Field(0.98, ge=0, le=1, description="At or above: update the existing entry.")
    retire_after_downs: int = Field(2, ge=1, description="Thumbs-down on runs that used it before it retires.")

    def storage_path(self) -> Path:
        """The embedded store's folder."""
        return self.path if self.path is not None else data_dir() / "bank"


class CacheSettings(_Section):
    """The first-turn stage: an exact answer cache and verified replay of banked code.

    Both only ever answer a conversation's first turn (a follow-up depends on what
    came before). Replay serves a banked solution's code, re-run in the sandbox, to a
    similar query only when the similarity guard finds both queries state the same
    numbers, names, negations and choices (see :mod:`ecoagent.cache.guard`).
    """

    enabled: bool = Field(True, description="Serve exact repeats from the cache (--no-cache turns it off per query).")
    replay: bool = Field(True, description="Re-run a confirmed solution's code for a guarded similar query.")
    replay_threshold: float = Field(0.5, ge=-1, le=1, description="Minimum cosine similarity before the guard looks.")
    ttl_s: float = Field(86_400.0, ge=0, description="Seconds an exact entry is served (0: forever).")
    path: Path | None = Field(None, description="SQLite file (default: <data dir>/cache.sqlite3).")

    def file(self) -> Path:
        """The cache's SQLite file."""
        return self.path if self.path is not None else data_dir() / "cache.sqlite3"


class MemorySettings(_Section):
    """What a chat's follow-ups read of the conversation (summary buffer and recall)."""

    keep_turns: int = Field(3, ge=1, le=50, description="Turns kept verbatim; older ones are summarized.")
    summary_words: int = Field(120, ge=20, le=2000, description="Length limit the summarizer is given.")
    recall: bool = Field(True, description="Recall similar earlier turns (any session) into a follow-up.")
    recall_k: int = Field(2, ge=0, le=20, description="At most this many recalled turns per follow-up.")
    recall_threshold: float = Field(0.45, ge=-1, le=1, description="Minimum cosine similarity of a recalled turn.")
    user: str = Field(
        "default", pattern=r"^[A-Za-z0-9_-]{1,64}$", description="Whose turns recall stores and searches."
    )


class RouterSettings(_Section):
    """Routing: start each query at the rung likely to solve it, learned from logged climbs.

    Applies to ladders of two rungs or more. With too little evidence a query climbs
    the plain ladder from the bottom, so a new ladder behaves as before until its log
    has something to say.
    """

    enabled: bool = Field(True, description="Start queries above the bottom rung where similar ones failed there.")
    mode: Literal["neighbours", "llm"] = Field(
        "neighbours",
        description="neighbours: learned from logged climbs; llm: the cheapest rung picks (its tokens count).",
    )
    threshold: float = Field(0.5, ge=0, le=1, description="A rung's estimated chance needed to start there.")
    explore: float = Field(0.05, ge=0, le=1, description="Share of queries that climb from the bottom regardless.")
    k: int = Field(20, ge=1, le=200, description="Logged queries consulted.")
    min_similarity: float = Field(0.5, ge=-1, le=1, description="Below this cosine a logged query says nothing.")
    min_evidence: float = Field(0.8, ge=0, description="Similarity weight needed before a rung may be skipped.")
    seed: int | None = Field(None, description="Seed of the exploration draws (the bench sets one: reproducible runs).")


class CompressSettings(_Section):
    """LLMLingua compression of what a rung reads beyond the query (rungs opt in with ``compress``).

    Only prose is compressed: code blocks, tracebacks, numbers, quoted strings,
    identifiers, paths and negations come back verbatim. Text with fewer compressible
    tokens than ``min_tokens`` is left as it is: the compressor's time would not pay.
    """

    enabled: bool = Field(True, description="Off: no rung reads compressed text, whatever the rung says.")
    rate: float = Field(0.5, gt=0, le=1, description="Share of the prose tokens to keep.")
    min_tokens: int = Field(300, ge=0, description="Compressible (prose) tokens below which nothing is compressed.")
    question_aware: bool = Field(
        True, description="LongLLMLingua: keep what bears on the query (two passes of the LM)."
    )
    model: str = Field(
        "bundled:smollm2", description="The compressor LM: 'bundled:smollm2' or a Llama-style GGUF path."
    )
    dtype: Literal["auto", "float32", "bfloat16"] = Field(
        "auto", description="auto: bfloat16 where the CPU has it natively (1.7x faster here), else float32."
    )

    def model_path(self) -> Path:
        """The compressor's GGUF file."""
        if self.model == "bundled:smollm2":
            from .bundled import smollm2_path

            return smollm2_path()
        return Path(self.model).expanduser()


class ServeSettings(_Section):
    """``ecoagent serve``: the pipeline behind an OpenAI-compatible HTTP endpoint.

    Keys come from ``keys_file`` (written by ``ecoagent keys add``; only their SHA-256 is
    stored) and from the ``keys_env`` variable. With no key at all the server answers
    anyone who can reach it, so it binds only to loopback.
    """

    host: str = Field("127.0.0.1", description="Interface to bind; anything but loopback needs API keys.")
    port: int = Field(8300, ge=0, le=65535, description="TCP port (0: any free port).")
    concurrency: int = Field(2, ge=1, le=256, description="Queries running at once.")
    queue: int = Field(64, ge=0, le=100_000, description="Queries waiting beyond those; more get 503 with Retry-After.")
    retry_after_s: int = Field(2, ge=1, le=3600, description="The Retry-After a 503 suggests.")
    max_body_bytes: int = Field(2_000_000, ge=1024, le=100_000_000, description="Larger request bodies get 413.")
    history_turns: int = Field(6, ge=0, le=100, description="Earlier turns of a request's messages carried as history.")
    grace_s: float = Field(30.0, ge=0, le=3600, description="On SIGTERM, how long queries in flight may finish.")
    keys_file: Path | None = Field(
        None, description="TOML file of hashed keys and budgets (default: <config dir>/keys.toml)."
    )
    keys_env: str = Field("ECOAGENT_API_KEYS", description="Variable with more keys: KEY or NAME=KEY, comma-separated.")

    def keys_path(self) -> Path:
        """The keys file."""
        return self.keys_file if self.keys_file is not None else config_dir() / "keys.toml"


_TOML_FILE: ContextVar[Path | None] = ContextVar("ecoagent_toml_file", default=None)
"""The config file :func:`load_settings` found, for :meth:`Settings.settings_customise_sources`."""


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
            f"{path}: invalid rung: {_problems(exc, 'rungs')}", "see README.md 'Configuration'", exit_code=2
        ) from exc


def _problems(exc: ValidationError, prefix: str = "") -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        parts.append(f"{prefix + '.' if prefix and loc else prefix}{loc}: {err['msg']}")
    return "; ".join(parts)


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
        problems = _problems(exc)
        raise EcoagentError(
            f"{where}: invalid settings: {problems}",
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
