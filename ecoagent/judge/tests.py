"""The ``tests`` judge: the attempt is right when its final code passes the query's tests.

What users of a code-executing assistant have is tests ("it is correct if these
asserts pass"), so this is the judge with the strongest evidence short of a person.
The tests are Python, in one of two shapes:

* plain asserts over what the solution defines (``assert add(2, 3) == 5``), or over
  ``OUTPUT``, what the solution printed when it ran as a script;
* HumanEval's shape: a ``check(candidate)`` function and an ``entry_point``, the
  name of the solution's function that is passed to it.

The verdict is a run of the attempt's final code (the last block that ran cleanly)
followed by the tests, in a **fresh** sandbox container, with the sandbox's limits
and the judge's own timeout: nothing the attempt left in its workspace can make a
test pass, and a test that tries the network or never ends fails like any code
would. Pass means every test passed; the reason of a failure quotes the first
failing assert with its line (see :mod:`._harness`, the program that runs in the
container).

The model never sees the tests unless ``[judge] show_tests`` says so: a benchmark
must not leak its tests into the prompt.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from autogen_core import CancellationToken
from autogen_core.code_executor import CodeBlock

from ..config import SandboxSettings
from ..records import Verdict
from ..sandbox.factory import ExecutorFactory
from .base import Judge, JudgeInput

__all__ = ["TestsJudge", "TestOutcome", "harness_program", "read_outcome"]

_FILENAME = "ecoagent_tests.py"


@cache
def _template() -> str:
    return Path(__file__).with_name("_harness.py").read_text(encoding="utf-8")


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def harness_program(solution: str, tests: str, entry_point: str | None, nonce: str) -> str:
    """The program that runs ``solution`` and then ``tests`` and prints one verdict line."""
    return (
        _template()
        .replace("@SOLUTION@", _b64(solution))
        .replace("@TESTS@", _b64(tests))
        .replace('"@ENTRY@"', repr(json.dumps(entry_point)))
        .replace("@NONCE@", nonce)
    )


@dataclass(frozen=True)
class TestOutcome:
    """What one run of the tests showed."""

    __test__ = False  # not a pytest class

    ok: bool
    reason: str


def read_outcome(
    output: str, exit_code: int, nonce: str, *, timed_out: bool = False, timeout_s: float = 0.0
) -> TestOutcome:
    """The verdict in the harness's output; anything else is a failure that says why."""
    if timed_out:
        return TestOutcome(
            False, f"the tests timed out after {timeout_s:g} s (an endless loop in the solution or the tests?)"
        )
    found = re.findall(rf"^{re.escape(nonce)} (\{{.*\}})$", output, flags=re.MULTILINE)
    if not found:
        if exit_code in (137, -9):
            return TestOutcome(False, f"the test run was killed (exit {exit_code}): out of memory or a process limit?")
        tail = output.strip().splitlines()[-1][:200] if output.strip() else "no output"
        return TestOutcome(False, f"the test run ended (exit {exit_code}) before the tests finished: {tail}")
    try:
        data = json.loads(found[-1])
        ok, reason = bool(data["ok"]), str(data["reason"])
    except (ValueError, KeyError, TypeError):
        return TestOutcome(False, "the test run printed a verdict it could not read")
    return TestOutcome(ok and exit_code == 0, reason)


class TestsJudge(Judge):
    """Success = the attempt's final code passes the query's tests in a fresh sandbox.

    Args:
        executor_factory: Makes the sandbox the tests run in (one fresh container per verdict).
        sandbox: Its limits (the block timeout is replaced by ``timeout_s``).
        timeout_s: How long the solution and the tests may run together.
    """

    __test__ = False  # not a pytest class
    name = "tests"

    def __init__(self, executor_factory: ExecutorFactory, sandbox: SandboxSettings, *, timeout_s: float = 20.0) -> None:
        self.executor_factory = executor_factory
        self.sandbox = sandbox.model_copy(update={"timeout_s": timeout_s})
        self.timeout_s = timeout_s

    async def decide(self, data: JudgeInput) -> Verdict:
        query = data.query
        if query.tests is None:
            return Verdict(ok=False, judge=self.name, reason="no tests were given for this query")
        last = data.attempt.executions[-1]  # hard_failure() made sure it ran and exited 0
        if last.language != "python":
            return Verdict(
                ok=False, judge=self.name, reason=f"the tests are Python and the final code is {last.language}"
            )
        outcome = await self.run(last.code, query.tests, query.entry_point)
        return Verdict(ok=outcome.ok, judge=self.name, reason=outcome.reason)

    async def run(self, solution: str, tests: str, entry_point: str | None = None) -> TestOutcome:
        """Run ``tests`` against ``solution`` in a fresh container (also for a replay's code)."""
        nonce = secrets.token_hex(16)
        block = CodeBlock(code=harness_program(solution, tests, entry_point, nonce), language="python")
        async with self.executor_factory(self.sandbox) as executor:
            result = await executor.execute_code_blocks([block], CancellationToken())
        timed_out = bool(getattr(result, "timed_out", result.exit_code == 124))
        return read_outcome(result.output, result.exit_code, nonce, timed_out=timed_out, timeout_s=self.timeout_s)
