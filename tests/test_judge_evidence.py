"""The key-free evidence judge on scripted rungs and a fake executor: no Docker, no model.

Agreement stops the climb, disagreement climbs, void answers never count, the bound's
arithmetic is the Clopper-Pearson bound, and an answer nothing backs comes back
unverified with its risk: never cached, replayed or banked without a person.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from pathlib import Path

import pytest

from ecoagent.config import Rung, RunSettings
from ecoagent.events import Escalated, Event, RungStarted
from ecoagent.judge import Calibration, EvidenceJudge, answer_key, risk_phrase, upper_bound, void_reason
from ecoagent.judge.calibration import BinCount
from ecoagent.judge.evidence import same_answer
from ecoagent.ladder import Ladder
from ecoagent.prompts import first_message
from ecoagent.query import Query
from ecoagent.records import RunRecord
from ecoagent.testing import FakeExecutor, ScriptedChatCompletionClient

CHEAP = Rung(name="cheap", provider="openai", model="cheap-model", input_price_per_mtok=0.15, output_price_per_mtok=0.6)
MID = Rung(name="mid", provider="openai", model="mid-model", input_price_per_mtok=0.5, output_price_per_mtok=1.5)
TOP = Rung(name="top", provider="openai", model="top-model", input_price_per_mtok=2.5, output_price_per_mtok=10.0)
QUERY = "What is 17 * 23?"


def says(expression: str, words: str | None = None) -> list[str]:
    """A rung's attempt: code printing ``expression``, then its closing words."""
    return [f"```python\nprint({expression})\n```", f"{words or 'Done.'} TERMINATE"]


def table(**bins: dict[str, tuple[int, int]]) -> Calibration:
    """A calibration: identity -> kind -> (checked, wrong)."""
    return Calibration(
        rungs={
            identity: {kind: BinCount(n=n, wrong=w) for kind, (n, w) in kinds.items()}
            for identity, kinds in bins.items()
        }
    )


# Lone answers of every rung are unreliable; agreement is calibrated to pass δ = 0.10.
CALIBRATED = table(
    **{
        "cheap-model": {"single": (100, 60), "samples": (60, 1), "rungs": (40, 0)},
        "mid-model": {"single": (100, 40), "samples": (40, 10), "rungs": (60, 1)},
        "top-model": {"single": (100, 30), "samples": (40, 8), "rungs": (50, 0)},
    }
)


def climb(
    scripts: dict[str, Sequence[str]],
    calibration: Calibration = CALIBRATED,
    *,
    samples: int = 2,
    max_error: float = 0.10,
    query: str = QUERY,
) -> tuple[RunRecord, list[Event], dict[str, ScriptedChatCompletionClient]]:
    rungs = [r for r in (CHEAP, MID, TOP) if r.name in scripts]
    clients = {name: ScriptedChatCompletionClient(list(script)) for name, script in scripts.items()}
    ladder = Ladder(rungs, lambda rung: clients[rung.name], FakeExecutor, run=RunSettings(max_turns=4))
    judge = EvidenceJudge(rungs, calibration, max_error=max_error, samples=samples)
    q = Query(query)
    record = RunRecord(query=q.text)

    async def go() -> list[Event]:
        return [e async for e in ladder.climb(q, first_message(q.text, []), judge, record)]

    return record, asyncio.run(go()), clients


# ---- what an answer is ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("The answer is 391.", "391"),
        ("391.0", "391"),
        ("Result: 1,234", "1234"),
        ("78.54", "78.5398"),
        ("[1, 2, 3]", "1 2 3"),
        ("True", "yes"),
        ("The answer is: Paris.", "paris"),
        ("370 is an Armstrong number: True", "True"),
        ("answer: 9.560802728869021", "The answer is 9.56."),
        ("+3.50", "3.5"),
    ],
)
def test_answers_that_say_the_same_thing_agree(a: str, b: str) -> None:
    assert same_answer(answer_key(a), answer_key(b)) and same_answer(answer_key(b), answer_key(a))


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("391", "381"),
        ("[1, 2, 3]", "[3, 2, 1]"),
        ("2cf24dba", "2cf24dbb"),
        ("True", "False"),
        ("78.54", "78.64"),
        ("12345678", "12345679"),
        ("10", "9.56"),
        ("9.56", "9.57"),
        ("[1, 2]", "[1, 2, 3]"),
    ],
)
def test_answers_that_differ_disagree(a: str, b: str) -> None:
    assert not same_answer(answer_key(a), answer_key(b)) and not same_answer(answer_key(b), answer_key(a))


@pytest.mark.parametrize(
    ("query", "answer", "why"),
    [
        ("How many numbers are in this JSON?", "", "empty"),
        ("How many numbers are in this JSON?", "The answer is 0.", "0"),
        ("Which colour is named?", "None", "broken code"),
        ("Sort [3, 1, 2] ascending.", "[]", "broken code"),
        ("Find the vowels in 'banana'.", "False", "no yes/no question"),
        ("Parse the date.", "Traceback (most recent call last):\n  ValueError: bad", "error text"),
        ("Parse the date.", "NameError: name 'x' is not defined", "error text"),
        ("Reverse the words of 'red green blue'.", "red green blue", "repeats"),
        ("Sort [3, 1, 2] in descending order.", "[3, 1, 2]", "repeats"),
        ("What is the factorial of 10?", "10", "only number"),
    ],
)
def test_void_answers(query: str, answer: str, why: str) -> None:
    reason = void_reason(query, answer)
    assert reason is not None and why in reason


@pytest.mark.parametrize(
    ("query", "answer"),
    [
        ("Is 91 a prime number?", "False"),
        ("Does 'level' read the same backwards?", "True"),
        ("What is the largest of 3, 9 and 4?", "9"),
        ("What is 17 * 23?", "391"),
        ("Give the first 8 characters of the SHA-256 of 'abc'.", "ba7816bf"),
        ("Is 370 an Armstrong number?", "370 is an Armstrong number True"),
    ],
)
def test_answers_that_say_something_are_not_void(query: str, answer: str) -> None:
    assert void_reason(query, answer) is None


# ---- the bound ------------------------------------------------------------------------------
def test_the_bound_is_clopper_pearson() -> None:
    # With no errors the one-sided bound has a closed form: 1 - alpha^(1/n).
    for n in (1, 10, 29, 100):
        assert math.isclose(upper_bound(0, n, 0.95), 1 - 0.05 ** (1 / n), rel_tol=1e-6)
    assert upper_bound(0, 28) > 0.10 >= upper_bound(0, 29)  # 29 clean answers pass δ = 0.10 at 95%
    assert math.isclose(upper_bound(1, 10, 0.95), 0.3942, abs_tol=5e-4)  # the textbook value
    assert upper_bound(0, 0) == 1.0 and upper_bound(5, 5) == 1.0
    assert upper_bound(3, 100, 0.90) < upper_bound(3, 100, 0.99)


def test_unknown_rungs_borrow_agreement_bins_but_never_a_lone_answer() -> None:
    est = CALIBRATED.estimate("someone-elses-model", "rungs")
    assert est.source == "borrowed" and est.n == 150 and est.wrong == 1
    lone = CALIBRATED.estimate("someone-elses-model", "single")
    assert lone.source == "none" and lone.upper == 1.0 and lone.rate is None
    assert CALIBRATED.estimate("cheap-model", "single").rate == 0.6


def test_calibration_files_round_trip_and_bad_ones_say_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "calibration.json"
    CALIBRATED.save(path)
    again = Calibration.load(path)
    assert again == CALIBRATED
    assert again.merged(CALIBRATED).count("mid-model", "rungs") == BinCount(n=120, wrong=2)
    assert Calibration.load(tmp_path / "missing.json") == Calibration()
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(Exception, match="not a calibration file") as info:
        Calibration.load(path)
    assert "ecoagent calibrate" in str(getattr(info.value, "hint", "")) + str(info.value)


def test_risk_phrases() -> None:
    assert risk_phrase(0.4) == "about 4 in 10 like it are wrong"
    assert risk_phrase(0.05) == "about 1 in 20 like it is wrong"
    assert risk_phrase(0.0, 40) == "none of 40 checked answers like it was wrong"
    assert "no checked answers" in risk_phrase(None)


# ---- the ladder with the evidence judge -----------------------------------------------------
def test_a_second_sample_that_agrees_stops_on_the_cheap_rung() -> None:
    record, events, clients = climb({"cheap": says("17 * 23") * 2, "mid": [], "top": []})
    assert record.resolved and not record.unverified and record.final_rung == "cheap"
    first, second = record.attempts
    assert (first.sample, second.sample) == (0, 1)
    assert first.verdict and not first.verdict.ok and first.verdict.evidence == "single" and first.verdict.more
    assert second.verdict and second.verdict.ok and second.verdict.evidence == "samples"
    assert "1 of 60" in second.verdict.reason and record.risk == pytest.approx(1 / 60)
    assert [e.sample for e in events if isinstance(e, RungStarted)] == [0, 1]
    assert clients["mid"].calls == [] and clients["top"].calls == []


def test_a_disagreeing_sample_climbs_and_the_next_rung_confirms_the_right_answer() -> None:
    record, events, clients = climb({"cheap": says("17 * 24") + says("17 * 23"), "mid": says("17 * 23"), "top": []})
    assert record.resolved and record.final_rung == "mid" and record.final_answer == "Done."
    assert [a.rung for a in record.attempts] == ["cheap", "cheap", "mid"]
    confirmed = record.attempts[-1].verdict
    assert confirmed and confirmed.evidence == "rungs" and "cheap" in confirmed.reason
    assert clients["top"].calls == []  # the top rung was not needed: cheaper evidence agreed
    assert len([e for e in events if isinstance(e, Escalated)]) == 1


def test_a_lone_answer_of_every_rung_comes_back_unverified_with_its_risk() -> None:
    record, _, _ = climb({"cheap": says("1"), "mid": says("2"), "top": says("3")}, samples=1)
    assert not record.resolved and record.unverified
    assert record.final_rung == "top" and record.final_code == "print(3)"  # ties go to the stronger rung
    assert record.risk == pytest.approx(0.30)
    assert record.summary()["unverified"] is True and record.summary()["resolved"] is False


def test_the_most_supported_answer_is_returned_when_none_passes_the_bound() -> None:
    # cheap and top agree on 391, but at max_error 0 nothing is ever accepted.
    record, _, _ = climb(
        {"cheap": says("17 * 23"), "mid": says("999"), "top": says("17 * 23")}, samples=1, max_error=0.0
    )
    assert record.unverified and record.final_code == "print(17 * 23)" and record.final_rung == "top"
    assert record.risk == 0.0  # top's 'rungs' bin: none of 50 wrong, still not enough for δ = 0


def test_void_answers_never_agree() -> None:
    # Two rungs print 0 for a count: broken code agrees with broken code.
    query = "How many e-mail addresses are in 'a@x.org, b@y.com'?"
    record, _, _ = climb({"cheap": says("0"), "mid": says("0"), "top": says("0")}, samples=1, query=query)
    assert not record.resolved and not record.unverified and record.final_answer is None
    assert all(a.verdict and a.verdict.evidence == "void" for a in record.attempts)


def test_a_crash_climbs_and_is_no_evidence() -> None:
    record, _, _ = climb(
        {
            "cheap": ["```python\nprint(17 * 23 +)\n```", "Done. TERMINATE"],
            "mid": says("17 * 23"),
            "top": says("17 * 23"),
        },
        samples=1,
    )
    assert [a.rung for a in record.attempts] == ["cheap", "mid", "top"]
    assert record.resolved and record.final_rung == "top" and record.attempts[-1].verdict
    assert record.attempts[-1].verdict.evidence == "rungs"


def test_sampling_stops_where_agreement_could_not_pass_the_bound() -> None:
    # No agreement mid could reach passes the bound (10 of 40 wrong either way): no second sample.
    calibration = CALIBRATED.model_copy(deep=True)
    calibration.rungs["mid-model"]["rungs"] = BinCount(n=40, wrong=10)
    record, _, clients = climb({"cheap": says("1") + says("3"), "mid": says("2") * 2, "top": says("2")}, calibration)
    assert [(a.rung, a.sample) for a in record.attempts] == [("cheap", 0), ("cheap", 1), ("mid", 0), ("top", 0)]
    assert record.resolved and record.final_rung == "top"
    assert clients["mid"].remaining == 2


def test_uncalibrated_ladders_climb_to_the_top_and_say_why() -> None:
    record, _, _ = climb({"cheap": says("17 * 23"), "top": says("17 * 23")}, Calibration())
    assert record.unverified and len(record.attempts) == 2  # no sampling: no bin could pass
    verdict = record.attempts[-1].verdict
    assert verdict and "no checked answers like it" in verdict.reason and "ecoagent calibrate" in verdict.reason
    assert record.risk is None


def test_the_unverified_answer_is_the_one_whose_evidence_was_least_often_wrong() -> None:
    # A higher rung is not always the better one: here the top rung's lone answers were wrong 7 in 10.
    calibration = CALIBRATED.model_copy(deep=True)
    calibration.rungs["top-model"]["single"] = BinCount(n=100, wrong=70)
    record, _, _ = climb({"cheap": says("1"), "mid": says("2"), "top": says("3")}, calibration, samples=1)
    assert record.unverified and record.final_rung == "mid" and record.final_code == "print(2)"
    assert record.risk == pytest.approx(0.4) and record.risk_note == "about 4 in 10 like it are wrong"


# ---- rungs that never wrote a function are skipped for function queries ----------------------------
FUNCTION_QUERY = "Write a function called add(a, b) that returns a + b.\n>>> add(2, 3)\n5"
NAMES = ["tiny", "mid", "top"]


def function_calibration(mid: int, tiny: int = 0) -> Calibration:
    table = Calibration()
    for _ in range(40):
        table.observe("tiny", "single", wrong=True)  # tiny was calibrated: it answers, just never functions
    for _ in range(tiny):
        table.observe("tiny", "function", wrong=False)
    for _ in range(mid):
        table.observe("mid", "function-samples", wrong=False)
    return table


def names_judge(table: Calibration, **kw: object) -> EvidenceJudge:
    rungs = [Rung(name=n, provider="openai", model=n) for n in NAMES]
    judge = EvidenceJudge(rungs, table, **kw)  # type: ignore[arg-type]
    judge.identities = {n: n for n in NAMES}  # identities by name, as a calibration file names them
    return judge


def test_a_function_query_skips_the_rungs_its_calibration_never_saw_write_a_function() -> None:
    lifted = names_judge(function_calibration(mid=12)).start_rung(FUNCTION_QUERY, NAMES, 0)
    assert lifted is not None and lifted[0] == 1 and "tiny never wrote one" in lifted[1] and "mid: 12" in lifted[1]
    assert names_judge(function_calibration(mid=12)).start_rung("What is 17 * 23?", NAMES, 0) is None  # no function
    assert names_judge(function_calibration(mid=5)).start_rung(FUNCTION_QUERY, NAMES, 0) is None  # too little seen
    assert names_judge(function_calibration(mid=12, tiny=1)).start_rung(FUNCTION_QUERY, NAMES, 0) is None
    assert names_judge(function_calibration(mid=12)).start_rung(FUNCTION_QUERY, NAMES, 1) is None  # already there
    assert names_judge(function_calibration(mid=12), explore=True).start_rung(FUNCTION_QUERY, NAMES, 0) is None


def test_the_pipeline_starts_a_function_query_above_the_silent_rung_and_says_why(tmp_path: Path) -> None:
    from ecoagent import EcoAssistant
    from ecoagent.config import LadderSettings, Settings
    from ecoagent.events import Routed

    code = "```python\ndef add(a, b):\n    return a + b\n\nprint(add(2, 3))\n```"
    clients = {n: ScriptedChatCompletionClient([code] * 20) for n in NAMES}
    settings = Settings(ladder=LadderSettings(rungs=[Rung(name=n, provider="openai", model=n) for n in NAMES]))
    settings.router.enabled = False
    settings.bank.path, settings.runlog_path = tmp_path / "bank", tmp_path / "runs.sqlite3"
    settings.cache.path = tmp_path / "cache.sqlite3"
    eco = EcoAssistant(settings, clients=clients, executor_factory=FakeExecutor)
    judge = names_judge(function_calibration(mid=12))

    async def go() -> list[object]:
        return [item async for item in eco.run_stream(Query(FUNCTION_QUERY), judge=judge)]

    items = asyncio.run(go())
    routed = next(e for e in items if isinstance(e, Routed))
    record = items[-1]
    assert isinstance(record, RunRecord) and routed.routing.start_rung == "mid"
    assert record.routing is not None and "never wrote one" in record.routing.reason
    assert not clients["tiny"].calls and clients["mid"].calls  # the silent rung cost nothing
    assert record.attempts[0].rung == "mid"
    eco.close()


def test_a_printed_answer_draws_no_sample_that_only_a_function_bin_could_vouch_for() -> None:
    """An unknown rung borrows the pooled agreement bins; a calibration that vouches for agreeing
    *functions* says nothing about a printed number, so no second sample is drawn for one."""
    functions_only = table(**{"known-model": {"function-samples": (40, 0), "samples": (40, 10)}})
    record, _, clients = climb({"cheap": says("17 * 23", "The answer is 391.") * 2}, functions_only)
    assert [(a.rung, a.sample) for a in record.attempts] == [("cheap", 0)]
    assert record.unverified and record.final_answer and clients["cheap"].remaining == 2
