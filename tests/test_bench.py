"""`ecoagent bench`: scripted ladders with known outcomes give exact table values; a real run on the bundled model."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ecoagent.bench import load_tasks, markdown_table, run_bench, select_strategies, write_chart
from ecoagent.bench.runner import bench_items, run_strategy
from ecoagent.cli import app
from ecoagent.config import load_settings
from ecoagent.errors import EcoagentError
from ecoagent.testing import FakeExecutor, write_scripted_config

runner = CliRunner()
WRONG = ["```python\nprint(17 * 22)\n```", "It is 374. TERMINATE"]
RIGHT = ["```python\nprint(17 * 23)\n```", "The answer is 391. TERMINATE"]
TASKS = [
    {
        "id": "t1",
        "query": "What is 17 * 23?",
        "paraphrase": "Multiply 17 by 23.",
        "expected": "391",
        "code": "print(17 * 23)",
    },
    {
        "id": "t2",
        "query": "What is the product of 23 and 17?",
        "paraphrase": "Compute 23 multiplied by 17.",
        "expected": "391",
        "code": "print(23 * 17)",
        "variant": "What is the product of 23 and 18?",
        "variant_expected": "414",
    },
]


def setup(tmp_path: Path) -> tuple[Path, Path]:
    """A cheap rung that is always wrong and a top rung that always prints 391."""
    cfg = write_scripted_config(
        tmp_path, {"cheap": WRONG * 20, "top": RIGHT * 20}, prices={"cheap": (0.15, 0.6), "top": (2.5, 10.0)}
    )
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text("".join(json.dumps(t) + "\n" for t in TASKS))
    return cfg, tasks


def bench(tmp_path: Path, names: list[str], protocol: str) -> list:  # type: ignore[type-arg]
    cfg, tasks = setup(tmp_path)
    return asyncio.run(
        run_bench(
            load_settings(cfg),
            select_strategies(names),
            load_tasks(tasks),
            protocol=protocol,  # type: ignore[arg-type]
            bench_dir=tmp_path / "bench",
            executor_factory=FakeExecutor,
        )
    )


def test_sequential_protocol_gives_exact_values(tmp_path: Path) -> None:
    top, bottom, ladder, demos = bench(tmp_path, ["top-only", "bottom-only", "ladder", "ladder+demos"], "sequential")
    # items: t1, t2 queries; t1, t2 paraphrases; the t2 variant (expected 414: nobody prints it)
    assert [r.items for r in (top, bottom, ladder, demos)] == [5, 5, 5, 5]
    assert (top.solved, bottom.solved, ladder.solved, demos.solved) == (4, 0, 4, 4)
    assert top.escalations == 0 and bottom.escalations == 0 and ladder.escalations == 5 and demos.escalations == 5
    assert top.solved_by_rung == {"top": 4} and ladder.solved_by_rung == {"top": 4} and bottom.solved_by_rung == {}
    assert top.by_form == {"query": (2, 2), "paraphrase": (2, 2), "variant": (0, 1)}
    assert top.demo_hits == 0 and ladder.demo_hits == 0 and demos.demo_hits >= 2  # banked answers came back
    assert bottom.cost > 0 and bottom.cost < top.cost < ladder.cost  # the failing cheap rung still costs
    table = markdown_table([top, bottom, ladder, demos])
    assert (
        table.splitlines()[2].startswith("| top-only | 4/5 | 80.0% |")
        and "| 1.00 | 1.00 | 1.00 |" in table.splitlines()[2]
    )
    assert f"| {bottom.cost / top.cost:.2f} | {bottom.tokens / top.tokens:.2f} | 0.00 |" in table.splitlines()[3]
    assert top.tokens_per_solved == top.tokens / 4 and bottom.tokens_per_solved is None
    assert (
        f"| {top.tokens / 4:,.0f} | 0 |" in table.splitlines()[2] and "| - | - | 0 |" in table.splitlines()[3]
    )  # tok/solved, escalations


def test_split_protocol_banks_the_seed_and_measures_the_test_split(tmp_path: Path) -> None:
    bottom, demos = bench(tmp_path, ["bottom-only", "bottom+demos"], "split")
    assert bottom.items == demos.items == 3  # two paraphrases and one variant
    assert bottom.demo_hits == 0 and demos.demo_hits == 3  # every test item found its seed
    assert bottom.solved == demos.solved == 0  # the scripted cheap rung ignores its examples
    folder = tmp_path / "bench" / "split" / "bottom+demos"
    assert (folder / "seeded").exists() and len((folder / "results.jsonl").read_text().splitlines()) == 3


def test_resume_continues_an_interrupted_strategy(tmp_path: Path) -> None:
    cfg, tasks_file = setup(tmp_path)
    settings, tasks = load_settings(cfg), load_tasks(tasks_file)
    [ladder] = select_strategies(["ladder"])
    seen: list[str] = []

    def stop_after_two(result) -> None:  # type: ignore[no-untyped-def]
        seen.append(result.item_id)
        if len(seen) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        asyncio.run(
            run_strategy(
                settings,
                ladder,
                tasks,
                protocol="sequential",
                bench_dir=tmp_path / "b",
                executor_factory=FakeExecutor,
                on_item=stop_after_two,
            )
        )
    with pytest.raises(EcoagentError, match="--resume"):
        asyncio.run(
            run_strategy(
                settings, ladder, tasks, protocol="sequential", bench_dir=tmp_path / "b", executor_factory=FakeExecutor
            )
        )
    results = asyncio.run(
        run_strategy(
            settings,
            ladder,
            tasks,
            protocol="sequential",
            bench_dir=tmp_path / "b",
            resume=True,
            executor_factory=FakeExecutor,
        )
    )
    assert [r.item_id for r in results] == [i.id for i in bench_items(tasks, "sequential")]
    lines = (tmp_path / "b" / "sequential" / "ladder" / "results.jsonl").read_text().splitlines()
    assert len(lines) == 5 and len({json.loads(x)["item_id"] for x in lines}) == 5  # nothing ran twice


def test_the_chart_is_a_png(tmp_path: Path) -> None:
    reports = bench(tmp_path, ["top-only", "ladder"], "sequential")
    path = write_chart(reports, tmp_path / "chart.png", "test")
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000


def test_bad_task_files_and_strategies_are_clear_errors(tmp_path: Path) -> None:
    eco_dataset = tmp_path / "weather.json"
    eco_dataset.write_text(json.dumps(["What will be the temperature in Bangalore tomorrow?"]))
    with pytest.raises(EcoagentError, match="network") as info:
        load_tasks(eco_dataset)
    assert "compute.jsonl" in (info.value.hint or "")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "query": "q", "expected": "1"}\n{"id": "b", "query": "q"}\n')
    with pytest.raises(EcoagentError, match="line 2: missing or empty 'expected'"):
        load_tasks(bad)
    with pytest.raises(EcoagentError, match="unknown strategy nope"):
        select_strategies(["ladder", "nope"])


def test_the_shipped_task_set_has_100_tasks_with_answers_and_variants() -> None:
    tasks = load_tasks(Path(__file__).resolve().parents[1] / "benchmarks" / "tasks" / "compute.jsonl")
    assert len(tasks) >= 100 and all(t.paraphrase and t.code for t in tasks)
    assert sum(t.variant is not None for t in tasks) >= 90
    assert all(t.variant_expected != t.expected for t in tasks if t.variant)


@pytest.mark.docker
def test_cli_bench_table_report_and_markdown(tmp_path: Path, sandbox_image: str) -> None:
    cfg, tasks = setup(tmp_path)
    args = [
        "--config",
        str(cfg),
        "bench",
        str(tasks),
        "-s",
        "top-only",
        "-s",
        "ladder",
        "--out",
        str(tmp_path / "out"),
        "--markdown",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "top-only" in result.stdout and "| ladder | 4/5 | 80.0% |" in result.stdout
    report = json.loads((tmp_path / "out" / "report-sequential.json").read_text())
    assert [s["strategy"] for s in report["strategies"]] == ["top-only", "ladder"] and report["strategies"][1][
        "escalations"
    ] == 5
    assert (tmp_path / "out" / "chart-sequential.png").read_bytes()[:4] == b"\x89PNG"
    again = runner.invoke(app, args)
    assert again.exit_code == 2 and "--resume" in again.stderr
    # resuming one strategy keeps the other's figures in the folder's report, in their order
    one = runner.invoke(app, [*args[:4], "-s", "top-only", "--out", str(tmp_path / "out"), "--resume"])
    assert one.exit_code == 0, one.output
    assert "with ladder, measured earlier on the same tasks" in one.stderr
    merged = json.loads((tmp_path / "out" / "report-sequential.json").read_text())
    assert [s["strategy"] for s in merged["strategies"]] == ["top-only", "ladder"] and merged["strategies"][1][
        "escalations"
    ] == 5


@pytest.mark.docker
def test_bench_on_the_bundled_model(tmp_path: Path, sandbox_image: str) -> None:
    cfg = tmp_path / "ecoagent.toml"
    cfg.write_text("[run]\nmax_turns = 4\n")  # the offline default ladder: the real bundled SmolLM2
    tasks = Path(__file__).resolve().parents[1] / "benchmarks" / "tasks" / "compute.jsonl"
    result = runner.invoke(
        app,
        [
            "--config",
            str(cfg),
            "bench",
            str(tasks),
            "--limit",
            "1",
            "-s",
            "bottom-only",
            "-s",
            "bottom+demos",
            "-p",
            "split",
            "--out",
            str(tmp_path / "out"),
            "--price",
            "smollm2-eco=0.1,0.4",
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "out" / "report-split.json").read_text())
    plain, demos = report["strategies"]
    # one task: its paraphrase and its variant, each strategy (the fewest model calls that show the bench runs)
    assert plain["items"] == demos["items"] == 2 and demos["demo_hits"] == 2 and plain["demo_hits"] == 0
    assert plain["prompt_tokens"] > 0 and plain["cost"] > 0  # priced local rung


def test_conversation_tasks_carry_memory_only_for_a_memory_strategy(tmp_path: Path) -> None:
    # The cheap rung answers every turn with 391; the follow-up expects 400, so success is the same:
    # what differs is what the follow-up read and what summarizing cost.
    cfg = write_scripted_config(tmp_path, {"cheap": RIGHT * 40}, prices={"cheap": (0.15, 0.6)})
    tasks = tmp_path / "conv.jsonl"
    row = {
        "id": "c1",
        "query": "Compute 17 * 23.",
        "expected": "391",
        "followups": [
            {"query": "Add 9 to that result.", "expected": "400"},
            {"query": "Print it again.", "expected": "391"},
        ],
    }
    tasks.write_text(json.dumps(row) + "\n")
    strategies = select_strategies(["bottom-only", "bottom+memory"])
    plain, memory = asyncio.run(
        run_bench(
            load_settings(cfg),
            strategies,
            load_tasks(tasks),
            protocol="sequential",
            bench_dir=tmp_path / "b",
            executor_factory=FakeExecutor,
        )
    )
    assert plain.items == memory.items == 3 and plain.solved == memory.solved == 2
    assert plain.by_form == {"query": (1, 1), "followup": (1, 2)}

    def first_messages(strategy: str) -> list[str]:
        from ecoagent.runlog import RunLog

        log = RunLog(tmp_path / "b" / "sequential" / strategy / "runs.sqlite3")
        lines = (tmp_path / "b" / "sequential" / strategy / "results.jsonl").read_text().splitlines()
        records = [log.get(json.loads(x)["run_id"]) for x in lines]
        log.close()
        return [r.attempts[0].messages[0].content for r in records if r is not None]

    alone, carried = first_messages("bottom-only"), first_messages("bottom+memory")
    assert "Compute 17 * 23." not in alone[1]  # without memory, each turn runs alone
    assert (
        "Q: Compute 17 * 23." in carried[1] and "Output: 391" in carried[1] and "Q: Add 9 to that result." in carried[2]
    )
    assert memory.tokens > plain.tokens  # the carried context is read, and paid for


def test_followups_must_be_well_formed(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"id": "c", "query": "q", "expected": "1", "followups": [{"query": "q2"}]}) + "\n")
    with pytest.raises(EcoagentError, match=r"line 1: followups\[0\] needs exactly a non-empty 'query' and 'expected'"):
        load_tasks(bad)


def test_the_shipped_conversation_tasks_load() -> None:
    tasks = load_tasks(Path(__file__).resolve().parents[1] / "benchmarks" / "tasks" / "conversations.jsonl")
    assert len(tasks) >= 10 and all(len(t.followups) >= 2 for t in tasks)
    assert len(bench_items(tasks, "sequential")) == sum(1 + len(t.followups) for t in tasks)


def test_a_router_strategy_skips_the_rung_that_keeps_failing(tmp_path: Path) -> None:
    cfg, tasks = setup(tmp_path)
    settings = load_settings(cfg)
    settings.router.min_evidence = 0.3  # five items: let two similar logged failures count
    settings.router.explore = 0.0
    ladder, routed = asyncio.run(
        run_bench(
            settings,
            select_strategies(["ladder", "ladder+router"]),
            load_tasks(tasks),
            protocol="sequential",
            bench_dir=tmp_path / "bench",
            executor_factory=FakeExecutor,
        )
    )
    assert routed.solved == ladder.solved == 4  # the same answers...
    assert (
        routed.escalations < ladder.escalations == 5 and routed.cost < ladder.cost
    )  # ...without the failed cheap attempts
    results = [
        json.loads(x)
        for x in (tmp_path / "bench" / "sequential" / "ladder+router" / "results.jsonl").read_text().splitlines()
    ]
    assert results[0]["rungs_tried"] == ["cheap", "top"] and ["top"] in [r["rungs_tried"] for r in results]


def test_a_strategy_judged_without_the_answer_key_is_scored_by_it(tmp_path: Path) -> None:
    """judge = "auto": the ladder climbs only on failures a user would see (a crash), and
    the answer it stood behind is scored by the expected answer; wrong ones it accepted
    are counted, not solved."""
    crash = ["```python\nprint(seventeen * 23)\n```", "The answer is 391. TERMINATE"]
    cfg = write_scripted_config(tmp_path, {"cheap": WRONG * 2 + crash * 20, "top": RIGHT * 20})
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text("".join(json.dumps(t) + "\n" for t in TASKS))
    extra = tmp_path / "strategies.toml"
    extra.write_text('[[strategies]]\nname = "ladder-auto"\nrungs = "all"\njudge = "auto"\n')
    [auto] = asyncio.run(
        run_bench(
            load_settings(cfg),
            select_strategies(["ladder-auto"], extra),
            load_tasks(tasks),
            protocol="sequential",
            bench_dir=tmp_path / "bench",
            executor_factory=FakeExecutor,
        )
    )
    # t1 and t2's queries: the cheap rung's 374 ran fine and it said TERMINATE, so the
    # pipeline served it (wrong: 391 expected); the cheap rung crashed on the other three,
    # so they climbed, and the top rung's 391 is right for both paraphrases and served,
    # wrong, for the variant (414 expected)
    assert (auto.items, auto.solved, auto.escalations, auto.accepted_wrong) == (5, 2, 3, 3)
    assert auto.solved_by_rung == {"top": 2}
    results = [
        json.loads(x)
        for x in (tmp_path / "bench" / "sequential" / "ladder-auto" / "results.jsonl").read_text().splitlines()
    ]
    assert [(r["accepted"], r["resolved"], r["judge"]) for r in results[:2]] == [(True, False, "expected")] * 2
    table = markdown_table([auto])
    header = [c.strip() for c in table.splitlines()[0].strip("|").split("|")]
    row = [c.strip() for c in table.splitlines()[2].strip("|").split("|")]
    assert row[header.index("accepted wrong")] == "3" and row[header.index("wrong/resolved")] == "60%"
    assert row[header.index("unverified (right)")] == "0 (0)"
    with pytest.raises(EcoagentError, match="judge cannot be combined with cache"):
        extra.write_text('[[strategies]]\nname = "x"\njudge = "auto"\ncache = true\n')
        select_strategies(["x"], extra)


def test_an_exploring_strategy_observes_every_bin_and_calibrate_counts_them(tmp_path: Path) -> None:
    """judge = "evidence", explore: nothing is accepted, every rung draws both samples, and every
    answer the judge weighed is scored by the key; `ecoagent calibrate` turns that into the table
    the evidence judge reads."""
    cfg, tasks = setup(tmp_path)
    extra = tmp_path / "strategies.toml"
    extra.write_text('[[strategies]]\nname = "explore"\nrungs = "all"\njudge = "evidence"\nexplore = true\n')
    [explore] = asyncio.run(
        run_bench(
            load_settings(cfg),
            select_strategies(["explore"], extra),
            load_tasks(tasks),
            protocol="split",
            bench_dir=tmp_path / "bench",
            executor_factory=FakeExecutor,
        )
    )
    # split: the paraphrases (391) and the variant (414); cheap says 374 twice, top 391 twice
    assert (explore.items, explore.solved, explore.accepted_wrong, explore.unverified, explore.unverified_right) == (
        3,
        0,
        0,
        3,
        2,
    )
    results = [
        json.loads(x) for x in (tmp_path / "bench" / "split" / "explore" / "results.jsonl").read_text().splitlines()
    ]
    first = results[0]
    assert first["rungs_tried"] == ["cheap", "cheap", "top", "top"] and first["unverified"] and first["served_right"]
    cheap, top = str(tmp_path / "cheap.json"), str(tmp_path / "top.json")
    assert first["observations"] == [
        [cheap, "single", True],
        [cheap, "samples", True],
        [top, "single", False],
        [top, "samples", False],
    ]
    target = tmp_path / "mine.json"
    done = runner.invoke(app, ["--config", str(cfg), "calibrate", str(tmp_path / "bench"), "--out", str(target)])
    assert done.exit_code == 0, done.output
    from ecoagent.judge import Calibration

    table = Calibration.load(target)
    assert table.count(top, "samples").n == 3 and table.count(top, "samples").wrong == 1  # the variant wanted 414
    assert table.count(cheap, "single").n == 3 and table.count(cheap, "single").wrong == 3
    assert table.meta["items"] == 3 and len(str(table.meta["data_sha256"])) == 64
    assert "wrote" in done.stderr and "samples" in done.stdout
    empty = tmp_path / "empty.jsonl"
    empty.write_text('{"item_id": "x"}\n')
    nothing = runner.invoke(app, ["--config", str(cfg), "calibrate", str(empty), "--out", str(target)])
    assert nothing.exit_code == 1 and "no observations" in nothing.stderr
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"observations": [["m", "maybe", true]]}\n')
    broken = runner.invoke(app, ["--config", str(cfg), "calibrate", str(bad)])
    assert broken.exit_code == 2 and "bad.jsonl line 1" in broken.stderr


def test_the_comparison_reads_on_a_narrow_terminal_and_off_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import csv
    import importlib
    import io

    from rich.console import Console

    bench_cli = importlib.import_module("ecoagent.cli.bench")  # the module (the package's `bench` is the command)

    reports = bench(tmp_path, ["top-only", "ladder"], "sequential")

    def shown(fmt: str, *, terminal: bool, width: int = 80) -> tuple[str, str]:
        buffer = io.StringIO()
        console = Console(file=buffer, force_terminal=terminal, width=width, color_system=None)
        monkeypatch.setattr(bench_cli, "out", console)
        echoed: list[str] = []
        monkeypatch.setattr(
            bench_cli.typer, "echo", lambda text="", nl=True: echoed.append(str(text) + ("\n" if nl else ""))
        )
        used = bench_cli._show(reports, "t", fmt)
        return used, buffer.getvalue() + "".join(echoed)

    used, text = shown("auto", terminal=True, width=80)  # 16 columns do not fit: one strategy at a time
    assert used == "list" and all(len(line) <= 80 for line in text.splitlines())
    assert "top-only\n  solved" in text and "  success  " in text.replace("success vs", "")
    used, text = shown("auto", terminal=True, width=400)
    assert used == "table" and "tokens vs top-only" in text and "| top-only" not in text
    used, text = shown("auto", terminal=False)  # a pipe, a file, a CI log
    assert used == "md" and "| top-only | 4/5 | 80.0% |" in text
    rows = list(csv.reader(io.StringIO(shown("csv", terminal=False)[1])))
    assert rows[0][:3] == ["strategy", "solved", "success"] and [r[0] for r in rows[1:]] == ["top-only", "ladder"]
    data = json.loads(shown("json", terminal=False)[1])
    assert [s["strategy"] for s in data["strategies"]] == ["top-only", "ladder"]
