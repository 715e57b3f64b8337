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
    names = [f.name for f in make._families()]  # teacher_more.py's families never reuse a name of the first set
    assert len(names) == len(set(names)) >= 200


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


def _bench_finetune():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("bench_finetune", TASKS.parent / "bench_finetune.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_fail_and_fix_teacher_run_starts_with_code_that_really_fails() -> None:
    bench = _bench_finetune()
    assert bench.broken_version("import math\nprint(math.comb(5, 2))") == "print(math.comb(5, 2))"
    assert bench.broken_version("xs = [3, 1]\nprint(sorted(xs))") == "xs = [3, 1]\nprint(sorted(xs)"
    assert bench.broken_version("x = 3") is None  # no import, no closing parenthesis: nothing plausible to break
    assert bench.broken_version("import math\nprint(2)") is None  # without the import it still runs: not a failure
    chosen = [bench.picked(f"t-{i}", 0.5) for i in range(400)]
    assert chosen == [bench.picked(f"t-{i}", 0.5) for i in range(400)] and 150 < sum(chosen) < 250
    assert chosen != [bench.picked(f"demos:t-{i}", 0.5) for i in range(400)]  # the two shares are independent
    assert not any(bench.picked(f"t-{i}", 0.0) for i in range(100))
    assert all(bench.picked(f"t-{i}", 1.0) for i in range(100))


def test_a_fail_and_fix_run_exports_the_error_and_trains_only_on_the_fix(
    sandbox_settings: SandboxSettings, tmp_path: Path
) -> None:
    from ecoagent.bench import load_tasks
    from ecoagent.embed import Embedder
    from ecoagent.finetune import ExportFilter, export_examples
    from ecoagent.prompts import load_prompt
    from ecoagent.runlog import RunLog

    rows = [
        {"id": "comb", "query": "What is 5 choose 2?", "expected": "10", "code": "import math\nprint(math.comb(5, 2))"},
        {"id": "sum", "query": "What is the sum of 3, 4 and 5?", "expected": "12", "code": "print(sum([3, 4, 5]))"},
    ]
    (tasks := tmp_path / "tasks.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    bench = _bench_finetune()
    assert asyncio.run(bench.teacher_runs(load_tasks(tasks), tmp_path / "teacher", fail_fraction=1.0)) == (2, 2)
    log = RunLog(tmp_path / "teacher" / "runs.sqlite3")
    report = export_examples(log.all(), load_prompt("assistant"), Embedder().vectors, ExportFilter(test_fraction=0.0))
    log.close()
    assert len(report.examples) == 2
    for example in report.examples:
        turns = [m for m in example["messages"] if m["role"] != "system"]
        assert [m["role"] for m in turns] == ["user", "assistant", "user", "assistant", "user", "assistant"]
        broken, error, fixed = turns[1], turns[2], turns[3]
        assert broken["weight"] == 0 and fixed["weight"] == 1 and turns[5]["weight"] == 1
        assert "Error" in error["content"] and "exit code: 1" in error["content"]


def test_a_teacher_run_with_demos_reads_the_solution_banked_before_it(
    sandbox_settings: SandboxSettings, tmp_path: Path
) -> None:
    import sqlite3

    from ecoagent.bench import load_tasks

    rows = [
        {"id": "c1", "query": "What is 5 choose 2?", "expected": "10", "code": "import math\nprint(math.comb(5, 2))"},
        {"id": "c2", "query": "What is 7 choose 3?", "expected": "35", "code": "import math\nprint(math.comb(7, 3))"},
    ]
    (tasks := tmp_path / "tasks.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    assert asyncio.run(_bench_finetune().teacher_runs(load_tasks(tasks), tmp_path / "teacher", demos_fraction=1.0)) == (
        2,
        2,
    )
    db = sqlite3.connect(tmp_path / "teacher" / "runs.sqlite3")
    firsts = {
        query: json.loads(record)["attempts"][0]["messages"][0]["content"]
        for query, record in db.execute("select query, record from runs")
    }
    db.close()
    assert firsts["What is 5 choose 2?"] == "What is 5 choose 2?"  # nothing banked yet: the query alone
    second = firsts["What is 7 choose 3?"]
    assert (
        second.startswith("Here are similar queries")
        and "math.comb(5, 2)" in second
        and second.endswith("What is 7 choose 3?")
    )


def test_the_by_form_set_is_new_tasks_of_families_training_saw(tmp_path: Path) -> None:
    rows = [
        {"id": f"{f}-{i}", "family": f, "query": f"{f} {i}", "expected": "1", "half": "seed"}
        for f in ("seen", "unseen")
        for i in range(4)
    ]
    rows.append({"id": "held-1", "family": "held", "query": "held 1", "expected": "1", "half": "test"})
    (tmp_path / "holdout-tasks.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    examples = [
        {"split": "train", "metadata": {"query": "seen 0"}},
        {"split": "train", "metadata": {"query": "seen 1"}},
        {"split": "test", "metadata": {"query": "seen 2"}},
        {"split": "test", "metadata": {"query": "unseen 0"}},
    ]
    (tmp_path / "train.jsonl").write_text("".join(json.dumps(e) + "\n" for e in examples), encoding="utf-8")
    path = _bench_finetune().byform_tasks(tmp_path, per_family=5)
    halves: dict[str, list[str]] = {"seed": [], "test": []}
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        halves[row["half"]].append(row["query"])
    assert halves == {
        "seed": ["seen 0", "seen 1"],
        "test": ["seen 2", "seen 3"],
    }  # "unseen" reached no training: not a form
    capped = [
        json.loads(line) for line in _bench_finetune().byform_tasks(tmp_path, per_family=1).read_text().splitlines()
    ]
    assert [r["query"] for r in capped if r["half"] == "test"] == ["seen 2"]  # at most per_family a family


def test_a_teacher_subset_takes_whole_families_and_the_same_ones_every_time() -> None:
    from ecoagent.bench import load_tasks

    bench = _bench_finetune()
    everything = load_tasks(bench.BROAD)
    train, _ = _module().holdout_split(sorted({t.family for t in everything}))
    tasks = [t for t in everything if t.family in train]
    few = bench.subset(tasks, 47, 12)  # the same data size from a third of the 141 families...
    many = bench.subset(tasks, None, 4)  # ...or from all of them
    assert len(few) == len(many) == 564
    assert len({t.family for t in few}) == 47 and len({t.family for t in many}) == len({t.family for t in tasks})
    assert [t.id for t in bench.subset(tasks, 47, 12)] == [t.id for t in few]  # a seeded choice
    assert bench.subset(tasks, None, None) == tasks


def test_a_second_solution_binds_the_query_data_to_names_and_prints_the_same_answer() -> None:
    make = _module()
    second = make.named_givens("What is 12 times 34?", "print(12 * 34)")
    assert second == "a = 12\nb = 34\nprint(a * b)"
    code = "import json\nnames = [p['name'] for p in json.loads('[{\"name\": \"Ivo\", \"age\": 48}]') if p['age'] > 36]\nprint(names)"
    query = 'From [{"name": "Ivo", "age": 48}], list the names of people older than 36.'
    assert make.named_givens(query, code).splitlines()[:3] == [
        "import json",
        's = \'[{"name": "Ivo", "age": 48}]\'',
        "a = 36",
    ]
    assert "p['name']" in make.named_givens(query, code)  # a key is the code's own word, not data from the query
    assert make.named_givens("What is 2 plus 2?", "print(2 + 2)") is None  # nothing worth a name
    assert make.named_givens("Reverse 'abc'.", "print('cba')") is None  # 'cba' is not in the query


def test_every_second_solution_of_the_teacher_set_prints_its_expected_answer() -> None:
    make = _module()
    tasks = [json.loads(line) for line in (TASKS / "teacher.jsonl").read_text(encoding="utf-8").splitlines()]
    seconds = {t["id"]: make.named_givens(t["query"], t["code"]) for t in tasks}
    assert sum(s is not None for s in seconds.values()) >= 0.9 * len(tasks)  # nearly every task gets one
    for task in tasks:
        if (second := seconds[task["id"]]) is not None:
            assert second != task["code"] and make.run(second) == task["expected"], task["id"]


def test_second_solutions_are_confirmed_runs_added_only_for_training_queries(
    sandbox_settings: SandboxSettings, tmp_path: Path
) -> None:
    from ecoagent.bench import load_tasks

    rows = [
        {"id": "p1", "query": "What is 12 times 34?", "expected": "408", "code": "print(12 * 34)"},
        {"id": "p2", "query": "What is 56 times 78?", "expected": "4368", "code": "print(56 * 78)"},
    ]
    (tasks := tmp_path / "tasks.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    first = [
        {"split": "train", "messages": [], "metadata": {"query": "What is 12 times 34?"}},
        {"split": "test", "messages": [], "metadata": {"query": "What is 56 times 78?"}},
    ]
    (data := tmp_path / "train.jsonl").write_text("".join(json.dumps(e) + "\n" for e in first), encoding="utf-8")
    _bench_finetune().add_second_solutions(load_tasks(tasks), tmp_path, data)
    examples = [json.loads(line) for line in data.read_text(encoding="utf-8").splitlines()]
    assert examples[:2] == first and len(examples) == 3  # the held-out query gets no second solution
    added = examples[2]
    assert added["split"] == "train" and added["metadata"]["query"] == "What is 12 times 34?"
    code, output, answer = [m["content"] for m in added["messages"] if m["role"] != "system"][1:]  # after the query
    assert code == "```python\na = 12\nb = 34\nprint(a * b)\n```" and output.strip() == "408" and "408" in answer
