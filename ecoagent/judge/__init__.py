"""Verdicts: did this rung solve the query? (:mod:`.base` for the judges that read the
attempt, :mod:`.tests` for the one that runs the query's tests in the sandbox.)"""

from __future__ import annotations

from .base import AutoJudge, ExpectedJudge, HumanJudge, Judge, JudgeInput, LLMJudge, contains_answer, hard_failure
from .tests import TestOutcome, TestsJudge, harness_program, read_outcome

__all__ = [
    "AutoJudge",
    "ExpectedJudge",
    "HumanJudge",
    "Judge",
    "JudgeInput",
    "LLMJudge",
    "TestOutcome",
    "TestsJudge",
    "contains_answer",
    "hard_failure",
    "harness_program",
    "read_outcome",
]
