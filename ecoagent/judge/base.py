"""Verdicts: did this rung solve the query?

* ``auto`` — the last execution exited 0 and the assistant declared completion, or
  the attempt converged (its code reproduced its last successful output);
* ``expected`` — the expected answer is in the answer itself (the final answer and the
  last successful output): numbers compared as numbers on token boundaries, yes/no
  answers unambiguous, text as whole tokens (:func:`contains_answer`); or a regex matches;
* ``llm`` — a judge model answers Yes/No on query + transcript, as EcoAssistant's
  GPT-4 judge did (it is only asked when code did run successfully: a failed run
  needs no paid opinion);
* ``tests`` — the attempt's final code passes the query's tests in a fresh sandbox
  (:mod:`.tests`);
* ``human`` — a person says so (chat).

Every judge first applies the hard failures that no opinion can overrule: a model
endpoint that kept failing, no code run at all, or a last execution that failed or
timed out.
"""

from __future__ import annotations

import math
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from autogen_core.models import ChatCompletionClient, SystemMessage, UserMessage

from ..config import Rung
from ..prompts import load_prompt
from ..query import Query
from ..records import RungAttempt, Verdict

__all__ = [
    "AutoJudge",
    "ExpectedJudge",
    "HumanJudge",
    "Judge",
    "JudgeInput",
    "LLMJudge",
    "Unbacked",
    "hard_failure",
    "contains_answer",
]


@dataclass
class JudgeInput:
    """What a judge sees of one rung's attempt."""

    query: Query
    attempt: RungAttempt
    final_answer: str
    earlier: Sequence[RungAttempt] = ()
    """This run's attempts before this one (other rungs, other samples): what the evidence judge compares with."""


def hard_failure(data: JudgeInput) -> str | None:
    """The reason the attempt failed whatever any judge thinks, or None."""
    attempt = data.attempt
    if attempt.error:
        return f"model endpoint failing: {attempt.error}"
    if not attempt.executions:
        return "no code ran"
    last = attempt.executions[-1]
    if attempt.stuck:
        return f"the same code failed the same way twice (exit {last.exit_code}): more turns would not help"
    if last.timed_out:
        return "the last execution timed out"
    if last.exit_code != 0:
        return f"the last execution exited {last.exit_code}"
    return None


@dataclass(frozen=True)
class Unbacked:
    """The answer a run returns when no judge accepted any: which attempt, and how risky answers like it are."""

    attempt: RungAttempt
    risk: float | None
    reason: str


class Judge:
    """Base judge: subclasses decide after the hard failures.

    ``samples_per_rung`` is how many attempts the ladder may draw on one rung while the
    verdicts ask for more (``Verdict.more``); only the evidence judge asks.
    """

    name = "judge"
    samples_per_rung = 1
    sample_temperature = 0.7

    async def __call__(self, data: JudgeInput) -> Verdict:
        reason = hard_failure(data)
        if reason:
            return Verdict(ok=False, judge=self.name, reason=reason)
        return await self.decide(data)

    async def decide(self, data: JudgeInput) -> Verdict:  # pragma: no cover - abstract
        raise NotImplementedError

    def unbacked(self, query: str, attempts: Sequence[RungAttempt]) -> Unbacked | None:
        """The answer to return, unverified, when no attempt was accepted (None: none, the run failed)."""
        return None

    def start_rung(self, query: str, rungs: Sequence[str], start: int) -> tuple[int, str] | None:
        """A start above ``start`` that this judge's own record argues for, and why (None: start there).

        ``rungs`` are the ladder's rung names, cheapest first.
        """
        return None


class AutoJudge(Judge):
    """Success = code ran fine and the assistant said it is done."""

    name = "auto"

    async def decide(self, data: JudgeInput) -> Verdict:
        if data.attempt.converged:
            return Verdict(ok=True, judge=self.name, reason="code ran successfully and converged (same output twice)")
        if not data.attempt.declared_done:
            stop = data.attempt.stop_reason or "the conversation ended"
            return Verdict(ok=False, judge=self.name, reason=f"the assistant did not declare completion ({stop})")
        return Verdict(ok=True, judge=self.name, reason="code ran successfully and the assistant declared completion")


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


_NUMBER = re.compile(r"(?<![\w.])[-+]?\d+(?:,\d{3})*(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w]|\.\d)")
_BOOLEANS = {"true": "true", "false": "false", "yes": "true", "no": "false"}


def _as_number(text: str) -> float | None:
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return None


def contains_answer(haystack: str, expected: str) -> bool:
    """Whether the answer in ``haystack`` is ``expected``, compared as what it is.

    * a number is compared as a number on token boundaries: 37 matches "37.0" and
      "answer: 37", not "370", "137" or "37.5";
    * a yes/no answer (True, False, yes, no) must be the only such word in the answer:
      "False True False" answers nothing;
    * anything else matches as whole tokens, case and spacing aside ("tnegaoce" is not
      found in "tnegaocex").
    """
    needle = _norm(expected)
    if not needle:
        return False
    number = _as_number(needle) if _NUMBER.fullmatch(needle) else None
    if number is not None:
        return any(
            math.isclose(float(v), number, rel_tol=1e-9, abs_tol=1e-12)
            for v in (_as_number(m.group()) for m in _NUMBER.finditer(haystack))
            if v is not None
        )
    if needle in _BOOLEANS:
        said = {_BOOLEANS[w] for w in re.findall(r"[a-z]+", _norm(haystack)) if w in _BOOLEANS}
        return said == {_BOOLEANS[needle]}
    left = r"(?<![\w.-])" if needle[0].isalnum() else ""
    right = r"(?!\w|\.\d)" if needle[-1].isalnum() else ""
    return re.search(left + re.escape(needle) + right, _norm(haystack)) is not None


class ExpectedJudge(Judge):
    """Success = the expected answer (or regex) is in the answer itself.

    The answer is the final answer and the last successful execution's output, not
    everything the attempt printed on the way.
    """

    name = "expected"

    async def decide(self, data: JudgeInput) -> Verdict:
        query = data.query
        last = data.attempt.executions[-1].output if data.attempt.executions else ""
        haystack = "\n".join([last, data.final_answer])
        if query.expected_regex:
            found = re.search(query.expected_regex, haystack) is not None
            what = f"regex {query.expected_regex!r}"
        elif query.expected is not None:
            found = contains_answer(haystack, query.expected)
            what = f"expected {query.expected!r}"
        else:
            return Verdict(ok=False, judge=self.name, reason="no expected answer was given for this query")
        return Verdict(ok=found, judge=self.name, reason=f"{what} {'found' if found else 'not found'} in the output")


class LLMJudge(Judge):
    """Success = a judge model answers Yes for the query and the transcript.

    Args:
        client: The judge model.
        rung_name: Named in verdicts.
        prices: The rung whose prices cost the judge's tokens (none: tokens counted, cost 0).
    """

    name = "llm"

    def __init__(self, client: ChatCompletionClient, rung_name: str = "judge", *, prices: Rung | None = None) -> None:
        self.client = client
        self.rung_name = rung_name
        self.prices = prices

    async def decide(self, data: JudgeInput) -> Verdict:
        transcript = "\n\n".join(f"[{m.source}]\n{m.content}" for m in data.attempt.messages[-8:])
        result = await self.client.create(
            [
                SystemMessage(content=load_prompt("judge")),
                UserMessage(content=f"Task:\n{data.query.text}\n\nTranscript:\n{transcript[-12000:]}", source="user"),
            ]
        )
        prompt, completion = result.usage.prompt_tokens, result.usage.completion_tokens
        answer = str(result.content).strip()
        ok = answer.lower().lstrip("*\"' ").startswith("yes")
        return Verdict(
            ok=ok,
            judge=self.name,
            reason=f"{self.rung_name} answered {answer[:40]!r}",
            prompt_tokens=prompt,
            completion_tokens=completion,
            cost=self.prices.cost(prompt, completion) if self.prices else 0.0,
        )


class HumanJudge(Judge):
    """Success = the person says so; ``ask`` shows the attempt and returns their verdict."""

    name = "human"

    def __init__(self, ask: Callable[[JudgeInput], Awaitable[bool]]) -> None:
        self.ask = ask

    async def decide(self, data: JudgeInput) -> Verdict:
        ok = await self.ask(data)
        return Verdict(ok=ok, judge=self.name, reason="the person confirmed it" if ok else "the person rejected it")
