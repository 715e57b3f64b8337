"""Fine-tuning the offline rung, measured on the bench's split protocol.

1. **Confirmed interactions of the seed split.** Each task's query is answered by a
   teacher rung that writes the task's reference code, then states the answer (a
   scripted AutoGen client: there is no stronger model on this machine). The code runs
   for real in the sandbox and the ``expected`` judge confirms it, so the run log holds
   what a thumbs-up'd stronger rung would leave: confirmed runs with their whole
   conversation.
2. ``ecoagent finetune export`` (the library call): confirmed runs → chat JSONL, with a
   held-out split by time for the held-out loss.
3. ``ecoagent finetune train``: LoRA on SmolLM2-135M on CPU, converted for llama.cpp
   and registered as ``smollm2-ft``. Training time is measured.
4. ``ecoagent bench -p split``: the test split (each task's paraphrase and
   near-parameter variant, never in training) for ``bottom-only``, ``bottom+finetuned``,
   ``bottom+demos`` and ``bottom+demos+finetuned``, in the same run; tokens per solved
   task are in the table.

Everything lives under ``--out`` (its own ECOAGENT_HOME); each step is skipped when its
result is there, so an interrupted run continues where it stopped.

``--holdout-families`` measures what matters for users: tasks *unlike* the training data.
The teacher set is the broad one (``benchmarks/tasks/teacher.jsonl``, written by
``make_teacher.py``); the teacher answers only the tasks of the training families, and
the bench's split protocol measures the tasks of families training never saw (up to
``--per-family`` each), with the training families' reference solutions banked as the
seed, so ``+demos`` strategies read the nearest *trained* solution. ``--functions`` adds
``tasks/functions.jsonl`` (``make_functions.py``): function-writing tasks judged by tests,
split by family like the rest, so their held-out families are measured too.

Usage: .venv/bin/python benchmarks/bench_finetune.py [--out DIR] [--limit N] [--epochs 3] [--steps N]
       .venv/bin/python benchmarks/bench_finetune.py --holdout-families [--per-family 4] [--out DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

TASKS = Path(__file__).resolve().parent / "tasks" / "compute.jsonl"
BROAD = Path(__file__).resolve().parent / "tasks" / "teacher.jsonl"
FUNCTIONS = Path(__file__).resolve().parent / "tasks" / "functions.jsonl"
STRATEGIES = ("bottom-only", "bottom+finetuned", "bottom+demos", "bottom+demos+finetuned")


def broken_version(code: str) -> str | None:
    """A first attempt at ``code`` with a mistake small models make, that really fails when
    run: the imports left out (a NameError), else the last line's closing parenthesis
    dropped (a SyntaxError); None when neither applies or the result still runs."""
    lines = code.strip().splitlines()
    kept = [line for line in lines if not line.startswith(("import ", "from "))]
    if kept and len(kept) < len(lines):
        broken = "\n".join(kept)
    elif lines and lines[-1].rstrip().endswith(")"):
        broken = "\n".join([*lines[:-1], lines[-1].rstrip()[:-1]])
    else:
        return None
    done = subprocess.run([sys.executable, "-c", broken], capture_output=True, timeout=30)  # our own reference code
    return broken if done.returncode != 0 else None


def picked(key: str, fraction: float) -> bool:
    """Whether ``key`` (a task id, for the fail-and-fix share; ``demos:`` + the id for the
    demonstrations share) is in ``fraction`` of them: a stable hash, so the same tasks are
    chosen on every machine and rerun, and the two shares are independent."""
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF < fraction


async def teacher_runs(
    tasks: list,
    folder: Path,
    fail_fraction: float = 0.0,  # type: ignore[type-arg]
    demos_fraction: float = 0.0,
) -> tuple[int, int]:
    """Each seed task answered by its reference code through the real pipeline; (confirmed, total).

    With ``fail_fraction``, that share of the tasks first gets a broken attempt, so the
    conversation holds the executor's error and the fix after it: the executor loop a
    model needs when its first code crashes (export weights the crashed turn 0, so the
    model learns the fix, not the crash). With ``demos_fraction``, every confirmed run is
    banked as it comes and that share of the tasks reads the bank's nearest solution in
    its first message, as a query does once users have confirmed solutions, so the model
    learns to use a demonstration instead of only ever seeing none."""
    from ecoagent import EcoAssistant
    from ecoagent.config import LadderSettings, Rung, load_settings
    from ecoagent.query import Query
    from ecoagent.testing import ScriptedChatCompletionClient

    seed = [t for t in tasks if t.code]
    script: list[str] = []
    lengths: dict[str, int] = {}
    for task in seed:
        broken = broken_version(task.code) if picked(task.id, fail_fraction) else None
        if broken is not None:
            script.append(f"```python\n{broken}\n```")
        done = (
            f"The answer is {task.expected}."
            if task.tests is None
            else f"The function {task.entry_point} is defined above and runs."
        )
        script += [f"```python\n{task.code.strip()}\n```", f"{done} TERMINATE"]
        lengths[task.id] = 6 if broken is not None else 4
    settings = load_settings(None)
    settings.ladder = LadderSettings(rungs=[Rung(name="reference", provider="scripted", model="-")])
    settings.runlog_path = folder / "runs.sqlite3"
    settings.bank.path = folder / "bank"
    settings.cache.enabled = False
    settings.cache.replay = False  # the script answers every task: no banked code may answer instead
    eco = EcoAssistant(settings, clients={"reference": ScriptedChatCompletionClient(script)})
    confirmed = 0
    try:
        for task in seed:
            settings.bank.top_k = 1 if picked(f"demos:{task.id}", demos_fraction) else 0
            judged = (
                {"tests": task.tests, "entry_point": task.entry_point, "judge": "tests"}
                if task.tests
                else {"expected": task.expected, "judge": "expected"}
            )
            record = await eco.run(Query(task.query, id=task.id, **judged))
            confirmed += record.resolved
            if demos_fraction and record.resolved:
                eco.bank_verified(record)
            if len(record.attempts[0].messages) != lengths[task.id]:  # query, [broken, error,] code, output, answer
                raise SystemExit(
                    f"teacher run of {task.id} took {len(record.attempts[0].messages)} messages, not {lengths[task.id]}"
                )
    finally:
        eco.close()
    return confirmed, len(seed)


def make_teacher():  # type: ignore[no-untyped-def]
    """``tasks/make_teacher.py`` as a module (it is a script beside this one, not a package)."""
    import importlib.util

    if "make_teacher" not in sys.modules:
        spec = importlib.util.spec_from_file_location("make_teacher", BROAD.parent / "make_teacher.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up there
        spec.loader.exec_module(module)
    return sys.modules["make_teacher"]


def holdout_tasks(tasks: list, out: Path, per_family: int) -> tuple[list, Path]:  # type: ignore[type-arg]
    """(the training families' tasks, for the teacher; a bench file: those as the seed half,
    up to ``per_family`` tasks of each held-out family as the measured half)."""
    import dataclasses

    train, held = make_teacher().holdout_split(sorted({t.family for t in tasks if t.family}))
    seed = [t for t in tasks if t.family in train]
    measured: list = []  # type: ignore[type-arg]
    for family in sorted(held):
        measured += [t for t in tasks if t.family == family][:per_family]
    path = out / "holdout-tasks.jsonl"
    out.mkdir(parents=True, exist_ok=True)
    rows = [
        {**{k: v for k, v in dataclasses.asdict(t).items() if v not in (None, (), "")}, "half": half}
        for half, group in (("seed", seed), ("test", measured))
        for t in group
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    print(
        f"held-out families: {len(held)} ({', '.join(sorted(held))}); training families: {len(train)}; "
        f"teacher tasks {len(seed)}, measured tasks {len(measured)}"
    )
    return seed, path


def byform_tasks(out: Path, per_family: int) -> Path:
    """A bench file for the figure *by form*, beside the held-out families': tasks of families
    training did see whose own query it never saw (export's held-out runs and the
    near-duplicates it dropped), up to ``per_family`` a family, measured; the trained tasks
    are the seed. Families export left out of training entirely are not in it (they are
    unseen families, not new forms)."""
    rows = [json.loads(line) for line in (out / "holdout-tasks.jsonl").read_text(encoding="utf-8").splitlines()]
    examples = [json.loads(line) for line in (out / "train.jsonl").read_text(encoding="utf-8").splitlines()]
    trained = {e["metadata"]["query"] for e in examples if e.get("split") == "train"}
    seed = [r for r in rows if r["half"] == "seed" and r["query"] in trained]
    families = {r.get("family") for r in seed}
    measured: list[dict] = []  # type: ignore[type-arg]
    for family in sorted(f for f in families if f):
        measured += [
            r for r in rows if r["half"] == "seed" and r.get("family") == family and r["query"] not in trained
        ][:per_family]
    path = out / "byform-tasks.jsonl"
    path.write_text(
        "".join(
            json.dumps({**r, "half": h}) + "\n" for h, group in (("seed", seed), ("test", measured)) for r in group
        ),
        encoding="utf-8",
    )
    print(
        f"by form: {len(measured)} tasks of {len({r.get('family') for r in measured})} trained families whose queries "
        f"training never saw; {len(seed)} trained tasks as the seed"
    )
    return path


def families_solved(tasks_file: Path, folder: Path) -> None:
    """Print each strategy's solved tasks by group of families: the first set's
    (``make_teacher.py``'s own, so a figure compares with runs made before
    ``teacher_more.py`` existed) and the added ones; the tasks judged by expected answers and
    those judged by tests, each with tokens an attempt and p50 latency; and the families it solved."""
    added = {f.name for f in make_teacher()._more_families()}
    rows = [json.loads(line) for line in tasks_file.read_text(encoding="utf-8").splitlines()]
    family_of = {r["id"]: r.get("family", "") for r in rows if r["half"] == "test"}
    judged_by_tests = {r["id"] for r in rows if r["half"] == "test" and r.get("tests")}
    print(
        f"by family group ({folder.name}; 'first set' = make_teacher.py's own families, 'added' = teacher_more.py's):"
    )
    for results in sorted((folder / "split").glob("*/results.jsonl")):
        outcome = [json.loads(line) for line in results.read_text(encoding="utf-8").splitlines()]
        parts = []
        for group, keep in (("first set", lambda f: f not in added), ("added", lambda f: f in added)):
            mine = [o for o in outcome if keep(family_of.get(o["task_id"], ""))]
            parts.append(f"{group} {sum(o['resolved'] for o in mine)}/{len(mine)}")
        # answered by expected answers or judged by tests (functions.jsonl's families): the
        # README's held-out figures are the first, as they were before function tasks existed
        for judged, by_tests in (("expected answers", False), ("tests", True)):
            mine = [o for o in outcome if (o["task_id"] in judged_by_tests) == by_tests]
            if mine:
                attempts = sum(len(o["rungs_tried"]) for o in mine)
                tokens = sum(o["prompt_tokens"] + o["completion_tokens"] for o in mine)
                parts.append(
                    f"by {judged} {sum(o['resolved'] for o in mine)}/{len(mine)} ({tokens / max(1, attempts):.0f} tokens an "
                    f"attempt, p50 {statistics.median(o['duration_s'] for o in mine):.1f} s)"
                )
        solved = sorted({family_of.get(o["task_id"], "?") for o in outcome if o["resolved"]})
        print(f"  {results.parent.name:28} {', '.join(parts)}; solved families: {', '.join(solved) or '-'}")


def subset(tasks: list, families: int | None, per_family: int | None) -> list:  # type: ignore[type-arg]
    """The teacher's tasks for a data-size or family-count run: ``families`` of the training
    families (a seeded choice, the same on every machine) and the first ``per_family`` tasks
    of each, so the same number of examples can come from few families or from many. The
    order is the file's, or family by family with ``per_family`` (the teacher's seeded shuffle
    starts from it, so it is part of what a rebuild reproduces)."""
    names = sorted({t.family for t in tasks})
    if families is not None:
        random.Random(1).shuffle(names)
        names = sorted(names[:families])
    kept = [t for t in tasks if t.family in names]
    if per_family is not None:
        kept = [task for family in names for task in [t for t in kept if t.family == family][:per_family]]
    if families is not None or per_family is not None:
        print(f"teacher subset: {len(kept)} tasks from {len(names)} training families")
    return kept


def prepare(
    out: Path,
    holdout_families: bool = False,
    per_family: int = 4,
    limit: int = 25,
    fail_fraction: float = 0.0,
    demos_fraction: float = 0.0,
    functions: bool = False,
    teacher_order: str = "shuffled",
    train_families: int | None = None,
    train_per_family: int | None = None,
    two_solutions: bool = False,
) -> tuple[Path, list[str]]:
    """Teacher runs and their export under ``out`` (each skipped when done): (the training
    JSONL, the bench's task file and protocol arguments).

    With ``holdout_families`` the teacher runs its tasks in a seeded shuffled order unless
    ``teacher_order`` is ``given``: export holds out the *newest* runs for the held-out loss, and in the task
    file's order (family by family) that held out whole families; the shipped adapter's run
    lost 6 of its 63 training families that way. ``train_families`` and ``train_per_family``
    give the teacher a subset (see ``subset``); the measured tasks stay the same.
    ``two_solutions`` adds a second solution of every training task (``add_second_solutions``)."""
    from ecoagent.bench import load_tasks
    from ecoagent.embed import Embedder
    from ecoagent.finetune import ExportFilter, export_examples, write_examples
    from ecoagent.prompts import load_prompt
    from ecoagent.runlog import RunLog

    tasks = load_tasks(BROAD if holdout_families else TASKS)
    if functions:  # function-writing tasks judged by tests, split by family like the rest
        tasks += load_tasks(FUNCTIONS)
    bench = [str(TASKS), "-p", "split", "--limit", str(limit)]
    if holdout_families:
        tasks, bench_tasks = holdout_tasks(tasks, out, per_family)
        bench = [str(bench_tasks), "-p", "split"]
        tasks = subset(tasks, train_families, train_per_family)
    if holdout_families and teacher_order == "shuffled":
        tasks = list(tasks)
        random.Random(0).shuffle(tasks)
    teacher = out / "teacher"
    if not (teacher / "done").exists():
        t0 = time.monotonic()
        confirmed, total = asyncio.run(teacher_runs(tasks, teacher, fail_fraction, demos_fraction))
        print(
            f"teacher: {confirmed}/{total} seed tasks confirmed by their judge, expected answer or tests ({(time.monotonic() - t0) / 60:.1f} min)"
        )
        (teacher / "done").touch()
    data = out / "train.jsonl"
    if not data.exists():
        log = RunLog(teacher / "runs.sqlite3")
        report = export_examples(
            log.all(), load_prompt("assistant"), Embedder().vectors, ExportFilter(test_fraction=0.1)
        )
        log.close()
        write_examples(report, data)
        print(
            f"export: {report.splits['train']} train, {report.splits['test']} held out, {report.duplicates} near-duplicates left out"
        )
        if two_solutions:
            add_second_solutions(tasks, out, data)
    return data, bench


def add_second_solutions(tasks: list, out: Path, data: Path) -> None:  # type: ignore[type-arg]
    """Give every training example a second, different solution of the same task
    (``make_teacher.named_givens``: the query's data bound to names first), answered by the
    teacher in its own run log and confirmed by the judge like the first, and append its
    conversation to ``data`` for the queries that are in the training split (a held-out
    query stays held out). Export keeps one run per query, so each log is exported apart."""
    import dataclasses

    from ecoagent.finetune import ExportFilter, export_examples
    from ecoagent.prompts import load_prompt
    from ecoagent.runlog import RunLog

    examples = [json.loads(line) for line in data.read_text(encoding="utf-8").splitlines()]
    trained = {e["metadata"]["query"] for e in examples if e.get("split") == "train"}
    second = [
        dataclasses.replace(t, code=code)
        for t in tasks
        if t.query in trained and t.tests is None and (code := make_teacher().named_givens(t.query, t.code)) is not None
    ]
    folder = out / "teacher-second"
    shutil.rmtree(folder, ignore_errors=True)  # an interrupted pass starts over: train.jsonl is written last
    confirmed, total = asyncio.run(teacher_runs(second, folder))
    log = RunLog(folder / "runs.sqlite3")
    report = export_examples(log.all(), load_prompt("assistant"), None, ExportFilter(test_fraction=0.0))
    log.close()
    added = [{**e, "split": "train"} for e in report.examples if e["metadata"]["query"] in trained]
    with data.open("a", encoding="utf-8") as f:
        f.writelines(json.dumps(e) + "\n" for e in added)
    print(
        f"second solutions: {confirmed}/{total} confirmed by the judge; {len(added)} added to the "
        f"{len(trained)} training examples ({len(trained) - len(added)} tasks have one solution)"
    )


def train(
    out: Path, data: Path, name: str, config: object, snapshots: bool = False, base: str = "bundled:smollm2"
) -> dict:  # type: ignore[type-arg]
    """Train ``name`` on ``base`` with ``data`` into ``out``'s home unless it exists
    (resuming a checkpoint); its manifest."""
    from ecoagent.finetune import TrainConfig, list_adapters, train_adapter

    assert isinstance(config, TrainConfig)
    folder = out / "home" / "data" / "adapters" / name
    if not any(a.name == name for a in list_adapters()):
        t0 = time.monotonic()
        result = train_adapter(
            data,
            name,
            config,
            base=base,
            resume=(folder / "checkpoint" / "state.pt").exists(),
            snapshots=snapshots,
            on_start=lambda total, done, est: print(
                f"train {name}: {total} steps, estimate {est / 60:.1f} min (timed on the first)"
            ),
            on_step=lambda step, loss: print(f"  step {step} loss {loss:.3f}", flush=True) if step % 10 == 0 else None,
        )
        print(
            f"train {name}: {result.steps} steps, {result.train_examples} examples, {result.seconds / 60:.1f} min of training "
            f"(all sessions, if resumed; this one took {(time.monotonic() - t0) / 60:.1f} min with loading and conversion); "
            f"loss {result.losses[0]:.3f} → "
            f"{result.losses[-1]:.3f}; held-out loss {result.heldout_before} → {result.heldout_after}"
        )
    manifest: dict = json.loads((folder / "manifest.json").read_text())  # type: ignore[type-arg]
    print(
        f"adapter {name}: {manifest['steps']} steps on {manifest['train_examples']} examples, "
        f"{manifest['train_seconds'] / 60:.1f} min training ({manifest.get('precision', 'fp32')}) on this machine; "
        f"held-out loss {manifest['heldout_loss_before']} → {manifest['heldout_loss_after']}"
    )
    return manifest


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("ecoagent-bench-finetune"))
    parser.add_argument(
        "--limit", type=int, default=25, help="Test on the paraphrases and variants of the first N tasks."
    )
    parser.add_argument("--epochs", type=float, default=3.0)
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--rank", type=int, default=16)
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--precision", default="auto", choices=("auto", "bf16", "fp32"))
    parser.add_argument("--no-group-by-length", dest="group_by_length", action="store_false")
    parser.add_argument(
        "--max-turns", type=int, default=4, help="Messages per rung in the bench (as in the README's tables)."
    )
    parser.add_argument(
        "--holdout-families",
        action="store_true",
        help="Train on the broad teacher set's training families; test on the families it never saw.",
    )
    parser.add_argument(
        "--per-family", type=int, default=4, help="With --holdout-families: tasks measured per held-out family."
    )
    parser.add_argument(
        "--fail-and-fix",
        type=float,
        default=0.0,
        metavar="FRACTION",
        help="That share of the teacher's runs starts with a broken attempt and its fix (0-1).",
    )
    parser.add_argument(
        "--with-demos",
        type=float,
        default=0.0,
        metavar="FRACTION",
        help="That share of the teacher's runs reads the bank's nearest solution first (0-1).",
    )
    parser.add_argument(
        "--two-solutions",
        action="store_true",
        help="Two solutions per training task: the reference and it with the query's data bound to names first.",
    )
    parser.add_argument(
        "--functions",
        action="store_true",
        help="With --holdout-families: add tasks/functions.jsonl's function-writing tasks (judged by tests).",
    )
    parser.add_argument(
        "--teacher-order",
        choices=("shuffled", "given"),
        default="shuffled",
        help="With --holdout-families, the order of the teacher's runs: shuffled (seeded), so export's held-out split (the newest "
        "runs) spans the families; given: the task file's, family by family (the shipped adapter's run).",
    )
    parser.add_argument(
        "--train-families",
        type=int,
        default=None,
        metavar="N",
        help="With --holdout-families: the teacher answers only N of the training families (a seeded choice).",
    )
    parser.add_argument(
        "--train-per-family",
        type=int,
        default=None,
        metavar="K",
        help="With --holdout-families: and only the first K tasks of each (data size against family count).",
    )
    parser.add_argument(
        "--byform-per-family",
        type=int,
        default=None,
        metavar="K",
        help="With --holdout-families: new tasks measured per trained family in the by-form bench (default: --per-family).",
    )
    parser.add_argument(
        "--no-by-form",
        dest="by_form",
        action="store_false",
        help="With --holdout-families: skip the second bench, by form (new tasks of the trained families).",
    )
    parser.add_argument("--no-bench", dest="bench", action="store_false", help="Stop after training.")
    parser.add_argument(
        "-s",
        "--strategy",
        dest="strategies",
        action="append",
        default=None,
        metavar="NAME",
        help="Bench only these strategies (repeat; the built-ins or finetune_strategies.toml's, e.g. "
        "bottom+finetuned-shipped). Default: the four built-ins, plus the snapshot and comparison ones.",
    )
    parser.add_argument(
        "--base",
        default="bundled:smollm2",
        help="The model to adapt: bundled:smollm2, or a GGUF file whose metadata carries a chat template.",
    )
    parser.add_argument("--name", default="smollm2-ft", help="The adapter's name; +finetuned strategies use it.")
    parser.add_argument(
        "--preset",
        default="offline-plain",
        help="The ladder the bench runs on (its bottom rung is the plain baseline): offline-plain, or "
        'offline for the shipped default, to measure it whole with a rungs = "all" strategy.',
    )
    parser.add_argument(
        "--snapshots", action="store_true", help="Also register the adapter after each epoch (smollm2-ft-e1, …)."
    )
    parser.add_argument(
        "--compare-adapter",
        type=Path,
        default=None,
        help="An adapter folder (e.g. the reference run's) measured beside, as bottom+finetuned-compute.",
    )
    args = parser.parse_args()
    for flag, share in (("--fail-and-fix", args.fail_and_fix), ("--with-demos", args.with_demos)):
        if not 0.0 <= share <= 1.0:
            parser.error(f"{flag} {share}: a share of the runs, from 0 to 1 (e.g. 0.5)")
    out = args.out.resolve()
    os.environ["ECOAGENT_HOME"] = str(out / "home")  # the user's own data is never touched

    from ecoagent.finetune import TrainConfig

    if args.functions and not args.holdout_families:
        parser.error("--functions adds families to the broad set: use it with --holdout-families")
    for flag, value in (("--train-families", args.train_families), ("--train-per-family", args.train_per_family)):
        if value is not None and (value < 1 or not args.holdout_families):
            parser.error(f"{flag} {value}: a positive count, with --holdout-families")
    data, bench = prepare(
        out,
        args.holdout_families,
        args.per_family,
        args.limit,
        args.fail_and_fix,
        args.with_demos,
        args.functions,
        args.teacher_order,
        args.train_families,
        args.train_per_family,
        args.two_solutions,
    )
    config = TrainConfig(
        epochs=args.epochs,
        max_steps=args.steps,
        rank=args.rank,
        alpha=2 * args.rank,
        learning_rate=args.lr,
        precision=args.precision,
        group_by_length=args.group_by_length,
    )
    train(out, data, args.name, config, args.snapshots, args.base)
    if not args.bench:
        return 0
    strategies = list(STRATEGIES)
    if args.snapshots:  # the strategies file names the snapshots of epochs 1 and 2; the last epoch is smollm2-ft
        strategies += [
            f"bottom+finetuned-e{k}"
            for k in (1, 2)
            if (out / "home" / "data" / "adapters" / f"smollm2-ft-e{k}" / "adapter.gguf").is_file()
        ]
    if args.compare_adapter:
        dest = out / "home" / "data" / "adapters" / "compute-ref"
        if not dest.exists():
            shutil.copytree(args.compare_adapter, dest, ignore=shutil.ignore_patterns("checkpoint"))
        strategies.append("bottom+finetuned-compute")
    strategies = args.strategies or strategies
    runs = [(bench, out / "bench")]
    if args.holdout_families and args.by_form:
        runs.append(
            ([str(byform_tasks(out, args.byform_per_family or args.per_family)), "-p", "split"], out / "bench-byform")
        )
    # by default the plain model is the baseline: the default ladder's bottom rung carries the shipped adapter
    env = {**os.environ, "ECOAGENT_RUN__MAX_TURNS": str(args.max_turns), "ECOAGENT_LADDER__PRESET": args.preset}
    for task_args, folder in runs:
        cmd = [
            sys.executable,
            "-m",
            "ecoagent",
            "bench",
            *task_args,
            "--out",
            str(folder),
            "--resume",
            "--markdown",
            "--adapter",
            args.name,
            "--strategies",
            str(Path(__file__).resolve().parent / "finetune_strategies.toml"),
        ]
        for strategy in strategies:
            cmd += ["-s", strategy]
        print(f"bench: {folder.name} ({' '.join(task_args)})", flush=True)
        if (code := subprocess.run(cmd, env=env).returncode) != 0:
            return code
        if args.holdout_families:
            families_solved(Path(task_args[0]), folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
