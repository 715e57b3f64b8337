"""The broad teacher set (benchmarks/tasks/make_teacher.py): its answers are its code's output."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import random
import sys
from pathlib import Path

from ecoagent.config import SandboxSettings
from ecoagent.sandbox import DockerSandboxExecutor

TASKS = Path(__file__).resolve().parents[1] / "benchmarks" / "tasks"


def _module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("make_teacher", TASKS / "make_teacher.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_the_committed_set_is_what_the_generators_write_and_is_broad() -> None:
    make = _module()
    built = make.build()
    committed = [json.loads(line) for line in (TASKS / "teacher.jsonl").read_text(encoding="utf-8").splitlines()]
    assert committed == built  # regenerate with: .venv/bin/python benchmarks/tasks/make_teacher.py
    families = {t["family"] for t in built}
    assert len(built) >= 1000 and len(families) >= 80 and len({t["category"] for t in built}) >= 12
    assert len({t["query"] for t in built}) == len(built) and all(t["expected"] for t in built)


def test_the_holdout_split_never_puts_a_family_on_both_sides() -> None:
    make = _module()
    families = sorted({t["family"] for t in make.build(per_family=2)})
    train, held = make.holdout_split(families)
    assert train and held and not (train & held) and train | held == set(families)
    assert make.holdout_split([*families, "a-new-family"])[1] - {"a-new-family"} == held  # stable as families are added


def test_a_sample_of_answers_is_what_the_code_prints_in_the_sandbox(sandbox_settings: SandboxSettings) -> None:
    tasks = [json.loads(line) for line in (TASKS / "teacher.jsonl").read_text(encoding="utf-8").splitlines()]
    sample = random.Random(0).sample(tasks, 60)

    async def go() -> list[tuple[str, str, str]]:
        wrong = []
        async with DockerSandboxExecutor(sandbox_settings) as sandbox:
            for task in sample:
                result = await sandbox.run(task["code"])
                if result.exit_code != 0 or result.output.strip() != task["expected"]:
                    wrong.append((task["id"], task["expected"], result.output.strip()[:80]))
        return wrong

    assert asyncio.run(go()) == []
