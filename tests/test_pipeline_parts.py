"""The pipeline's small parts, without Docker or models: Query, prompts, judges, cost tally."""

from __future__ import annotations

import asyncio

import pytest

from ecoagent.config import MAX_QUERY_CHARS
from ecoagent.costs import CostTally
from ecoagent.errors import EcoagentError
from ecoagent.judge import AutoJudge, ExpectedJudge, JudgeInput, contains_answer
from ecoagent.prompts import first_message, format_demonstration, has_code_block
from ecoagent.query import Query
from ecoagent.records import Demonstration, Execution, RungAttempt, RunRecord, Verdict


def test_an_expected_answer_means_the_expected_judge_unless_told_otherwise() -> None:
    assert Query("q").judge_name("auto") == "auto"
    assert Query("q", expected="391").judge_name("auto") == "expected"
    assert Query("q", expected_regex=r"39\d").judge_name("llm") == "expected"
    assert Query("q", expected="391", judge="llm").judge_name("auto") == "llm"
    assert Query("q", expected="").judge_name("auto") == "auto"  # an empty expected is no expected answer


@pytest.mark.parametrize(("text", "match"), [("   ", "empty"), ("x" * (MAX_QUERY_CHARS + 1), "characters long")])
def test_bad_queries_are_clear_errors(text: str, match: str) -> None:
    with pytest.raises(EcoagentError, match=match) as info:
        Query(text)
    assert info.value.exit_code == 2


def test_query_text_is_stripped_and_copies_change_one_field() -> None:
    q = Query("  What is 17 * 23?\n", id="row-1")
    assert q.text == "What is 17 * 23?" and q.but(start_rung=1).start_rung == 1 and q.but(start_rung=1).id == "row-1"
    with pytest.raises(EcoagentError):
        Query("q", start_rung=-1)


def test_the_most_similar_demonstration_sits_nearest_the_query() -> None:
    near = Demonstration(id="a", score=0.93, query="What is 17 * 24?", code="print(17 * 24)")
    far = Demonstration(id="b", score=0.61, query="What is 2 ** 10?", code="print(2 ** 10)")
    text = first_message("What is 17 * 23?", [near, far])
    assert text.index("print(2 ** 10)") < text.index("print(17 * 24)") < text.index("What is 17 * 23?")
    assert text.endswith("Now solve this query in the same way:\nWhat is 17 * 23?")
    assert format_demonstration(near.query, near.code) in text


def test_first_message_without_demonstrations_is_the_query_with_its_context() -> None:
    assert first_message("q") == "q"
    assert first_message("and doubled?", history="Q: 17 * 23\nA: 391").startswith(
        "Earlier in this conversation:\nQ: 17 * 23"
    )


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("```python\nx\n```", True),
        ("```sh\nls\n```", True),
        ("```\nx\n```", False),
        ("```text\nx\n```", False),
        ("TERMINATE", False),
    ],
)
def test_code_blocks_are_recognized_by_their_language(text: str, code: bool) -> None:
    assert has_code_block(text) is code


@pytest.mark.parametrize(
    ("haystack", "expected", "found"),
    [
        ("391\n", "391", True),
        ("The answer is 391.", "391", True),
        ("391.0", "391", True),
        ("3910", "391", False),
        ("1391", "391", False),
        ("391.5", "391", False),
        ("0.391", "391", False),
        ("TAGEOCE", "tageoce", True),
        ("x = tageocex", "tageoce", False),
        ("[2, 3, 5]", "[2, 3, 5]", True),
        ("", "391", False),
        ("391", "", False),
        ("37", "37.0", True),
        ("speed: 90.0 km/h", "90", True),
        ("1,000,000", "1000000", True),
        ("15050", "5050", False),
        ("5050\n", "5050", True),
        ("-7", "7", False),
        ("2.5e3", "2500", True),
        ("False True False True False True", "False", False),
        ("False\n", "False", True),
        ("It is true.", "True", True),
        ("12 6\n", "12 6", True),
        ("12:35", "12:35", True),
        ("112:35", "12:35", False),
    ],
)
def test_expected_answers_match_whole_tokens_only(haystack: str, expected: str, found: bool) -> None:
    assert contains_answer(haystack, expected) is found


def _attempt(outputs: list[tuple[int, str]], **kw: object) -> RungAttempt:
    executions = [Execution(code="print()", language="python", exit_code=c, output=o) for c, o in outputs]
    return RungAttempt(rung="r", executions=executions, **kw)  # type: ignore[arg-type]


def judge(j: object, query: Query, attempt: RungAttempt, answer: str = "") -> Verdict:
    return asyncio.run(j(JudgeInput(query, attempt, answer)))  # type: ignore[operator]


def test_expected_judge_reads_the_answer_not_every_earlier_output() -> None:
    q = Query("17 * 23?", expected="391")
    assert judge(ExpectedJudge(), q, _attempt([(0, "391\n"), (0, "17\n")]), "17").ok is False
    assert judge(ExpectedJudge(), q, _attempt([(0, "17\n"), (0, "391\n")]), "").ok is True
    assert judge(ExpectedJudge(), Query("q", expected_regex=r"^39\d$"), _attempt([(0, "391")])).ok
    assert "no expected answer" in judge(ExpectedJudge(), Query("q"), _attempt([(0, "1")])).reason


def test_hard_failures_overrule_every_judge() -> None:
    q = Query("q", expected="1")
    assert judge(ExpectedJudge(), q, _attempt([(0, "1"), (1, "boom")])).reason == "the last execution exited 1"
    assert judge(AutoJudge(), q, _attempt([], declared_done=True)).reason == "no code ran"
    assert "model endpoint failing" in judge(AutoJudge(), q, _attempt([(0, "1")], error="boom")).reason


def test_auto_judge_accepts_declared_completion_or_convergence() -> None:
    q = Query("q")
    assert judge(AutoJudge(), q, _attempt([(0, "1")], declared_done=True)).ok
    assert judge(AutoJudge(), q, _attempt([(0, "1"), (0, "1")], converged=True)).ok
    assert "did not declare completion" in judge(AutoJudge(), q, _attempt([(0, "1")], stop_reason="limit")).reason


def test_last_good_execution_is_the_runs_last_execution_when_it_succeeded() -> None:
    ok = RunRecord(query="q", attempts=[_attempt([(1, "x"), (0, "391")]), RungAttempt(rung="top", error="down")])
    assert ok.last_good_execution is not None and ok.last_good_execution.output == "391"
    failed = RunRecord(query="q", attempts=[_attempt([(0, "391"), (1, "boom")])])
    assert failed.last_good_execution is None
    assert RunRecord(query="q").last_good_execution is None


def test_cost_tally_counts_rungs_and_paid_verdicts() -> None:
    paid = Verdict(ok=True, judge="llm", reason="", prompt_tokens=10, completion_tokens=1, cost=0.5)
    record = RunRecord(
        query="q",
        resolved=True,
        total_cost=1.5,
        top_rung_cost_estimate=4.0,
        attempts=[RungAttempt(rung="cheap", prompt_tokens=100, completion_tokens=10, cost=1.0, verdict=paid)],
    )
    tally = CostTally()
    tally.add(record)
    tally.add(record)
    assert tally.per_rung["cheap"].attempts == 2 and tally.per_rung["cheap"].solved == 2
    assert tally.per_rung["llm judge"].cost == pytest.approx(1.0)
    assert tally.cost == pytest.approx(3.0) and tally.saving_estimate == pytest.approx(5.0)
    assert tally.tokens == 2 * 121 and tally.resolved == 2
