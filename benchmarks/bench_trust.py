"""Answers without an answer key: the evidence judge against ``auto``, the key and ``top-only``.

One **exploration run** of the offline default on tasks of the 59 families neither shipped
adapter was trained on (``teacher.jsonl``'s held-out families, as ``bench_finetune.py
--holdout-families`` picks them): the pipeline, judged by the evidence judge with
``explore`` so it accepts nothing, runs every rung and every sample of every task
(``ecoagent bench``, strategy ``ladder-explore``; it never sees the key). Every attempt is
then scored by the key.

From that one run, on the same tasks and the same attempts, the script replays each
strategy's decisions with the pipeline's own judges (the attempts are deterministic:
greedy, or sampled with a fixed seed):

* ``top-only``: the top rung's first attempt;
* ``ladder-key``: climb while the key says wrong (the oracle bound, no user has it);
* ``ladder-auto``: climb on visible failures only (the ``auto`` judge: yesterday's default);
* ``ladder-evidence``: the evidence judge at ``--max-error``, calibrated **on the other half
  of the families** (families split in two by a hash; each half is judged with the
  calibration of the other, so no task is judged by a calibration its family was in).

It prints, per strategy: right answers served as resolved, wrong ones and their share of
the resolved, unverified answers (and how many of those were right), and the models'
compute seconds, with the ratio against ``top-only``. With ``--write-calibration`` it
writes the calibration of all families (what ships in ``agents/calibration/offline.json``).

Usage: .venv/bin/python benchmarks/bench_trust.py --out DIR [--per-family 13] [--max-turns 4]
           [--max-error 0.10 [0.2 ...]] [--confidence 0.95] [--write-calibration FILE] [--export FILE]
A run resumes where it stopped (``ecoagent bench --resume``).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import gzip
import hashlib
import json
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path

from ecoagent.bench.humaneval import load_humaneval
from ecoagent.bench.runner import run_strategy
from ecoagent.bench.strategies import Strategy
from ecoagent.bench.tasks import BenchTask, load_tasks
from ecoagent.config import Rung, load_settings
from ecoagent.judge import (
    AutoJudge,
    Calibration,
    EvidenceJudge,
    ExpectedJudge,
    FunctionProbe,
    JudgeInput,
    TestsJudge,
    rung_identity,
)
from ecoagent.judge.calibration import EVIDENCE_KINDS, upper_bound
from ecoagent.judge.probe import ProbeResult
from ecoagent.query import Query
from ecoagent.records import RungAttempt, RunRecord
from ecoagent.runlog import RunLog
from ecoagent.sandbox import DockerSandboxExecutor

BROAD = Path(__file__).resolve().parent / "tasks" / "teacher.jsonl"
EXPLORE = Strategy(
    name="ladder-explore",
    description="every rung, two samples each, nothing accepted (calibration data)",
    rungs="all",
    demonstrations=False,
    judge="evidence",
    explore=True,
    samples=2,
)


def make_teacher():  # type: ignore[no-untyped-def]
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_teacher", BROAD.parent / "make_teacher.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def tasks_file(which: str, out: Path, *, per_family: int = 13, limit: int | None = None) -> Path:
    """The explored set's task file in ``out`` (what a part of the calibration names by digest)."""
    if which == "held-out":
        return task_file(out, per_family)
    path = out / "trust-tasks.jsonl"
    out.mkdir(parents=True, exist_ok=True)
    rows = [
        {"id": t.id, "family": half_of_number(t.id), "tests": t.tests, "entry_point": t.entry_point, "query": t.query}
        for t in humaneval_tasks(limit)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def humaneval_tasks(limit: int | None) -> list[BenchTask]:
    """HumanEval's first ``limit`` problems, all explored (none is a seed)."""
    return [dataclasses.replace(t, half="test") for t in load_humaneval()[:limit]]


def half_of_number(task_id: str) -> str:
    """A HumanEval problem's half: its number odd or even."""
    return "odd" if int(task_id.rsplit("-", 1)[-1]) % 2 else "even"


def half(task: Task) -> str:
    """Which calibration half a task is in: HumanEval's odd problems are A, even B; a family's by :func:`half_of`."""
    return {"odd": "A", "even": "B"}.get(task.family) or half_of(task.family)


def group_of(task: Task) -> str:
    """What leave-one-out leaves out together: a HumanEval problem alone, a held-out family whole."""
    if task.family in ("odd", "even"):
        return (task.record.query_id or task.record.query).rsplit(":", 1)[0]
    return task.family


def half_of(family: str) -> str:
    """Which calibration half a family is in (a hash of its name: stable as families are added)."""
    return "A" if int(hashlib.sha256(f"trust:{family}".encode()).hexdigest(), 16) % 2 == 0 else "B"


def task_file(out: Path, per_family: int) -> Path:
    """The held-out families' tasks (``per_family`` each), all measured."""
    rows = [json.loads(line) for line in BROAD.read_text(encoding="utf-8").splitlines() if line.strip()]
    _, held = make_teacher().holdout_split(  # type: ignore[no-untyped-call]
        sorted({r["family"] for r in rows})
    )
    # Round-robin over the families (each family's first task, then each one's second, ...): a run
    # stopped early still covers every family evenly, and resumes where it stopped.
    chosen = [
        {**r, "half": "test"}
        for i in range(per_family)
        for family in sorted(held)
        for r in [r for r in rows if r["family"] == family][i : i + 1]
    ]
    path = out / "trust-tasks.jsonl"
    out.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in chosen), encoding="utf-8")
    print(
        f"{len(chosen)} tasks of {len(held)} held-out families; halves: "
        f"A {sum(half_of(f) == 'A' for f in held)} families, B {sum(half_of(f) == 'B' for f in held)}"
    )
    return path


class Task:
    """One task's recorded attempts, each scored by the key."""

    def __init__(self, query: Query, family: str, record: RunRecord, right: dict[tuple[str, int], bool]) -> None:
        self.query, self.family, self.record, self.right = query, family, record, right
        self.by = {(a.rung, a.sample): a for a in record.attempts}


def compact(record: RunRecord) -> str:
    """A record as the analysis needs it (attempts' answers, outputs, flags, seconds, tokens), without
    the conversations: a few hundred bytes a task, small enough to keep in the repository."""
    slim = record.model_copy(deep=True)
    for attempt in slim.attempts:
        attempt.messages = []
        for execution in attempt.executions:
            execution.code = execution.code[:20000]  # the probe's results are kept under the whole code
            execution.output = execution.output[-1000:]
    return slim.model_dump_json(exclude={"demonstrations", "routing", "first_turn"})


def explored_records(out: Path) -> list[RunRecord]:
    """The exploration run's records, from its run log (none: no run in ``out``)."""
    path = out / "split" / EXPLORE.name / "runs.sqlite3"
    if not path.is_file():
        return []
    log = RunLog(path)
    try:
        return [r for r in log.all() if not r.cancelled]
    finally:
        log.close()


def probe_for(known: dict[str, ProbeResult]) -> FunctionProbe:
    """The evidence judge's function probe in the replays: the results kept, else the real sandbox
    (when Docker answers: a kept run's analysis needs none)."""
    try:
        import docker

        docker.from_env().ping()
        factory = DockerSandboxExecutor
    except Exception:  # no engine: only kept results
        factory = None
    return FunctionProbe(factory, load_settings().sandbox, known=known)


async def load(out: Path, tasks_path: Path, *, kept: Path | None) -> tuple[list[Task], FunctionProbe, bool]:
    """The explored tasks, every attempt scored by the key, and the probe with what it ran.

    From the run log in ``out`` when there is one, else from ``kept`` (a run kept in the
    repository: no model and, for kept probes, no sandbox). The last value says whether
    anything was scored now (then :func:`write_export` can keep the run).
    """
    rows = {r["id"]: r for r in map(json.loads, tasks_path.read_text(encoding="utf-8").splitlines())}
    records, scores, known = explored_records(out), {}, {}
    if not records:
        if kept is None or not kept.is_file():
            raise SystemExit(f"no exploration run in {out} and no --export file to read")
        text = gzip.decompress(kept.read_bytes()).decode() if kept.suffix == ".gz" else kept.read_text(encoding="utf-8")
        for line in filter(None, text.splitlines()):
            data = json.loads(line)
            if "probes" in data:
                known = {
                    k: ProbeResult(
                        returned=tuple(v["returned"]),
                        failed=tuple(map(tuple, v["failed"])),
                        stated=v["stated"],
                        error=v["error"],
                    )
                    for k, v in data["probes"].items()
                }
                continue
            record = RunRecord.model_validate(data.get("record", data))  # a bare record: the first kept runs' lines
            records.append(record)
            if "right" in data:
                scores[record.run_id] = {(rung, sample): ok for rung, sample, ok in data["right"]}
    probe = probe_for(known)
    settings = load_settings()
    tests = TestsJudge(DockerSandboxExecutor, settings.sandbox, timeout_s=settings.judge.timeout_s)
    loaded = []
    for record in records:
        task_id = (record.query_id or "").rsplit(":", 1)[0]
        row = rows.get(task_id)
        if row is None or record.cancelled:
            continue
        keyed = (
            Query(record.query, expected=row["expected"])
            if "expected" in row
            else Query(record.query, tests=row["tests"], entry_point=row["entry_point"])
        )
        right = scores.get(record.run_id)
        if right is None:
            judge = ExpectedJudge() if "expected" in row else tests
            right = {
                (a.rung, a.sample): (await judge(JudgeInput(keyed, a, a.answer or ""))).ok for a in record.attempts
            }
        loaded.append(Task(Query(record.query), row["family"], record, right))
    return loaded, probe, len(scores) < len(records)


# ---- each strategy's decisions, replayed on the recorded attempts ---------------------------------
class Outcome:
    def __init__(self) -> None:
        self.right = self.wrong = self.unverified = self.unverified_right = self.unresolved = 0
        self.compute: list[float] = []
        self.tokens = 0

    def add(self, attempts: Sequence[RungAttempt], served: RungAttempt | None, accepted: bool, task: Task) -> None:
        self.compute.append(sum(a.model_s for a in attempts))
        self.tokens += sum(a.tokens for a in attempts)
        ok = served is not None and task.right[(served.rung, served.sample)]
        if served is None:
            self.unresolved += 1
        elif accepted:
            self.right += ok
            self.wrong += not ok
        else:
            self.unverified += 1
            self.unverified_right += ok


SKIP_SILENT_RUNGS = True  # the judge's start_rung (--no-skip: climb from the bottom, to measure what it saves)


async def replay(tasks: Sequence[Task], rungs: list[str], strategy: str, judge_for=None) -> Outcome:  # type: ignore[no-untyped-def]
    outcome = Outcome()
    for task in tasks:
        if strategy == "top-only":
            a = task.by[(rungs[-1], 0)]
            outcome.add([a], a, True, task)
            continue
        ran: list[RungAttempt] = []
        served, accepted = None, False
        judge = judge_for(task) if judge_for else None
        lifted = judge.start_rung(task.query.text, rungs, 0) if judge and SKIP_SILENT_RUNGS else None
        for rung in rungs[lifted[0] if lifted else 0 :]:
            for sample in range(judge.samples_per_rung if judge else 1):
                attempt = task.by[(rung, sample)]
                if judge is None:  # ladder-key: the key decides, one attempt a rung
                    ok, more = task.right[(rung, sample)], False
                else:
                    verdict = await judge(JudgeInput(task.query, attempt, attempt.answer or "", earlier=list(ran)))
                    ok, more = verdict.ok, verdict.more
                ran.append(attempt)
                if ok:
                    served, accepted = attempt, True
                    break
                if not more:
                    break
            if accepted:
                break
        if not accepted and judge is not None:
            found = judge.unbacked(task.query.text, ran)
            served = found.attempt if found else None
        outcome.add(ran, served, accepted, task)
    return outcome


async def calibration_of(
    tasks: Sequence[Task], rungs: Sequence[Rung], probe: FunctionProbe | None = None
) -> Calibration:
    """What the exploration run's attempts of these tasks say, bin by bin: each attempt's evidence
    as the judge sees it now (so a change to the judge needs no new run), scored by the key."""
    table = Calibration()
    judge = EvidenceJudge(rungs, Calibration(), explore=True, probe=probe)
    for task in tasks:
        for i, attempt in enumerate(task.record.attempts):
            v = await judge(JudgeInput(task.query, attempt, attempt.answer or "", earlier=task.record.attempts[:i]))
            if v.identity and v.evidence in EVIDENCE_KINDS:
                table.observe(v.identity, v.evidence, not task.right[(attempt.rung, attempt.sample)])
    return table


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--per-family", type=int, default=13)
    parser.add_argument("--max-turns", type=int, default=4)
    parser.add_argument("--max-error", type=float, nargs="+", default=[0.10], help="One or more bounds δ to replay.")
    parser.add_argument("--confidence", type=float, default=0.95)
    parser.add_argument("--write-calibration", type=Path, default=None)
    parser.add_argument(
        "--export",
        type=Path,
        default=None,
        help="Write the explored records here (compact JSONL); read them from here when --out has no run.",
    )
    parser.add_argument(
        "--analyse-only", action="store_true", help="Do not run the exploration; analyse what is there."
    )
    parser.add_argument(
        "--set",
        choices=["held-out", "humaneval"],
        default="held-out",
        help="held-out: the teacher set's 59 held-out families; humaneval: HumanEval's problems, "
        "their tests hidden from the pipeline, the halves (odd, even) calibrating each other.",
    )
    parser.add_argument("--limit", type=int, default=None, help="humaneval: explore the first N problems.")
    parser.add_argument(
        "--no-skip",
        action="store_true",
        help="Replay the evidence judge climbing from the bottom, without skipping the rungs its calibration "
        "never saw write a function (what skipping saves is the difference).",
    )
    args = parser.parse_args()
    global SKIP_SILENT_RUNGS
    SKIP_SILENT_RUNGS = not args.no_skip

    settings = load_settings()
    settings.run = settings.run.model_copy(update={"max_turns": args.max_turns})
    tasks_path = tasks_file(args.set, args.out, per_family=args.per_family, limit=args.limit)
    if not args.analyse_only:
        tasks = humaneval_tasks(args.limit) if args.set == "humaneval" else load_tasks(tasks_path)
        done = [0]

        def progress(result) -> None:  # type: ignore[no-untyped-def]
            done[0] += 1
            if done[0] % 10 == 0:
                print(f"  explored {done[0]} items", flush=True)

        asyncio.run(
            run_strategy(settings, EXPLORE, tasks, protocol="split", bench_dir=args.out, resume=True, on_item=progress)
        )
    rungs = settings.ladder.resolved()
    names = [r.name for r in rungs]
    loaded, probe, scored_now = asyncio.run(load(args.out, tasks_path, kept=args.export))
    # Every rung's own attempt is there (exploring, nothing stops a climb); a sample is missing only
    # where the rung's first attempt failed outright, and then no strategy would draw it either.
    loaded = [t for t in loaded if all((n, 0) in t.by for n in names)]
    halves = {h: [t for t in loaded if half(t) == h] for h in "AB"}
    tables = {h: asyncio.run(calibration_of(halves[h], rungs, probe)) for h in "AB"}
    print(
        f"\n{len(loaded)} tasks explored ({len(halves['A'])} in half A, {len(halves['B'])} in half B); "
        f"max_turns {args.max_turns}, {args.confidence:.0%} bound\n"
    )
    full = tables["A"].merged(tables["B"])
    print("calibration of all families (checked/wrong, bound):")
    for rung in rungs:
        cells = []
        for kind in EVIDENCE_KINDS:
            count = full.count(rung_identity(rung), kind)  # this rung's own answers (not what an unknown rung borrows)
            cells.append(f"{kind} {count.n}/{count.wrong} {upper_bound(count.wrong, count.n, args.confidence):.2f}")
        print(f"  {rung.name:20} " + " · ".join(cells))

    def evidence_at(delta: float):  # type: ignore[no-untyped-def]
        def judge(task: Task) -> EvidenceJudge:  # calibrated on the other half's families
            other = tables["B" if half(task) == "A" else "A"]
            return EvidenceJudge(rungs, other, max_error=delta, confidence=args.confidence, samples=2, probe=probe)

        return judge

    # Leave one out: each task judged by a calibration of every other group (a HumanEval problem, or
    # a held-out family with all its tasks), as the shipped table (made of all of them) meets a new one.
    own = {id(t): asyncio.run(calibration_of([t], rungs, probe)) for t in loaded}
    without: dict[str, Calibration] = {}
    for name in {group_of(t) for t in loaded}:
        table = Calibration()
        for other in loaded:
            if group_of(other) != name:
                table = table.merged(own[id(other)])
        without[name] = table

    def evidence_loo(delta: float):  # type: ignore[no-untyped-def]
        def judge(task: Task) -> EvidenceJudge:
            return EvidenceJudge(
                rungs, without[group_of(task)], max_error=delta, confidence=args.confidence, samples=2, probe=probe
            )

        return judge

    results = {
        "top-only": asyncio.run(replay(loaded, names, "top-only")),
        "ladder-key (oracle)": asyncio.run(replay(loaded, names, "ladder-key")),
        "ladder-auto": asyncio.run(replay(loaded, names, "ladder-auto", lambda t: _auto())),
    }
    for delta in args.max_error:
        results[f"ladder-evidence δ={delta}"] = asyncio.run(replay(loaded, names, "evidence", evidence_at(delta)))
    for delta in args.max_error:
        results[f"ladder-evidence δ={delta}, leave-one-out"] = asyncio.run(
            replay(loaded, names, "evidence", evidence_loo(delta))
        )
    top = sum(results["top-only"].compute)
    print(
        "\n| strategy | right resolved | wrong resolved | wrong share | unverified (right) | compute s | vs top-only | p50 s | tokens |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name, o in results.items():
        resolved = o.right + o.wrong
        share = f"{o.wrong / resolved:.0%}" if resolved else "-"
        total = sum(o.compute)
        print(
            f"| {name} | {o.right}/{len(loaded)} | {o.wrong} | {share} | {o.unverified} ({o.unverified_right}) | {total:,.0f} | "
            f"{total / top:.2f} | {statistics.median(o.compute):.1f} | {o.tokens:,} |"
        )
    if args.export is not None and scored_now:
        write_export(args.export, loaded, probe)
        print(f"\nwrote {args.export}")
    if args.write_calibration:
        kept = {"held-out": "trust-explore.jsonl.gz", "humaneval": "trust-humaneval.jsonl.gz"}[args.set]
        chosen = f"--per-family {args.per_family}" if args.set == "held-out" else f"--limit {args.limit or len(loaded)}"
        part = {
            "tasks": len(loaded),
            "families": len({t.family for t in loaded}),
            "max_turns": args.max_turns,
            "samples": 2,
            "rebuild": f"python benchmarks/bench_trust.py --set {args.set} --out DIR {chosen} --max-turns {args.max_turns} "
            f"--export benchmarks/results/{kept} --write-calibration agents/calibration/offline.json (with "
            "--analyse-only and an empty DIR it recounts the kept run; without, it explores, resuming in DIR)",
            "explored": "the first tasks of the run that was stopped"
            + (", round-robin over the families" if args.set == "held-out" else ", by problem number"),
            "data_sha256": hashlib.sha256(tasks_path.read_bytes()).hexdigest(),
            "figures": {
                name: {
                    "right_resolved": o.right,
                    "wrong_resolved": o.wrong,
                    "unverified": o.unverified,
                    "unverified_right": o.unverified_right,
                    "compute_s": round(sum(o.compute), 1),
                }
                for name, o in results.items()
            },
            "rungs": json.loads(full.model_dump_json())["rungs"],
        }
        write_part(args.write_calibration, args.set, part)
        print(f"\nwrote {args.write_calibration} (part {args.set})")
    return 0


def write_export(export: Path, loaded: Sequence[Task], probe: FunctionProbe) -> None:
    """Keep the run in the repository: each record without its conversations, each attempt's
    score and, last, every function probe's result (written after the analysis, which ran them)."""
    lines = [
        json.dumps({"record": json.loads(compact(t.record)), "right": [[r, s, ok] for (r, s), ok in t.right.items()]})
        for t in loaded
    ]
    lines.append(json.dumps({"probes": {k: dataclasses.asdict(v) for k, v in sorted(probe.known.items())}}))
    export.parent.mkdir(parents=True, exist_ok=True)
    data = "".join(line + "\n" for line in lines).encode()
    export.write_bytes(gzip.compress(data, mtime=0) if export.suffix == ".gz" else data)


def write_part(path: Path, name: str, part: dict[str, object]) -> Calibration:
    """Put one exploration run's counts into the shipped calibration as the part ``name``, the
    table being the sum of its parts (each part keeps its own provenance and counts, so each can
    be recounted from its kept run and rebuilt alone)."""
    shipped = Calibration.load(path)
    parts = dict(shipped.meta.get("parts") or {})  # type: ignore[call-overload]
    parts[name] = part
    total = Calibration()
    for counts in parts.values():
        total = total.merged(Calibration.model_validate({"rungs": counts["rungs"]}))
    total.meta = {"made_by": "benchmarks/bench_trust.py", "parts": parts}
    total.save(path)
    return total


class _auto(AutoJudge):
    samples_per_rung = 1


if __name__ == "__main__":
    raise SystemExit(main())
