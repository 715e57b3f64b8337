"""Confirmed runs → chat fine-tuning examples in OpenAI's JSONL format.

Each example is the conversation of the rung that solved the query, as that rung
read it: the system prompt, the first message (with any demonstrations), the
assistant's turns and the executor's replies (as ``user`` turns, which is how the
model saw them). Every assistant turn carries OpenAI's per-message ``weight``:
``1`` for a turn worth imitating (code whose run succeeded and printed something,
and the closing answer), ``0`` for a turn that failed (code that crashed, no code
where code was due). Failed turns stay in as context, so the model learns to
recover from an error without learning to make it.

What counts as confirmed: a person's thumbs-up, a passed ``expected`` check, or passed
tests (the ``tests`` judge). An
``auto`` or ``llm`` verdict is an automatic judgement, exported only on request. A
thumbs-down excludes a run whatever its verdict.

Near-duplicate queries are kept once (the newest run), so a question asked fifty
times does not dominate training, and no held-out query has a near twin in the
training split. The held-out split is by time: the newest share, which is the
honest test of a model trained on the past.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from ..prompts import has_code_block
from ..records import VERIFYING_JUDGES, Execution, RungAttempt, RunRecord
from .scrub import scrub_secrets

__all__ = [
    "CONFIRMING_JUDGES",
    "ExportFilter",
    "ExportReport",
    "conversation",
    "export_examples",
    "messages_rung",
    "write_examples",
]

CONFIRMING_JUDGES = ("human", *VERIFYING_JUDGES)
"""Judges whose acceptance confirms a run by default: a thumbs-up, a passed expected check."""

_NO_CODE = "No code blocks found in the thread."  # start of AutoGen's CodeExecutorAgent reply without code


@dataclass(frozen=True)
class ExportFilter:
    """Which confirmed runs to export, and how to split them."""

    rungs: Sequence[str] = ()
    """Only runs solved by these rungs (empty: any)."""
    since: datetime | None = None
    until: datetime | None = None
    judges: Sequence[str] = CONFIRMING_JUDGES
    """``human`` (thumbs-up), ``expected``; ``auto`` and ``llm`` only when asked for."""
    dedup_threshold: float = 0.95
    """Cosine similarity of two queries' embeddings at which they count as one."""
    test_fraction: float = 0.1
    """Newest share of the examples held out as the ``test`` split."""


@dataclass
class ExportReport:
    """The examples, and why the other runs were left out."""

    examples: list[dict[str, Any]] = field(default_factory=list)
    runs: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    duplicates: int = 0
    secrets: int = 0

    @property
    def splits(self) -> Counter[str]:
        """Examples per split."""
        return Counter(e["split"] for e in self.examples)


def export_examples(
    records: Iterable[RunRecord], system_prompt: str, embed: Any, filters: ExportFilter = ExportFilter()
) -> ExportReport:
    """Build the examples from run records (any order).

    Args:
        records: The run log's records.
        system_prompt: The assistant's system prompt (records do not store it).
        embed: ``texts -> vectors`` for de-duplication (an :class:`~ecoagent.embed.Embedder`'s
            ``vectors``), or None to drop exact repeats only.
        filters: Which runs, and the split.
    """
    report = ExportReport()
    kept: list[tuple[RunRecord, str, list[dict[str, Any]]]] = []
    for record in records:
        report.runs += 1
        why, judge, messages = _example(record, system_prompt, filters)
        if why:
            report.skipped[why] += 1
            continue
        kept.append((record, judge, messages))
    kept.sort(key=lambda k: k[0].created_at, reverse=True)  # newest first: a duplicate keeps its newest run
    unique = _dedup(kept, embed, filters.dedup_threshold)
    report.duplicates = len(kept) - len(unique)
    unique.reverse()
    n_test = math.ceil(len(unique) * filters.test_fraction) if len(unique) > 1 and filters.test_fraction > 0 else 0
    for i, (record, judge, messages) in enumerate(unique):
        for message in messages:
            message["content"], n = scrub_secrets(message["content"])
            report.secrets += n
        report.examples.append(
            {
                "messages": messages,
                "split": "test" if i >= len(unique) - n_test else "train",
                "metadata": {
                    "run_id": record.run_id,
                    "query": scrub_secrets(record.query)[0],
                    "rung": record.final_rung or messages_rung(record),
                    "judge": judge,
                    "created_at": record.created_at.isoformat(),
                },
            }
        )
    return report


def messages_rung(record: RunRecord) -> str | None:
    """The rung of the conversation a thumbs-up confirmed (the last one that ran code)."""
    found = record.last_execution
    return found[0].rung if found else None


def write_examples(report: ExportReport, out: Path, split_files: bool = False) -> list[Path]:
    """Write the examples: one JSONL with a ``split`` field, or with ``split_files`` one
    strict-OpenAI file per split (``messages`` only), ``<out>.train.jsonl`` and ``<out>.test.jsonl``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    if not split_files:
        _write(out, report.examples)
        return [out]
    paths = []
    for split in ("train", "test"):
        path = out.with_name(f"{out.name.removesuffix('.jsonl')}.{split}.jsonl")
        _write(path, [{"messages": e["messages"]} for e in report.examples if e["split"] == split])
        paths.append(path)
    return paths


def _write(path: Path, rows: list[dict[str, Any]]) -> None:
    tmp = path.with_name(path.name + ".part")
    with tmp.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    tmp.replace(path)


def _example(record: RunRecord, system_prompt: str, f: ExportFilter) -> tuple[str | None, str, list[dict[str, Any]]]:
    """(why it is left out | None, the confirming judge, the messages)."""
    if record.feedback == "bad":
        return "thumbs-down", "", []
    if record.served_from_cache:
        return "served from the cache (no model conversation)", "", []
    attempt, judge = _confirmed_attempt(record)
    if attempt is None:
        return "not confirmed", "", []
    if judge not in f.judges:
        return f"judge {judge} not selected", judge, []
    if f.rungs and attempt.rung not in f.rungs:
        return "another rung", judge, []
    when = record.created_at
    since, until = _aware(f.since), _aware(f.until)
    if (since and when < since) or (until and when >= until):
        return "outside the dates", judge, []
    messages = conversation(attempt, system_prompt)
    if messages is None:
        return "conversation and executions disagree", judge, []
    if not any(m.get("weight") == 1 for m in messages):
        return "no assistant turn worth imitating", judge, []
    return None, judge, messages


def _aware(when: datetime | None) -> datetime | None:
    """A date without a time zone is read as UTC (records are stamped in UTC)."""
    return when.replace(tzinfo=UTC) if when is not None and when.tzinfo is None else when


def _confirmed_attempt(record: RunRecord) -> tuple[RungAttempt | None, str]:
    """The attempt to learn from and who confirmed it."""
    if record.resolved:
        for attempt in reversed(record.attempts):
            if attempt.verdict is not None and attempt.verdict.ok:
                judge = "human" if record.feedback == "good" else attempt.verdict.judge
                return attempt, judge
    if record.feedback == "good" and record.unverified and record.served_attempt is not None:
        return record.served_attempt, "human"  # the answer returned unverified is the one the person confirmed
    if record.feedback == "good":  # a person's thumbs-up overrode the automatic judge
        found = record.last_execution
        if found and found[1].exit_code == 0 and not found[1].timed_out:
            return found[0], "human"
    return None, ""


def conversation(attempt: RungAttempt, system_prompt: str) -> list[dict[str, Any]] | None:
    """The attempt as chat messages with per-turn weights, or None when its messages
    and executions do not line up (a record this code does not understand)."""
    messages: list[dict[str, Any]] = [{"role": "system", "content": system_prompt}]
    executions = list(attempt.executions)
    succeeded = False
    pending: dict[str, Any] | None = None  # the assistant turn whose code the executor runs next
    for m in attempt.messages:
        if m.source == "assistant":
            turn: dict[str, Any] = {"role": "assistant", "content": m.content, "weight": 0}
            if not has_code_block(m.content):
                turn["weight"] = 1 if succeeded else 0  # an answer after a good run; chatter before one
            pending = turn
            messages.append(turn)
        elif m.source == "executor":
            if not m.content.startswith(_NO_CODE):
                if not executions:
                    return None
                run = executions.pop(0)
                if pending is not None and _good(run):
                    pending["weight"] = 1
                    succeeded = True
            elif pending is not None:
                pending["weight"] = 0
            pending = None
            messages.append({"role": "user", "content": m.content})
        else:
            messages.append({"role": "user", "content": m.content})
    if executions:
        return None
    while messages and messages[-1]["role"] != "assistant":  # nothing to learn after the last turn
        messages.pop()
    return messages if len(messages) > 2 else None


def _good(run: Execution) -> bool:
    return run.exit_code == 0 and not run.timed_out and bool(run.output.strip())


def _dedup(kept: list[Any], embed: Any, threshold: float) -> list[Any]:
    seen: set[str] = set()
    exact = []
    for item in kept:
        key = " ".join(item[0].query.lower().split())
        if key not in seen:
            seen.add(key)
            exact.append(item)
    if embed is None or len(exact) < 2:
        return exact
    vectors = np.asarray(embed([item[0].query for item in exact]), dtype=np.float32)
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    chosen: list[int] = []
    for i in range(len(exact)):
        if not chosen or float(np.max(vectors[chosen] @ vectors[i])) < threshold:
            chosen.append(i)
    return [exact[i] for i in chosen]
