"""The key-free judge: accept an answer only when independent evidence backs it.

Without an answer key, "the code ran and the model said it was done" (the ``auto``
judge) accepts confident wrong answers: on unseen task families 61 of the 71 answers
the offline default's first rung served that way were wrong. Small models are wrong
*confidently*, not visibly. What the field found to carry signal without a key is
agreement of independent answers (Mixture-of-Thoughts cascades, Yue et al. 2024;
agreement across models rather than one model with itself, Wei et al. 2026), and a
threshold calibrated to a user-set error bound (vCache, cascade routing).

So this judge, for one rung's attempt:

1. applies the hard failures every judge applies (no code ran, the code failed);
2. refuses a *void* answer: empty, None, 0 or False where a yes/no was not asked, an
   echo of a literal from the query, or printed error text: broken code prints these,
   and two broken programs agree on them;
3. looks for an earlier independent attempt of this run (another sample of the rung,
   or another rung) with the same normalized answer: the evidence kind is ``rungs``,
   ``samples`` or ``single``;
4. accepts when the calibrated upper bound of that rung-and-kind's error rate is at most
   ``max_error`` (:mod:`.calibration`); otherwise asks for another sample of the same rung
   while none has disagreed (``more``), and the ladder climbs when the rung's samples are
   spent or a sample disagrees.

Where the query asks for a function (HumanEval's shape) and the attempt wrote it, the answer
is what the function returns on the calls the query shows and on calls derived from them
(:mod:`.probe`, run in a fresh sandbox): a function that does not return what an example
states is refused, and two functions agree when they return the same on every call.

When no rung earns acceptance, :meth:`EvidenceJudge.unbacked` picks the answer whose
evidence was least often wrong to return *unverified*, with its bin's risk.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..config import JudgeSettings, Rung
from ..paths import shipped_dir
from ..records import RungAttempt, Verdict
from .base import Judge, JudgeInput, Unbacked, hard_failure
from .calibration import Calibration, Estimate, EvidenceKind, risk_phrase
from .probe import FunctionProbe, defines, derived_calls, examples, function_name

__all__ = [
    "EvidenceJudge",
    "answer_key",
    "answer_text",
    "load_calibration",
    "rung_identity",
    "same_answer",
    "shipped_calibration_file",
    "void_reason",
]


def rung_identity(rung: Rung) -> str:
    """What a calibration is kept under: the model a rung runs and its adapter (not its name,
    which a user may give to another model)."""
    return rung.model + (f"+{rung.adapter}" if rung.adapter else "")


def shipped_calibration_file() -> Path:
    """The calibration shipped for the offline default's rungs."""
    return shipped_dir("agents") / "calibration" / "offline.json"


def load_calibration(settings: JudgeSettings) -> Calibration:
    """The shipped calibration with the user's own added (``ecoagent calibrate``, feedback).

    Raises:
        EcoagentError: A calibration file is not one.
    """
    return Calibration.load(shipped_calibration_file()).merged(Calibration.load(settings.calibration_file()))


# ---- what an attempt answered, normalized -----------------------------------------------
_NUMBER = re.compile(r"(?<![\w.])[-+]?\d+(?:,\d{3})*(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w]|\.\d)")
_LABEL = re.compile(
    r"\b(?:the\s+)?(?:final\s+)?(?:answer|result|output|value|total|solution)s?(?:\s+(?:is|are|was)\s*[:=]?|\s*[:=])\s*",
    re.IGNORECASE,
)
_BOOL = {"true": "true", "yes": "true", "false": "false", "no": "false"}
_VOID_WORDS = {"none", "null", "nan", "undefined", "n/a", "nil", "[]", "{}", "()", "''", '""', "set()"}
_ERROR_TEXT = re.compile(
    r"traceback \(most recent call last\)|\b\w*(?:error|exception)\b\s*:|\bis not defined\b|\bno module named\b|"
    r"\binvalid syntax\b|\bcannot\b|\bcould not\b|\bunable to\b|\bnot (?:found|supported|possible)\b",
    re.IGNORECASE,
)
_YES_NO_QUESTION = re.compile(
    r"^\s*(?:is|are|was|were|does|do|did|can|could|will|would|should|has|have|had)\b|\b(?:true or false|yes or no|"
    r"whether|is it|check if|check whether|return true|returns true|true if|false if)\b",
    re.IGNORECASE,
)
_QUOTED = re.compile(r"'([^'\n]{1,200})'|\"([^\"\n]{1,200})\"|(\[[^\]\n]{1,300}\])|(\{[^}\n]{1,300}\})")


def answer_text(attempt: RungAttempt) -> str:
    """What the attempt's code computed: its last successful output, else its closing words.

    The output comes first because a small model's closing words can contradict the
    output it just saw ("The answer is 381." after printing 391).
    """
    ok = [e.output.strip() for e in attempt.executions if e.exit_code == 0 and not e.timed_out]
    if ok and ok[-1]:
        return ok[-1]
    return (attempt.answer or "").strip()


def _canonical_number(text: str) -> str:
    """The number as written, without grouping commas, a plus sign or trailing zeros (391.0 is 391)."""
    value = float(text.replace(",", ""))
    if math.isfinite(value) and value == int(value) and abs(value) < 1e15:
        return str(int(value))
    if "e" in text.lower() or not math.isfinite(value):
        return repr(value)
    plain = text.replace(",", "").lstrip("+")
    return plain.rstrip("0").rstrip(".") if "." in plain else plain


def _same_number(a: str, b: str) -> bool:
    """Equal, or equal at the precision of the less precise one (9.56 and 9.5608 agree; an
    integer agrees only with the same integer, so 10 and 9.56 do not)."""
    if a == b:
        return True
    da = len(a.split(".")[1]) if "." in a and "e" not in a else 0
    db = len(b.split(".")[1]) if "." in b and "e" not in b else 0
    x, y = float(a), float(b)
    if da == 0 or db == 0:
        return math.isclose(x, y, rel_tol=1e-9, abs_tol=0.0)
    digits = min(da, db)
    return round(x, digits) == round(y, digits) or math.isclose(x, y, rel_tol=1e-6)


def same_answer(a: str, b: str) -> bool:
    """Whether two answer keys (:func:`answer_key`) say the same thing: equal, or the same
    numbers, each at the precision of the less precise."""
    if a == b:
        return True
    if not (a.startswith("n:") and b.startswith("n:")):
        return False
    xs, ys = a[2:].split(","), b[2:].split(",")
    return len(xs) == len(ys) and all(_same_number(x, y) for x, y in zip(xs, ys, strict=True))


def answer_key(text: str) -> str:
    """A normalized form of an answer: answers that say the same thing compare the same.

    Labels ("The answer is", "Result:") and case go; True or False, where the answer says one
    of them, is the answer; else the numbers, if the answer has any, are the answer, as
    written (compare keys with :func:`same_answer`, which lets 78.54 and 78.5398 agree);
    a lone yes/no becomes true/false; anything else is its words and symbols.
    """
    text = _LABEL.sub(" ", text.strip()).strip().rstrip(".").strip()
    said: set[str] = {w for w in re.findall(r"[a-z]+", text.lower()) if w in ("true", "false")}
    if len(said) == 1:  # "370 is an Armstrong number: True" answers True, whatever numbers it repeats
        return "b:" + said.pop()
    numbers = [_canonical_number(m.group()) for m in _NUMBER.finditer(text)]
    if numbers:
        return "n:" + ",".join(numbers)
    words = re.findall(r"[^\s,;\"'`()\[\]{}]+", text.lower())
    words = [w.rstrip(".!") for w in words if w.rstrip(".!")]
    if len(words) == 1 and words[0] in _BOOL:
        return "b:" + _BOOL[words[0]]
    return "t:" + " ".join(words)


def void_reason(query: str, text: str) -> str | None:
    """Why the answer says nothing a person asked for, or None.

    Void: empty; None, null, NaN or an empty collection; 0 (all numbers zero) or False
    where the query is no yes/no question; printed error text; an echo of a quoted string,
    a list or the only number in the query.
    """
    stripped = text.strip()
    if not stripped:
        return "the answer is empty"
    if _ERROR_TEXT.search(stripped):
        return "the answer is error text"
    key = answer_key(stripped)
    bare = stripped.lower().rstrip(".").strip()
    if bare in _VOID_WORDS or key in {f"t:{w}" for w in _VOID_WORDS} or key == "t:":
        return f"the answer is {stripped[:20]!r}, which broken code prints"
    yes_no = bool(_YES_NO_QUESTION.search(query))
    if key.startswith("n:") and all(float(v) == 0 for v in key[2:].split(",")) and not yes_no:
        return "the answer is 0, which broken code prints"
    if key == "b:false" and not yes_no:
        return "the answer is False, and the query asks no yes/no question"
    for match in _QUOTED.finditer(query):
        literal = next(g for g in match.groups() if g is not None)
        if answer_key(literal) == key and len(literal.strip()) > 1:
            return f"the answer repeats {literal[:40]!r} from the query"
    numbers = {_canonical_number(m.group()) for m in _NUMBER.finditer(query)}
    if len(numbers) == 1 and key == f"n:{next(iter(numbers))}":
        return "the answer repeats the query's only number"
    return None


# ---- the judge -------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Answer:
    """What one attempt answered, as the judge compares it: a key, or why it answers nothing."""

    key: str | None
    function: bool = False
    void: str | None = None


def _printed(query: str, attempt: RungAttempt) -> _Answer:
    """What the attempt's code printed (or its closing words), as a key, or why it says nothing."""
    text = answer_text(attempt)
    void = void_reason(query, text)
    return _Answer(None if void else answer_key(text), False, void)


def _kind(function: bool, support: Sequence[RungAttempt], rung: str) -> EvidenceKind:
    """The evidence kind of an answer that ``support`` (earlier attempts, same answer) backs."""
    if not support:
        return "function" if function else "single"
    alone = {a.rung for a in support} == {rung}
    if function:
        return "function-samples" if alone else "function-rungs"
    return "samples" if alone else "rungs"


_FUNCTION_KINDS: tuple[EvidenceKind, ...] = ("function", "function-samples", "function-rungs")
_FUNCTION_SEEN = 10  # checked function answers on a ladder before its silent rungs are skipped


class EvidenceJudge(Judge):
    """Accepts an attempt when independent answers agree with it under the calibrated bound.

    Args:
        rungs: The ladder's rungs (their identities name calibration bins).
        calibration: Counts per rung and evidence kind.
        max_error: δ: the largest upper bound on a bin's error rate that is accepted.
        confidence: The upper bound's confidence.
        samples: Attempts the ladder may draw on one rung before climbing.
        sample_temperature: Temperature of sampled attempts.
        explore: Accept nothing and draw every sample (the run a calibration counts).
        probe: Runs a written function on the query's calls (None: function answers are
            compared by what their code printed, like any other).
    """

    name = "evidence"

    def __init__(
        self,
        rungs: Sequence[Rung],
        calibration: Calibration,
        *,
        max_error: float = 0.10,
        confidence: float = 0.95,
        samples: int = 2,
        sample_temperature: float = 0.7,
        explore: bool = False,
        probe: FunctionProbe | None = None,
    ) -> None:
        self.identities = {r.name: rung_identity(r) for r in rungs}
        self.calibration = calibration
        self.max_error = max_error
        self.confidence = confidence
        self.samples_per_rung = samples
        self.sample_temperature = sample_temperature
        self.explore = explore
        self.probe = probe

    @classmethod
    def from_settings(
        cls,
        rungs: Sequence[Rung],
        settings: JudgeSettings,
        calibration: Calibration | None = None,
        probe: FunctionProbe | None = None,
    ) -> EvidenceJudge:
        """The judge as ``[judge]`` configures it, on ``calibration`` (default: the shipped and the
        user's, read now)."""
        table = calibration if calibration is not None else load_calibration(settings)
        return cls(
            rungs,
            table,
            max_error=settings.max_error,
            confidence=settings.confidence,
            samples=settings.samples,
            sample_temperature=settings.sample_temperature,
            explore=settings.explore,
            probe=probe,
        )

    def start_rung(self, query: str, rungs: Sequence[str], start: int) -> tuple[int, str] | None:
        """For a query that asks for a function: skip the rungs that, in a calibration that has seen
        functions (at least ``_FUNCTION_SEEN`` checked on this ladder), never wrote one a check could
        confirm. No evidence of theirs can end a climb, and their attempts cost compute (on HumanEval
        the offline default's first rung wrote no function in 57 problems: 23% of the judge's compute)."""
        if self.explore or start >= len(rungs) or function_name(query) is None:
            return None
        seen = {name: sum(self.calibration.count(self.identity(name), k).n for k in _FUNCTION_KINDS) for name in rungs}
        if sum(seen.values()) < _FUNCTION_SEEN:
            return None  # the calibration says nothing about functions on this ladder
        first = next((i for i in range(start, len(rungs)) if seen[rungs[i]] > 0), start)
        if first == start:
            return None
        skipped = ", ".join(rungs[start:first])
        return first, (
            f"the query asks for a function, and in calibration {skipped} never wrote one a check could "
            f"confirm ({rungs[first]}: {seen[rungs[first]]} checked)"
        )

    def identity(self, rung: str) -> str:
        """The calibration identity of the rung called ``rung``."""
        return self.identities.get(rung, rung)

    def estimate(self, rung: str, kind: EvidenceKind) -> Estimate:
        """The calibrated error of ``rung``'s answers backed by ``kind``."""
        return self.calibration.estimate(self.identity(rung), kind, self.confidence)

    async def __call__(self, data: JudgeInput) -> Verdict:
        reason = hard_failure(data)
        if reason:
            return Verdict(ok=False, judge=self.name, reason=reason, identity=self.identity(data.attempt.rung))
        return await self.decide(data)

    async def answer_of(self, query: str, attempt: RungAttempt) -> _Answer:
        """What ``attempt`` (which ran cleanly) answered: a written function's returns on the
        query's calls, where the query asks for a function and a probe is at hand; else what
        its code printed (or its closing words)."""
        name = function_name(query) if self.probe is not None else None
        if name is not None and self.probe is not None:
            code = attempt.executions[-1].code
            if not defines(code, name):
                return _Answer(None, True, f"the final code defines no function {name}, which the query asks for")
            shown = examples(query, name)
            if shown:
                result = await self.probe(code, shown, derived_calls(name, shown))
                if result.error:
                    return _Answer(None, True, result.error)
                if result.failed:
                    call, stated, got = result.failed[0]
                    return _Answer(None, True, f"{call} returns {got}, and the query says {stated}")
                if all(r.startswith("raises ") for r in result.returned):
                    return _Answer(None, True, f"every call of {name} raises ({result.returned[0][7:]})")
                return _Answer(result.key, True)
            if not attempt.executions[-1].output.strip():  # nothing to run it on, and it printed nothing:
                # its closing words ("The function is written.") would agree with another's
                return _Answer(None, True, f"the query shows no call of {name} to check the function on")
        return _printed(query, attempt)

    async def decide(self, data: JudgeInput) -> Verdict:
        attempt = data.attempt
        identity = self.identity(attempt.rung)
        answer = await self.answer_of(data.query.text, attempt)
        if answer.key is None:
            return Verdict(
                ok=False,
                judge=self.name,
                reason=answer.void or "no answer",
                evidence="void",
                identity=identity,
                more=self._may_sample(data, None),
            )
        support = tuple(a for a, k in self._answers(data.query.text, data.earlier) if same_answer(k, answer.key))
        kind = _kind(answer.function, support, attempt.rung)
        est = self.estimate(attempt.rung, kind)
        ok = est.upper <= self.max_error and not self.explore
        what = (
            "nothing independent agrees with it"
            if not support
            else f"{len(support)} other sample(s) of {attempt.rung} agree"
            if kind.endswith("samples")
            else "independent answers of " + ", ".join(sorted({a.rung for a in support})) + " agree"
        )
        if answer.function:
            what = f"the function returns what the query's examples state; {what}"
        if est.source == "none":
            bound = f"no checked answers like it for {attempt.rung} (run `ecoagent calibrate`)"
        else:
            bound = (
                f"{est.wrong} of {est.n} {'borrowed ' if est.source == 'borrowed' else ''}checked answers like it "
                f"wrong, bound {est.upper:.2f} {'≤' if ok else '>'} max_error {self.max_error:.2f}"
            )
        return Verdict(
            ok=ok,
            judge=self.name,
            reason=f"{what}; {bound}",
            evidence=kind,
            identity=identity,
            answer=answer.key,
            risk=est.rate,
            risk_bound=est.upper,
            checked=est.n,
            more=not ok and (self.explore or not support) and self._may_sample(data, answer.key),
        )

    def _answers(self, query: str, attempts: Sequence[RungAttempt]) -> list[tuple[RungAttempt, str]]:
        """Earlier attempts that answered something, with their keys, as this judge saw them
        (an attempt another judge weighed is read from its printed answer)."""
        out = []
        for a in attempts:
            if a.error or not a.executions:
                continue
            last = a.executions[-1]
            if last.exit_code != 0 or last.timed_out or a.stuck:
                continue
            if a.verdict is not None and a.verdict.judge == self.name:
                if a.verdict.evidence == "void":
                    continue
                if a.verdict.answer is not None:
                    out.append((a, a.verdict.answer))
                    continue
            printed = _printed(query, a)
            if printed.key is not None:
                out.append((a, printed.key))
        return out

    def _may_sample(self, data: JudgeInput, mine: str | None) -> bool:
        """Whether another sample of this rung could still earn acceptance: no sample of it
        disagreed yet (``mine``: this attempt's answer key, None when it answered nothing), and
        agreement on this rung is calibrated to pass the bound (exploring: always, so every kind
        of evidence is observed)."""
        if self.explore:
            return True
        attempt = data.attempt
        same = [a for a in data.earlier if a.rung == attempt.rung]
        if any(mine is None or not same_answer(k, mine) for _, k in self._answers(data.query.text, same)):
            return False
        # Only the bins this answer could land in: a written function's agreement, or a printed
        # answer's (a calibration that vouches for functions says nothing about sums).
        function = mine is not None and mine.startswith("f:")
        agreeing: tuple[EvidenceKind, ...] = (
            ("function-samples", "function-rungs") if function else ("samples", "rungs")
        )
        return any(self.estimate(attempt.rung, kind).upper <= self.max_error for kind in agreeing)

    def unbacked(self, query: str, attempts: Sequence[RungAttempt]) -> Unbacked | None:
        """The answer to return when no attempt was accepted: the one whose evidence was least
        often wrong in the calibration (a higher rung is not always the better one: a model as it
        comes can be wrong more often than the same model with its adapter); without data, the
        most supported; ties to the later attempt.

        None when no attempt answered anything (every one failed or was void).
        """
        answered = self._answers(query, attempts)
        if not answered:
            return None
        # Each answer with the earlier ones that agree with it, as the judge saw it at that answer.
        candidates = []
        for i, (attempt, key) in enumerate(answered):
            group = [a for a, k in answered[: i + 1] if same_answer(k, key)]
            est = self.estimate(attempt.rung, _kind(key.startswith("f:"), group[:-1], attempt.rung))
            candidates.append((est.rate if est.rate is not None else 2.0, -len(group), -i, attempt, est))
        _, _, _, chosen, est = min(candidates, key=lambda c: c[:3])
        return Unbacked(chosen, est.rate, f"unverified: {risk_phrase(est.rate, est.n)}")
