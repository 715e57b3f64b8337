"""Bench task sets: queries with exact answers, in the forms each protocol runs.

A task file is JSONL, one task a line::

    {"id": "product", "query": "What is 17 * 23?", "expected": "391",
     "paraphrase": "Multiply 17 by 23.", "code": "print(17 * 23)",
     "variant": "What is 17 * 24?", "variant_expected": "408"}

``id``, ``query`` and ``expected`` or ``tests`` are required: ``tests`` (with
``entry_point`` for HumanEval's ``check(candidate)`` shape) make the task judged by
the ``tests`` judge, in the sandbox. ``half`` (``seed`` or ``test``) cuts a set without
paraphrases in two for the split protocol: the seed half's reference code is banked
and the test half's queries are measured (:mod:`.humaneval` sets it). ``family`` and
``category`` name the kind of task (the broad teacher set has them; a held-out-family
measurement splits on ``family``). ``paraphrase`` (same answer, other words)
and ``variant`` (the query's words, other numbers, another answer) are the forms the
split protocol measures; ``code`` is a reference solution it banks for the seed.
``benchmarks/tasks/compute.jsonl`` ships 100+ of them.

A *long-context* task adds ``context``: the material (a document, table or log) the
question is about, passed as the query's context, not in its text; ``variant_context``
is the variant's own material when it differs (``benchmarks/tasks/longcontext.jsonl``).

A *conversation* task adds ``followups``: later turns of the same chat, each with its
own expected answer, that build on what came before ("Now add 9 to that result.").
The sequential protocol runs them in order, each task in a conversation of its own, so
a strategy's memory decides what a follow-up knows
(``benchmarks/tasks/conversations.jsonl``).

EcoAssistant's own dataset files (places, weather, stock, mixed: JSON lists of
questions) need live network APIs and have no reference answers; the sandbox has no
network, so :func:`load_tasks` refuses them with a message that says so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..errors import EcoagentError
from ..query import Query

__all__ = ["BenchItem", "BenchTask", "Form", "items_for", "load_tasks"]

Form = Literal["query", "followup", "paraphrase", "variant"]


@dataclass(frozen=True)
class BenchTask:
    """One task and its forms."""

    id: str
    query: str
    expected: str | None = None
    paraphrase: str | None = None
    variant: str | None = None
    variant_expected: str | None = None
    code: str | None = None
    followups: tuple[tuple[str, str], ...] = ()
    context: str | None = None
    variant_context: str | None = None
    tests: str | None = None
    entry_point: str | None = None
    half: Literal["seed", "test"] | None = None
    family: str | None = None


@dataclass(frozen=True)
class BenchItem:
    """One query a strategy runs: a task in one of its forms."""

    id: str
    task_id: str
    form: Form
    query: str
    expected: str | None
    conversation: bool = False
    context: str | None = None
    tests: str | None = None
    entry_point: str | None = None


def _task(data: object, where: str) -> BenchTask:
    if not isinstance(data, dict):
        raise EcoagentError(
            f"{where}: each line must be a JSON object",
            'e.g. {"id": "t1", "query": "...", "expected": "..."}',
            exit_code=2,
        )
    for key in ("id", "query", "expected" if not data.get("tests") else "tests"):
        if not isinstance(data.get(key), str | int | float) or str(data[key]).strip() == "":
            raise EcoagentError(
                f"{where}: missing or empty {key!r}", "every task needs id, query and expected (or tests)", exit_code=2
            )
    if data.get("half") not in (None, "seed", "test"):
        raise EcoagentError(
            f"{where}: 'half' must be seed or test, not {data['half']!r}", "or leave it out", exit_code=2
        )
    if (data.get("variant") is None) != (data.get("variant_expected") is None):
        raise EcoagentError(
            f"{where}: 'variant' and 'variant_expected' go together", "give both or neither", exit_code=2
        )
    known = {
        "id",
        "query",
        "expected",
        "paraphrase",
        "variant",
        "variant_expected",
        "code",
        "followups",
        "context",
        "variant_context",
        "tests",
        "entry_point",
        "half",
        "family",
        "category",
    }
    unknown = sorted(set(data) - known)
    if unknown:
        raise EcoagentError(
            f"{where}: unknown key(s) {', '.join(unknown)}", f"allowed: {', '.join(sorted(known))}", exit_code=2
        )

    def opt(key: str) -> str | None:
        value = data.get(key)
        return None if value in (None, "") else str(value)

    try:  # the checks a run would make, said with the task's line
        Query(str(data["query"]), tests=opt("tests"), entry_point=opt("entry_point"))
    except EcoagentError as exc:
        raise EcoagentError(f"{where}: {exc.message}", exc.hint, exit_code=2) from None
    return BenchTask(
        id=str(data["id"]),
        query=str(data["query"]),
        expected=opt("expected"),
        paraphrase=opt("paraphrase"),
        variant=opt("variant"),
        variant_expected=opt("variant_expected"),
        code=opt("code"),
        followups=_followups(data.get("followups"), where),
        context=opt("context"),
        variant_context=opt("variant_context"),
        tests=opt("tests"),
        entry_point=opt("entry_point"),
        half=data.get("half"),
        family=opt("family"),
    )


def _followups(raw: object, where: str) -> tuple[tuple[str, str], ...]:
    if raw is None:
        return ()
    example = '"followups": [{"query": "Now add 9 to that result.", "expected": "400"}]'
    if not isinstance(raw, list):
        raise EcoagentError(f"{where}: 'followups' must be a list", example, exit_code=2)
    turns = []
    for i, turn in enumerate(raw):
        if not (
            isinstance(turn, dict) and set(turn) == {"query", "expected"} and all(str(v).strip() for v in turn.values())
        ):
            raise EcoagentError(
                f"{where}: followups[{i}] needs exactly a non-empty 'query' and 'expected'", example, exit_code=2
            )
        turns.append((str(turn["query"]), str(turn["expected"])))
    return tuple(turns)


def load_tasks(path: Path) -> list[BenchTask]:
    """The tasks of a JSONL task file.

    Raises:
        EcoagentError: The file is missing, a line is not a valid task (names file and
            line), ids repeat, or it is one of EcoAssistant's network-bound datasets.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise EcoagentError(
            f"{path}: cannot read it ({exc})",
            "pass a JSONL task file, e.g. benchmarks/tasks/compute.jsonl",
            exit_code=2,
        ) from exc
    stripped = text.lstrip()
    if stripped.startswith("["):
        _refuse_ecoassistant(path, stripped)
    tasks: list[BenchTask] = []
    seen: set[str] = set()
    for line, raw in enumerate(text.splitlines(), 1):
        if not raw.strip():
            continue
        where = f"{path} line {line}"
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise EcoagentError(
                f"{where}: invalid JSON ({exc.msg} at column {exc.colno})", "one JSON object per line", exit_code=2
            ) from exc
        task = _task(data, where)
        if task.id in seen:
            raise EcoagentError(f"{where}: duplicate id {task.id!r}", "give every task its own id", exit_code=2)
        seen.add(task.id)
        tasks.append(task)
    if not tasks:
        raise EcoagentError(f"{path}: no tasks", "one JSON task per line", exit_code=2)
    return tasks


def _refuse_ecoassistant(path: Path, text: str) -> None:
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return  # not a JSON list after all: the line-by-line reader reports it
    if isinstance(data, list) and all(isinstance(q, str) for q in data):
        raise EcoagentError(
            f"{path} is an EcoAssistant dataset ({len(data)} questions such as {str(data[0])[:60]!r}): its queries need "
            "live network APIs (Google Places, weather, stock prices) and have no reference answers",
            "the sandbox runs code with no network, so none of them can be solved here, and the expected judge has "
            "nothing to check; use a task set with exact answers such as benchmarks/tasks/compute.jsonl",
            exit_code=2,
        )


def items_for(tasks: list[BenchTask], forms: tuple[Form, ...]) -> list[BenchItem]:
    """The tasks' queries in the given forms, form by form (all queries, then all paraphrases...)."""
    items: list[BenchItem] = []
    for form in forms:
        if form == "followup":  # turn by turn, so every conversation moves on together
            for n in range(max((len(t.followups) for t in tasks), default=0)):
                items += [
                    BenchItem(f"{t.id}:followup{n + 1}", t.id, form, *t.followups[n], conversation=True)
                    for t in tasks
                    if n < len(t.followups)
                ]
            continue
        for t in tasks:
            if form == "query":
                items.append(
                    BenchItem(
                        f"{t.id}:query",
                        t.id,
                        form,
                        t.query,
                        t.expected,
                        conversation=bool(t.followups),
                        context=t.context,
                        tests=t.tests,
                        entry_point=t.entry_point,
                    )
                )
            elif form == "paraphrase" and t.paraphrase:
                items.append(BenchItem(f"{t.id}:paraphrase", t.id, form, t.paraphrase, t.expected, context=t.context))
            elif form == "variant" and t.variant and t.variant_expected:
                items.append(
                    BenchItem(
                        f"{t.id}:variant",
                        t.id,
                        form,
                        t.variant,
                        t.variant_expected,
                        context=t.variant_context or t.context,
                    )
                )
    return items
