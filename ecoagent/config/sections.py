"""The settings' sections, one model each (``[sandbox]``, ``[run]``, ``[judge]``, ``[bank]``, …);
``Settings`` in :mod:`ecoagent.config` holds one of each."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..paths import config_dir, data_dir

__all__ = [
    "MAX_CONTEXT_CHARS",
    "MAX_QUERY_CHARS",
    "BankSettings",
    "CacheSettings",
    "CompressSettings",
    "JudgeName",
    "JudgeSettings",
    "MemorySettings",
    "RouterSettings",
    "RunSettings",
    "SandboxSettings",
    "ServeSettings",
]

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
            from ..bundled import smollm2_path

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


"""The config file :func:`load_settings` found, for :meth:`Settings.settings_customise_sources`."""
