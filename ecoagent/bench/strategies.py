"""Bench strategies: which rungs a run may use and which stages are on.

Strategies are data (``agents/strategies.toml``, or a user's file): a name, the rungs
("all", "bottom", "top" or a list of names) and the stages (demonstrations, the
first-turn cache; memory, compression, router and fine-tuned rungs join as those
stages land).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..config import Rung
from ..errors import EcoagentError
from ..paths import shipped_dir

__all__ = ["Strategy", "load_strategies", "select_strategies"]


class Strategy(BaseModel):
    """One way of answering the bench's tasks."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(..., pattern=r"^[A-Za-z0-9_.+-]+$", description="Shown in tables; also the folder of its data.")
    description: str = ""
    rungs: Literal["all", "bottom", "top"] | list[str] = "all"
    demonstrations: bool = False
    cache: bool = Field(False, description="The first-turn stage: exact cache and verified replay of banked code.")
    memory: bool = Field(
        False, description="Follow-ups of conversation tasks read a summary buffer and recalled turns (else nothing)."
    )
    router: bool = Field(
        False, description="Start each query at the rung similar logged queries needed (learned as the bench runs)."
    )
    compress: bool | None = Field(
        None,
        description="LLMLingua on what every rung reads beyond the query (true/false); unset: each rung's own setting.",
    )
    finetuned: str | None = Field(
        None,
        description="The bottom rung runs with this fine-tuned adapter (a name `ecoagent finetune train` registered).",
    )
    judge: Literal["evidence", "auto", "llm"] | None = Field(
        None,
        description="How the pipeline decides a rung succeeded, and so whether to climb. Unset: by the item's "
        "answer key (expected answer or tests), a ladder with an oracle. evidence, auto or llm: as a user without an "
        "answer key runs it (the pipeline never sees the key). Either way the bench scores the answer the pipeline "
        "stood behind against the answer key.",
    )
    max_error: float | None = Field(
        None, ge=0, le=1, description="The evidence judge's bound for this strategy. Unset: [judge] max_error."
    )
    explore: bool = Field(
        False,
        description="The evidence judge accepts nothing and every rung draws all its samples: the exploration "
        "run a calibration is made from (`ecoagent calibrate FOLDER`).",
    )
    samples: int | None = Field(
        None, ge=1, le=8, description="The evidence judge's attempts per rung. Unset: [judge] samples."
    )

    @model_validator(mode="after")
    def _judge_without_cache(self) -> Strategy:
        # The first-turn stage serves a replay on its guard's word, with no attempt to score;
        # under an answer key it is rejected and falls through. Scoring it is not built.
        if self.judge and self.cache:
            raise ValueError("judge cannot be combined with cache (the first-turn stage's replays are not scored)")
        return self

    def ladder(self, rungs: list[Rung]) -> list[Rung]:
        """The rungs this strategy climbs, cheapest first.

        Raises:
            EcoagentError: A named rung is not on the ladder.
        """
        chosen = self._chosen(rungs)
        if self.finetuned is None:
            return chosen
        bottom = chosen[0]
        if bottom.provider != "llama-cpp":
            raise EcoagentError(
                f"strategy {self.name}: the bottom rung {bottom.name} is not a llama-cpp model, so no adapter applies",
                "use a ladder whose cheapest rung is local (e.g. the offline preset)",
                exit_code=2,
            )
        # named after the adapter, so tables and run logs say which model answered; on the
        # model it was trained on (an adapter for another base cannot apply to this one)
        update = {"name": self.finetuned, "adapter": self.finetuned}
        if base := _adapter_base(self.finetuned):
            update["model"] = base
        return [bottom.model_copy(update=update), *chosen[1:]]

    def _chosen(self, rungs: list[Rung]) -> list[Rung]:
        if self.rungs == "all":
            return list(rungs)
        if self.rungs == "bottom":
            return rungs[:1]
        if self.rungs == "top":
            return rungs[-1:]
        by_name = {r.name: r for r in rungs}
        missing = [n for n in self.rungs if n not in by_name]
        if missing:
            raise EcoagentError(
                f"strategy {self.name}: no rung {', '.join(missing)} on the ladder",
                f"rungs: {', '.join(by_name)}",
                exit_code=2,
            )
        return [by_name[n] for n in self.rungs]


def load_strategies(path: Path | None = None) -> dict[str, Strategy]:
    """The built-in strategies, plus (overriding by name) those of ``path``.

    Raises:
        EcoagentError: The file is missing, not TOML, or a strategy is invalid (names
            the file and the strategy).
    """
    found: dict[str, Strategy] = {}
    for source in [shipped_dir("agents") / "strategies.toml", *([path] if path else [])]:
        try:
            data = tomllib.loads(source.read_text(encoding="utf-8"))
        except OSError as exc:
            raise EcoagentError(
                f"{source}: cannot read it ({exc})", "pass a strategies TOML file", exit_code=2
            ) from exc
        except tomllib.TOMLDecodeError as exc:
            raise EcoagentError(
                f"{source}: not valid TOML: {exc}", "fix the syntax at the line shown", exit_code=2
            ) from exc
        for i, raw in enumerate(data.get("strategies", [])):
            try:
                strategy = Strategy.model_validate(raw)
            except ValidationError as exc:
                where = ", ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
                raise EcoagentError(
                    f"{source}: strategies[{i}]: {where}", "see agents/strategies.toml for the keys", exit_code=2
                ) from exc
            found[strategy.name] = strategy
    return found


def select_strategies(names: list[str], path: Path | None = None) -> list[Strategy]:
    """The strategies called ``names``, in that order (the first is the baseline of the ratios).

    Raises:
        EcoagentError: An unknown or repeated name (lists the known ones).
    """
    known = load_strategies(path)
    if len(set(names)) != len(names):
        raise EcoagentError(f"a strategy is named twice: {', '.join(names)}", "name each strategy once", exit_code=2)
    unknown = [n for n in names if n not in known]
    if unknown:
        raise EcoagentError(f"unknown strategy {', '.join(unknown)}", f"known: {', '.join(known)}", exit_code=2)
    return [known[n] for n in names]


def _adapter_base(ref: str) -> str:
    """The base model ``ref``'s manifest names, or "" when it is not registered (building
    the rung then says so, with what to do)."""
    from ..finetune.registry import resolve_adapter

    try:
        return resolve_adapter(ref).base
    except EcoagentError:
        return ""
