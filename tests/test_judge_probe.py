"""Function-writing answers: the calls a query shows, calls derived from them, and what a
written function returns on them, compared by the evidence judge.

The probe program runs here in a local Python subprocess (``run_locally``, the same program
the sandbox runs: no Docker); one test runs it in the real sandbox.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Sequence

import pytest

from ecoagent.config import Rung, RunSettings, SandboxSettings
from ecoagent.judge import Calibration, EvidenceJudge, FunctionProbe
from ecoagent.judge.calibration import BinCount
from ecoagent.judge.probe import Example, defines, derived_calls, examples, function_name, probe_program, read_probe
from ecoagent.ladder import Ladder
from ecoagent.prompts import first_message
from ecoagent.query import Query
from ecoagent.records import RunRecord
from ecoagent.testing import FakeExecutor, ScriptedChatCompletionClient

CHEAP = Rung(name="cheap", provider="openai", model="cheap-model")
MID = Rung(name="mid", provider="openai", model="mid-model")
TOP = Rung(name="top", provider="openai", model="top-model")

HUMANEVAL_LIKE = '''Complete the Python function below. Write the whole function in one ```python code block.

```python
def helper(x):
    return x

def add_abs(a: int, b: int) -> int:
    """Add the absolute values of a and b.
    >>> add_abs(2, -3)
    5
    add_abs(-1, -1) == 2
    add_abs(0, 4) ➞ 4
    add_abs(x, 2) is not a literal call
    """
```'''

GOOD = "def add_abs(a, b):\n    return abs(a) + abs(b)\n"
ALSO_GOOD = (
    "def add_abs(a, b):\n    total = 0\n    for v in (a, b):\n        total += v if v >= 0 else -v\n    return total\n"
)
WRONG_ON_EXAMPLE = "def add_abs(a, b):\n    return a + b\n"
WRONG_ELSEWHERE = (
    "def add_abs(a, b):\n    if (a, b) in ((2, -3), (-1, -1), (0, 4)):\n        return abs(a) + abs(b)\n    return 0\n"
)

# Function answers: a lone function is unreliable, agreement of two rungs passes δ = 0.10.
BINS = {"function": (100, 50), "function-samples": (40, 10), "function-rungs": (60, 1), "single": (100, 60)}
FUNCTIONS = Calibration(
    rungs={
        m: {kind: BinCount(n=n, wrong=w) for kind, (n, w) in BINS.items()}
        for m in ("cheap-model", "mid-model", "top-model")
    }
)


def run_locally(code: str) -> tuple[int, str]:
    done = subprocess.run([sys.executable, "-"], input=code, capture_output=True, text=True, timeout=60)
    return done.returncode, done.stdout + done.stderr


def local_factory(settings: object = None) -> FakeExecutor:
    return FakeExecutor(settings, reply=run_locally)


def probe() -> FunctionProbe:
    return FunctionProbe(local_factory, SandboxSettings(), timeout_s=20)


def writes(code: str) -> list[str]:
    return [f"```python\n{code}```", "The function is written. TERMINATE"]


# ---- what the query shows ---------------------------------------------------------------------
def test_the_function_a_query_asks_for() -> None:
    assert function_name(HUMANEVAL_LIKE) == "add_abs"  # the last one defined, not the helper
    assert function_name("Write a Python function called `slugify(text)` that lowercases text.") == "slugify"
    assert function_name("What is 17 * 23?") is None
    assert function_name("Here is my code:\ndef f(x):\n    return x\nWhy does it print 3?") is None  # nothing asked
    assert defines(GOOD, "add_abs") and not defines("print(add_abs(1, 2))", "add_abs")


def test_examples_are_the_literal_calls_the_query_shows_with_their_stated_results() -> None:
    assert examples(HUMANEVAL_LIKE, "add_abs") == [
        Example("add_abs(2, -3)", "5"),
        Example("add_abs(-1, -1)", "2"),
        Example("add_abs(0, 4)", "4"),
    ]
    query = 'def f(s):\n    """\n    f("a b") # => \'Yes\'\n    f([1, 2]) => true\n    f(3) returns 7 (because it does)\n    f(1)\n    """'
    assert examples(query, "f") == [
        Example('f("a b")', "'Yes'"),
        Example("f([1, 2])", "True"),
        Example("f(3)", "7"),
        Example("f(1)", None),
    ]


def test_derived_calls_change_one_argument_and_repeat_nothing_shown() -> None:
    shown = [Example("f([1, 2, 3], 'ab')", "1"), Example("f([], 'x')", None)]
    derived = derived_calls("f", shown, limit=8)
    assert len(derived) == 8 and len(set(derived)) == 8
    assert not {e.call for e in shown} & set(derived)
    assert "f([3, 2, 1], 'ab')" in derived and "f([1, 2, 3], 'ba')" in derived
    assert derived[1].startswith("f([]") or derived[1].startswith("f([],")  # taken in turn from each example


# ---- what a function returns ------------------------------------------------------------------
def run_probe(code: str, shown: Sequence[Example], derived: Sequence[str] = ()):  # type: ignore[no-untyped-def]
    return asyncio.run(probe()(code, list(shown), list(derived)))


def test_a_function_returns_what_the_examples_state() -> None:
    shown = examples(HUMANEVAL_LIKE, "add_abs")
    good = run_probe(GOOD, shown, derived_calls("add_abs", shown))
    assert good.error is None and not good.failed and good.stated == 3
    assert good.returned[:3] == ("5", "2", "4")
    same = run_probe(ALSO_GOOD, shown, derived_calls("add_abs", shown))
    assert same.key == good.key  # another route to the same values: the same answer
    other = run_probe(WRONG_ELSEWHERE, shown, derived_calls("add_abs", shown))
    assert not other.failed and other.key != good.key  # right on the examples only: the derived calls tell


def test_a_function_that_misses_an_example_hangs_or_does_not_load_says_so() -> None:
    shown = examples(HUMANEVAL_LIKE, "add_abs")
    wrong = run_probe(WRONG_ON_EXAMPLE, shown)
    assert wrong.failed[0] == ("add_abs(2, -3)", "5", "-1")
    slow = run_probe("def add_abs(a, b):\n    while True:\n        pass\n", shown)
    assert slow.returned == ("raises timeout",) * 3 and len(slow.failed) == 3
    broken = run_probe("def add_abs(a, b)\n    return 1\n", shown)
    assert broken.error and "does not load" in broken.error and "SyntaxError" in broken.error
    raises = run_probe("def add_abs(a, b):\n    return a / 0\n", [Example("add_abs(1, 2)")])
    assert raises.returned == ("raises ZeroDivisionError",)


def test_a_solution_cannot_fake_the_probes_line() -> None:
    # It does not know the nonce: the line it prints is not the probe's, and ending the process early is no answer.
    forged = 'import os\nprint(\'deadbeef {"results": [["5", true]]}\')\nos._exit(0)\n'
    program = probe_program(forged, [("add_abs(2, -3)", "5")], "cafe" * 8)
    code, output = run_locally(program)
    result = read_probe(output, "cafe" * 8, [("add_abs(2, -3)", "5")])
    assert result.error and "did not finish" in result.error


# ---- the judge on function answers ------------------------------------------------------------
def climb(scripts: dict[str, Sequence[str]], *, samples: int = 1, query: str = HUMANEVAL_LIKE) -> RunRecord:
    rungs = [r for r in (CHEAP, MID, TOP) if r.name in scripts]
    clients = {name: ScriptedChatCompletionClient(list(script)) for name, script in scripts.items()}
    ladder = Ladder(rungs, lambda rung: clients[rung.name], local_factory, run=RunSettings(max_turns=4))
    judge = EvidenceJudge(rungs, FUNCTIONS, samples=samples, probe=probe())
    q = Query(query)
    record = RunRecord(query=q.text)

    async def go() -> None:
        async for _ in ladder.climb(q, first_message(q.text, []), judge, record):
            pass

    asyncio.run(go())
    return record


def test_two_rungs_whose_functions_return_the_same_stop_the_climb() -> None:
    record = climb({"cheap": writes(GOOD), "mid": writes(ALSO_GOOD), "top": writes(GOOD)})
    assert record.resolved and record.final_rung == "mid" and len(record.attempts) == 2
    first, second = (a.verdict for a in record.attempts)
    assert first and first.evidence == "function" and not first.ok and first.answer and first.answer.startswith("f:")
    assert second and second.ok and second.evidence == "function-rungs" and "examples state" in second.reason


def test_a_function_that_misses_an_example_climbs_and_backs_nothing() -> None:
    record = climb({"cheap": writes(WRONG_ON_EXAMPLE), "mid": writes(GOOD), "top": writes(ALSO_GOOD)})
    assert record.resolved and record.final_rung == "top"
    void = record.attempts[0].verdict
    assert void and void.evidence == "void" and "add_abs(2, -3) returns -1, and the query says 5" in void.reason


def test_functions_that_differ_off_the_examples_do_not_agree() -> None:
    record = climb({"cheap": writes(WRONG_ELSEWHERE), "mid": writes(GOOD)})
    assert not record.resolved and record.unverified
    assert [a.verdict.evidence for a in record.attempts if a.verdict] == ["function", "function"]


def test_code_that_defines_no_function_of_the_asked_name_is_void() -> None:
    record = climb({"cheap": writes("print(5)\n"), "mid": writes(GOOD), "top": writes(GOOD)})
    void = record.attempts[0].verdict
    assert void and void.evidence == "void" and "defines no function add_abs" in void.reason
    assert record.resolved and record.final_rung == "top"


@pytest.mark.docker
def test_the_probe_runs_in_the_real_sandbox(sandbox_image: str) -> None:
    from ecoagent.sandbox import DockerSandboxExecutor

    shown = examples(HUMANEVAL_LIKE, "add_abs")
    real = FunctionProbe(DockerSandboxExecutor, SandboxSettings(image=sandbox_image), timeout_s=20)
    good = asyncio.run(real(GOOD, shown, derived_calls("add_abs", shown)))
    assert good.error is None and not good.failed and good.returned[:3] == ("5", "2", "4")
    wrong = asyncio.run(real(WRONG_ON_EXAMPLE, shown, []))
    assert wrong.failed and wrong.failed[0][2] == "-1"


def test_a_function_with_no_call_to_check_it_on_is_no_evidence() -> None:
    # Closing words agree across rungs ("The function is written."): they must not back anything.
    query = "Write a Python function called `double(x)` that returns twice its argument."
    code = "def double(x):\n    return 2 * x\n"
    record = climb({"cheap": writes(code), "mid": writes(code)}, query=query)
    assert not record.resolved
    assert all(
        a.verdict and a.verdict.evidence == "void" and "no call of double" in a.verdict.reason for a in record.attempts
    )
