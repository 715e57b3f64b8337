"""Verdicts: did this rung solve the query? (:mod:`.base` for the judges that read the
attempt, :mod:`.evidence` for the key-free one that needs independent answers to agree
under a calibrated error bound (:mod:`.calibration`), :mod:`.tests` for the one that runs
the query's tests in the sandbox, :mod:`.probe` for what a written function returns.)"""

from __future__ import annotations

from .base import (
    AutoJudge,
    ExpectedJudge,
    HumanJudge,
    Judge,
    JudgeInput,
    LLMJudge,
    Unbacked,
    contains_answer,
    hard_failure,
)
from .calibration import Calibration, Estimate, risk_phrase, upper_bound
from .evidence import EvidenceJudge, answer_key, answer_text, load_calibration, rung_identity, void_reason
from .probe import FunctionProbe
from .tests import TestOutcome, TestsJudge, harness_program, read_outcome

__all__ = [
    "AutoJudge",
    "Calibration",
    "Estimate",
    "EvidenceJudge",
    "ExpectedJudge",
    "FunctionProbe",
    "HumanJudge",
    "Judge",
    "JudgeInput",
    "LLMJudge",
    "TestOutcome",
    "TestsJudge",
    "Unbacked",
    "answer_key",
    "answer_text",
    "contains_answer",
    "hard_failure",
    "harness_program",
    "load_calibration",
    "read_outcome",
    "risk_phrase",
    "rung_identity",
    "upper_bound",
    "void_reason",
]
