"""One item's outcome under one strategy: the line a bench run appends to ``results.jsonl``,
read by the runner (resuming) and the report (summing up)."""

from __future__ import annotations

from dataclasses import dataclass

from ..records import RunRecord
from .tasks import BenchItem

__all__ = ["ItemResult"]


@dataclass
class ItemResult:
    """One item's outcome under one strategy (a line of ``results.jsonl``)."""

    item_id: str
    task_id: str
    form: str
    resolved: bool
    rung: str | None
    rungs_tried: list[str]
    prompt_tokens: int
    completion_tokens: int
    cost: float
    top_rung_cost_estimate: float
    duration_s: float
    demonstration: bool
    run_id: str | None = None
    error: str | None = None
    first_turn: str | None = None
    compressed_before: int = 0
    compressed_after: int = 0
    compress_s: float = 0.0
    judge: str | None = None
    accepted: bool | None = None
    unverified: bool | None = None
    served_right: bool | None = None
    model_s: float = 0.0
    observations: list[tuple[str, str, bool]] | None = None

    @classmethod
    def of(cls, item: BenchItem, record: RunRecord) -> ItemResult:
        """The result of a finished run.

        ``first_turn`` is what the first-turn stage did: ``exact`` or ``replay`` (served;
        ``rung`` says so too), ``rejected`` (a replay ran and the expected judge said
        no: a wrong hit that the ``auto`` judge would have served), ``refused`` (the
        guard turned a similar solution down), or None.
        """
        error = next((a.error for a in record.attempts if a.error), None)
        step = record.first_turn
        first_turn = None if step is None else step.kind if step.served else "rejected" if step.verdict else "refused"
        steps = [a.compression for a in record.attempts if a.compression and not a.compression.skipped]
        return cls(
            item.id,
            item.task_id,
            item.form,
            record.resolved,
            record.answered_by,
            [a.rung for a in record.attempts],
            record.prompt_tokens,
            record.completion_tokens,
            record.total_cost,
            record.top_rung_cost_estimate,
            record.duration_s,
            bool(record.demonstrations),
            record.run_id,
            error,
            first_turn,
            sum(s.tokens_before for s in steps),
            sum(s.tokens_after for s in steps),
            sum(s.seconds for s in steps),
            record.judged_by,
            model_s=record.compute_s,
        )
