"""OpenAI's chat response out: a :class:`~ecoagent.records.RunRecord` becomes a
``ChatCompletion``, each pipeline event a ``ChatCompletionChunk`` (``openai.types.chat``'s own
models), with ecoagent's results as an ``ecoagent`` field that OpenAI clients ignore.

Nothing here answers anything.
"""

from __future__ import annotations

import time
from typing import Any, Literal

from openai.types.chat import ChatCompletion, ChatCompletionChunk, ChatCompletionMessage
from openai.types.chat.chat_completion import Choice
from openai.types.chat.chat_completion_chunk import Choice as ChunkChoice
from openai.types.chat.chat_completion_chunk import ChoiceDelta
from openai.types.completion_usage import CompletionUsage

from ..events import EVENTS, Event
from ..records import RunRecord

__all__ = [
    "answer_text",
    "chunk",
    "completion",
    "event_fields",
    "now",
    "report",
    "unresolved_text",
    "usage",
    "wire",
]

_OUTPUT_CHARS = 2000


def unresolved_text(record: RunRecord) -> str:
    """What the client reads when no rung resolved the query: that it failed, why, and
    the last output (so an application never mistakes it for an answer)."""
    last = record.attempts[-1] if record.attempts else None
    why = (last.verdict.reason if last and last.verdict else last.error if last else None) or "no rung answered"
    text = f"ecoagent could not resolve this query ({why})."
    found = record.last_execution
    if found is not None and found[1].output.strip():
        text += f"\nLast output:\n{found[1].output.strip()[:_OUTPUT_CHARS]}"
    return text


def answer_text(record: RunRecord) -> str:
    """The message content: the answer (resolved, or unverified: the ``ecoagent`` object says
    which, with the risk), else what went wrong."""
    if (record.resolved or record.unverified) and record.final_answer is not None:
        return record.final_answer
    return unresolved_text(record)


def report(record: RunRecord) -> dict[str, Any]:
    """The ``ecoagent`` object of a completion: what answered, what it cost (with the session's
    summary written since its previous turn), and why."""
    memory = record.memory
    last = record.attempts[-1] if record.attempts else None
    verdict = (
        record.first_turn.verdict if record.served_from_cache and record.first_turn else last.verdict if last else None
    )
    escalations = [
        {"from": a.rung, "to": b.rung, "reason": a.verdict.reason if a.verdict else a.error or ""}
        for a, b in zip(record.attempts, record.attempts[1:], strict=False)
    ]
    first = record.first_turn
    return {
        "run_id": record.run_id,
        "answered_by": record.answered_by,
        "resolved": record.resolved,
        "unverified": record.unverified,
        "risk": None if record.risk is None else round(record.risk, 4),
        "risk_note": record.risk_note,
        "verdict": (
            {
                "ok": False,
                "judge": verdict.judge if verdict else "evidence",
                "reason": f"unverified: {record.risk_note or 'nothing independent backed this answer'}",
            }
            if record.unverified
            else verdict.model_dump(include={"ok", "judge", "reason"})
            if verdict
            else None
        ),
        "rungs": [a.rung for a in record.attempts],
        "escalations": escalations,
        "cost": round(record.total_cost + (memory.summary_cost if memory else 0.0), 10),
        "top_rung_cost_estimate": round(record.top_rung_cost_estimate, 10),
        "estimate_note": "estimate: the same tokens and compute seconds at the top rung's prices",
        "demonstrations": [{"id": d.id, "score": round(d.score, 4), "query": d.query} for d in record.demonstrations],
        "first_turn": None
        if first is None
        else {
            "kind": first.kind,
            "served": first.served,
            "reason": first.reason,
            "score": first.score,
            "matched_query": first.matched_query,
        },
        "code": record.final_code,
        "summary_tokens": memory.summary_tokens if memory else 0,
        "duration_s": round(record.duration_s, 4),
    }


def usage(record: RunRecord) -> CompletionUsage:
    """Tokens really spent: every rung, the router, the judge, and the conversation summary
    this turn read (0 on a cache or replay hit)."""
    memory = record.memory
    prompt = record.prompt_tokens + (memory.summary_prompt_tokens if memory else 0)
    completion = record.completion_tokens + (memory.summary_completion_tokens if memory else 0)
    return CompletionUsage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion)


def completion(record: RunRecord, model: str) -> ChatCompletion:
    """A ``chat.completion`` for a finished run (``ecoagent``: :func:`report`)."""
    return ChatCompletion(
        id=f"chatcmpl-{record.run_id}",
        object="chat.completion",
        created=int(record.created_at.timestamp()),
        model=model,
        choices=[
            Choice(
                index=0,
                message=ChatCompletionMessage(role="assistant", content=answer_text(record)),
                finish_reason="stop",
                logprobs=None,
            )
        ],
        usage=usage(record),
        ecoagent=report(record),  # openai's models keep extra fields
    )


def chunk(
    run_id: str,
    model: str,
    created: int,
    *,
    delta: ChoiceDelta | None = None,
    finish: Literal["stop"] | None = None,
    extra: dict[str, Any] | None = None,
    usage: CompletionUsage | None = None,
    choices: bool = True,
) -> ChatCompletionChunk:
    """One ``chat.completion.chunk``; ``extra`` travels as the ``ecoagent`` field."""
    fields: dict[str, Any] = {}
    if usage is not None:
        fields["usage"] = usage
    if extra is not None:
        fields["ecoagent"] = extra
    return ChatCompletionChunk(
        id=f"chatcmpl-{run_id}",
        object="chat.completion.chunk",
        created=created,
        model=model,
        choices=[ChunkChoice(index=0, delta=delta or ChoiceDelta(), finish_reason=finish, logprobs=None)]
        if choices
        else [],
        **fields,
    )


def wire(body: ChatCompletion | ChatCompletionChunk) -> dict[str, Any]:
    """What goes on the wire: the fields set, as OpenAI sends them (``null`` where it sends one)."""
    data: dict[str, Any] = body.model_dump(mode="json", exclude_unset=True)
    return data


def event_fields(event: Event) -> dict[str, Any]:
    """A pipeline event as the ``ecoagent`` field of a progress chunk: the event itself, tagged by
    ``event`` (:data:`~ecoagent.events.EVENTS` reads it back, as the CLI does)."""
    fields: dict[str, Any] = EVENTS.dump_python(event, mode="json")
    return fields


def now() -> int:
    """Seconds since the epoch, for ``created``."""
    return int(time.time())
