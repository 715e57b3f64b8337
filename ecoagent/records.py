"""What a query leaves behind: the :class:`RunRecord` and its parts.

A record is the single source of truth for everything after the run: the terminal
shows it, the run log stores it as JSON, feedback finds the code to bank in it, and
cost reports and fine-tuning exports read it back. Pydantic models, so they
round-trip through JSON unchanged.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, Field

__all__ = [
    "CompressionStep",
    "Demonstration",
    "Execution",
    "FirstTurn",
    "MemoryStep",
    "Message",
    "RouteEstimate",
    "Routing",
    "RunRecord",
    "RungAttempt",
    "VERIFYING_JUDGES",
    "Verdict",
    "new_run_id",
    "risk_phrase",
]

VERIFYING_JUDGES = ("expected", "tests")
"""Judges that check the answer itself (a known answer, the query's tests): a run they
passed may be banked without a person (``batch --bank-verified``) and counts as
confirmed for fine-tuning."""


def new_run_id() -> str:
    """A short, sortable-enough, unique run id."""
    return datetime.now(UTC).strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:8]


class Demonstration(BaseModel):
    """A banked solution put into the first message."""

    id: str
    score: float
    query: str
    code: str


class Message(BaseModel):
    """One message of a rung's conversation."""

    source: str
    content: str
    prompt_tokens: int = 0
    completion_tokens: int = 0


class Execution(BaseModel):
    """One run of the assistant's code in the sandbox."""

    code: str
    language: str
    exit_code: int
    output: str
    timed_out: bool = False


class Verdict(BaseModel):
    """Whether a rung solved the query, who said so and why, and what asking cost.

    Only the ``llm`` judge costs anything: its model's tokens at its rung's prices.
    They are part of the query's cost, so the record's totals include them.
    """

    ok: bool
    judge: str
    reason: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0
    evidence: Literal["single", "samples", "rungs", "function", "function-samples", "function-rungs", "void"] | None = (
        Field(
            None,
            description="The evidence judge: what backed the answer (nothing, another sample, another rung; "
            "function-*: the same, for a written function, compared by what it returns on the query's calls), "
            "or void (an answer that says nothing: empty, 0, None, an echo of the query, error text, a failed example).",
        )
    )
    answer: str | None = Field(
        None, description="The evidence judge: the answer as it compared it with others (normalized)."
    )
    identity: str | None = Field(
        None, description="The evidence judge: the rung's model and adapter its calibration is kept under."
    )
    risk: float | None = Field(
        None,
        description="The evidence judge: how often answers with this evidence were wrong when checked (None: no data).",
    )
    risk_bound: float | None = Field(
        None, description="The evidence judge: the upper confidence bound it compared to max_error."
    )
    checked: int = Field(0, description="The evidence judge: how many checked answers the risk rests on.")
    more: bool = Field(
        False, description="Not accepted yet, but another sample of the same rung could back it (the evidence judge)."
    )


class FirstTurn(BaseModel):
    """What the first-turn stage did: an exact cache hit, a verified replay, or a refusal.

    ``served`` says whether it answered the query (at zero model tokens). A replay
    that ran but was not accepted, or a similar solution the guard refused, is kept
    too: it is what ``ecoagent cache stats`` and the bench's wrong-hit count read.
    """

    kind: Literal["exact", "replay"]
    served: bool
    key: str = Field(description="The cache entry's key, or the banked solution's id.")
    matched_query: str
    score: float | None = Field(None, description="Cosine similarity of a replayed solution's query.")
    execution: Execution | None = None
    verdict: Verdict | None = None
    reason: str = ""
    duration_s: float = 0.0


class MemoryStep(BaseModel):
    """What a session's memory gave a turn: the conversation it carried into the first message,
    and what writing the summary cost since the session's previous turn.

    The summary of turn N is written after N's answer is out (nobody waits for it); turn
    N+1 waits for it if it is not done and reports its spend here. That spend is charged
    (to the query's key) when it is written, so it is not in the record's ``total_cost``.
    """

    session: str
    history_chars: int = Field(0, description="Length of the conversation block the first message carries.")
    summary_chars: int = 0
    verbatim_turns: int = 0
    folded_turns: int = Field(0, description="Turns folded into the summary so far.")
    recalled: list[str] = Field(default_factory=list, description="Earlier questions recalled by similarity.")
    summary_prompt_tokens: int = 0
    summary_completion_tokens: int = 0
    summary_cost: float = 0.0
    note: str = Field("", description="Why the memory is less than it should be (a summary that failed).")

    @property
    def summary_tokens(self) -> int:
        """Tokens the summary written since the previous turn took."""
        return self.summary_prompt_tokens + self.summary_completion_tokens


class CompressionStep(BaseModel):
    """What compression did to the first message of one rung's conversation.

    Token counts are cl100k tokens of the compressed parts (demonstrations, chat
    history, context material), before and after; ``skipped`` says why nothing
    was compressed. The first message is part of every model call of the attempt,
    so the attempt's saving is ``saved`` times its calls (an estimate, see
    :attr:`RungAttempt.compression_saved_tokens`).
    """

    parts: list[str] = Field(default_factory=list, description="Which parts were considered.")
    rate: float
    tokens_before: int
    tokens_after: int
    seconds: float = 0.0
    skipped: str | None = None
    reused: bool = Field(
        False, description="A lower rung's compression at the same rate, reused (its seconds counted there)."
    )

    @property
    def saved(self) -> int:
        """Tokens saved on each model call that reads the first message."""
        return self.tokens_before - self.tokens_after


class RouteEstimate(BaseModel):
    """The router's estimate for one rung: its chance on this query and the weight of evidence behind it."""

    rung: str
    p: float
    evidence: float
    neighbours: int


class Routing(BaseModel):
    """Where the router started the query, and why (the evidence it used)."""

    start: int = Field(description="Index of the start rung.")
    start_rung: str
    reason: str
    threshold: float
    explored: bool = Field(False, description="Started at the bottom on purpose, whatever the estimate (exploration).")
    estimates: list[RouteEstimate] = Field(default_factory=list)
    controller: str | None = Field(None, description="The rung that chose (LLM mode), and below, what asking it cost.")
    reply: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0


class RungAttempt(BaseModel):
    """One rung's fresh conversation on the query."""

    rung: str
    sample: int = Field(
        0, description="0: the rung's own (usually greedy) attempt; 1, 2, ...: sampled again, seeded so."
    )
    compression: CompressionStep | None = None
    messages: list[Message] = Field(default_factory=list)
    executions: list[Execution] = Field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0
    stop_reason: str = ""
    declared_done: bool = Field(False, description="The assistant's last message said it was done.")
    converged: bool = Field(
        False, description="An execution reproduced the last successful output; the team stopped there."
    )
    stuck: bool = Field(
        False, description="The same code failed the same way twice; the team stopped there (the ladder escalates)."
    )
    error: str | None = None
    answer: str | None = Field(
        None, description="What the attempt answered (closing words, else its last good output)."
    )
    verdict: Verdict | None = None
    duration_s: float = 0.0
    model_s: float = Field(0.0, description="Seconds the model spent on this attempt's calls (its compute).")

    @property
    def tokens(self) -> int:
        """Prompt plus completion tokens."""
        return self.prompt_tokens + self.completion_tokens

    @property
    def final_code(self) -> str | None:
        """The code of the last successful execution."""
        ok = [e for e in self.executions if e.exit_code == 0]
        return ok[-1].code if ok else None

    @property
    def turns(self) -> int:
        """Messages the assistant wrote in this attempt."""
        return sum(1 for m in self.messages if m.source == "assistant")

    @property
    def compression_saved_tokens(self) -> int:
        """Estimate of the input tokens compression saved in this attempt: the tokens it
        cut from the first message (cl100k) times the model calls that read it."""
        return self.compression.saved * self.turns if self.compression else 0


class RunRecord(BaseModel):
    """The full story of one query on the ladder."""

    run_id: str = Field(default_factory=new_run_id)
    query: str
    context_chars: int = Field(0, description="Length of the context material the query came with.")
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    demonstrations: list[Demonstration] = Field(default_factory=list)
    attempts: list[RungAttempt] = Field(default_factory=list)
    first_turn: FirstTurn | None = None
    memory: MemoryStep | None = None
    routing: Routing | None = None
    resolved: bool = False
    unverified: bool = Field(
        False,
        description="No judge accepted an answer, and the answer returned is the best the run had, unbacked: "
        "never cached, replayed or banked without a person's thumbs-up.",
    )
    risk: float | None = Field(
        None, description="The evidence judge: how often answers backed like the returned one were wrong when checked."
    )
    final_rung: str | None = None
    final_answer: str | None = None
    final_code: str | None = None
    total_cost: float = 0.0
    top_rung: str | None = None
    top_rung_cost_estimate: float = Field(
        0.0, description="Estimate: these runs' tokens priced at the top rung's prices."
    )
    duration_s: float = 0.0
    expected: str | None = None
    query_id: str | None = Field(None, description="The caller's id for the query (a batch row id).")
    session: str | None = Field(None, description="The chat session the query belongs to.")
    feedback: Literal["good", "bad"] | None = Field(None, description="The last thumbs-up or -down a person gave.")
    human_override: bool = Field(
        False, description="A person's thumbs-up banked the run although the automatic judge said no."
    )
    cancelled: bool = Field(
        False, description="Stopped before it finished (Ctrl-C, a client that disconnected, a server shutting down)."
    )
    key_name: str | None = Field(None, description="The API key that sent the query to `ecoagent serve` (its name).")

    @property
    def prompt_tokens(self) -> int:
        """Prompt tokens over all rungs, the judge's and an LLM router's included."""
        routing = self.routing.prompt_tokens if self.routing else 0
        return routing + sum(a.prompt_tokens + (a.verdict.prompt_tokens if a.verdict else 0) for a in self.attempts)

    @property
    def completion_tokens(self) -> int:
        """Completion tokens over all rungs, the judge's and an LLM router's included."""
        routing = self.routing.completion_tokens if self.routing else 0
        return routing + sum(
            a.completion_tokens + (a.verdict.completion_tokens if a.verdict else 0) for a in self.attempts
        )

    @property
    def tokens(self) -> int:
        """All tokens over all rungs, the judge's included."""
        return self.prompt_tokens + self.completion_tokens

    @property
    def compute_s(self) -> float:
        """Seconds the models computed for this run (every attempt; 0 on a cache hit or replay)."""
        return sum(a.model_s for a in self.attempts)

    @property
    def judge_cost(self) -> float:
        """What the verdicts cost (only an ``llm`` judge costs anything)."""
        return sum(a.verdict.cost for a in self.attempts if a.verdict)

    @property
    def overhead_cost(self) -> float:
        """What deciding cost besides the attempts: the judge's and an LLM router's calls."""
        return self.judge_cost + (self.routing.cost if self.routing else 0.0)

    @property
    def saving_estimate(self) -> float:
        """Estimated USD saved against sending the same tokens to the top rung."""
        return self.top_rung_cost_estimate - self.total_cost

    @property
    def served_from_cache(self) -> bool:
        """Whether the first-turn stage answered (exact hit or replay): no model ran."""
        return self.first_turn is not None and self.first_turn.served

    @property
    def judged_by(self) -> str | None:
        """The judge of record: the one that accepted a served cache hit or replay (then), else
        the judge of the last rung attempt's verdict (None when nothing was judged)."""
        if self.served_from_cache and self.first_turn is not None and self.first_turn.verdict is not None:
            return self.first_turn.verdict.judge
        last = self.attempts[-1].verdict if self.attempts else None
        return last.judge if last else None

    @property
    def verified(self) -> bool:
        """Whether a judge that checks the answer itself (:data:`VERIFYING_JUDGES`) accepted
        the run's final attempt, and there is code to bank."""
        last = self.attempts[-1] if self.attempts else None
        return bool(
            self.resolved
            and self.final_code
            and last
            and last.verdict
            and last.verdict.ok
            and last.verdict.judge in VERIFYING_JUDGES
        )

    @property
    def answered_by(self) -> str | None:
        """The rung that solved the query, ``exact`` or ``replay`` when the first-turn stage
        answered it, None when nothing did (for tables and one-line summaries)."""
        if self.served_from_cache and self.first_turn is not None:
            return self.first_turn.kind
        return self.final_rung if self.resolved else None

    @property
    def served_attempt(self) -> RungAttempt | None:
        """The attempt whose answer the run returned: the accepted one, or the unverified one
        (None when a cache hit or replay answered, or nothing did)."""
        if self.served_from_cache or not (self.resolved or self.unverified):
            return None
        for attempt in reversed(self.attempts):
            if self.resolved and attempt.verdict is not None and attempt.verdict.ok:
                return attempt
            if self.unverified and attempt.rung == self.final_rung and attempt.answer == self.final_answer:
                return attempt
        return None

    @property
    def risk_note(self) -> str | None:
        """How often answers backed like the returned one were wrong when checked, in words
        (None when the evidence judge did not weigh it)."""
        attempt = self.served_attempt
        verdict = attempt.verdict if attempt else None
        if verdict is None or verdict.judge != "evidence":
            return None
        return risk_phrase(verdict.risk, verdict.checked)

    @property
    def last_execution(self) -> tuple[RungAttempt, Execution] | None:
        """The run's last execution and the attempt that ran it (None when no code ran)."""
        for attempt in reversed(self.attempts):
            if attempt.executions:
                return attempt, attempt.executions[-1]
        return None

    @property
    def answer_execution(self) -> tuple[RungAttempt, Execution] | None:
        """The execution behind the returned answer: the served attempt's last one (an unverified
        answer may come from an attempt before the last), else the run's last execution."""
        served = self.served_attempt
        if served is not None and served.executions:
            return served, served.executions[-1]
        return self.last_execution

    @property
    def last_good_execution(self) -> Execution | None:
        """The run's last execution if it succeeded (exit 0, no timeout), else None.

        What a person's thumbs-up banks when no judge accepted the run.
        """
        found = self.last_execution
        return found[1] if found and found[1].exit_code == 0 and not found[1].timed_out else None

    def summary(self) -> dict[str, object]:
        """The short form ``ecoagent ask --json`` prints."""
        return {
            "run_id": self.run_id,
            "resolved": self.resolved,
            "unverified": self.unverified,
            "risk": self.risk,
            "rung": self.answered_by,
            "cost": round(self.total_cost, 8),
            "tokens": self.tokens,
            "answer": self.final_answer,
            "code": self.final_code,
        }


def risk_phrase(rate: float | None, n: int = 0) -> str:
    """A risk a person reads at a glance: "about 4 in 10 like it are wrong"."""
    if rate is None:
        return "no checked answers like it to say how often they are wrong"
    if rate == 0:
        return f"none of {n} checked answers like it was wrong"
    if rate >= 0.095:
        return f"about {max(1, round(rate * 10))} in 10 like it are wrong"
    return f"about 1 in {round(1 / rate)} like it is wrong"
