"""An answer nothing backed, everywhere a person or a program meets it.

The pipeline returns it (a chat user wants it) as ``resolved: false``, ``unverified``,
with its risk: the terminal shows ``⚠ unverified``, batch counts it apart from success,
serve's ``ecoagent`` object says so. It never enters the exact cache, is never replayed,
and is banked only by a person's thumbs-up, which also counts in the user's calibration.
"""

from __future__ import annotations

import json
from pathlib import Path

import openai
import pytest
from typer.testing import CliRunner

from ecoagent import EcoAssistant
from ecoagent.cli import app
from ecoagent.config import BankSettings, CacheSettings, JudgeSettings, LadderSettings, Rung, RunSettings, Settings
from ecoagent.judge import Calibration
from ecoagent.judge.calibration import BinCount
from ecoagent.serve import KeyRing, create_app
from ecoagent.testing import FakeExecutor, LiveServer, ScriptedChatCompletionClient, write_scripted_config

runner = CliRunner()
RUNGS = [
    Rung(name="cheap", provider="openai", model="cheap-model", input_price_per_mtok=0.15, output_price_per_mtok=0.6),
    Rung(name="top", provider="openai", model="top-model", input_price_per_mtok=2.5, output_price_per_mtok=10.0),
]
WRONG = ["```python\nprint(17 * 24)\n```", "The answer is 408. TERMINATE"]
RIGHT = ["```python\nprint(17 * 23)\n```", "The answer is 391. TERMINATE"]


def lone_answers_are_risky(path: Path, *identities: str) -> Path:
    """A calibration in which a rung's lone answer was wrong 3 times in 10."""
    Calibration(rungs={i: {"single": BinCount(n=100, wrong=30)} for i in identities}).save(path)
    return path


def assistant(tmp_path: Path, cheap: list[str], top: list[str]) -> EcoAssistant:
    calibration = lone_answers_are_risky(tmp_path / "calibration.json", "cheap-model", "top-model")
    settings = Settings(
        ladder=LadderSettings(rungs=RUNGS),
        bank=BankSettings(path=tmp_path / "bank"),
        cache=CacheSettings(path=tmp_path / "cache.sqlite3", replay=True),
        runlog_path=tmp_path / "runs.sqlite3",
        judge=JudgeSettings(calibration=calibration, samples=1),
    )
    settings.router.enabled = False
    clients = {"cheap": ScriptedChatCompletionClient(cheap), "top": ScriptedChatCompletionClient(top)}
    return EcoAssistant(settings, clients=clients, executor_factory=FakeExecutor)


def test_unverified_answers_are_never_cached_replayed_or_banked_without_a_person(tmp_path: Path) -> None:
    eco = assistant(tmp_path, WRONG * 2, RIGHT * 2)
    first = eco.run_sync("What is 17 * 23?")
    assert not first.resolved and first.unverified and first.final_answer == "The answer is 391."
    assert first.risk == pytest.approx(0.3) and first.risk_note == "about 3 in 10 like it are wrong"
    assert (
        eco.bank_verified(first) is None and eco.bank.count() == 0
    )  # batch --bank-verified banks only key-checked runs
    again = eco.run_sync("What is 17 * 23?")
    assert again.first_turn is None or not again.first_turn.served  # not served from the cache...
    assert len(again.attempts) == 2  # ...the ladder ran again
    result = eco.feedback(first.run_id, good=True)  # a person's word banks it, said so
    assert result.solution_id and result.override and "your word" in result.note
    assert eco.bank.count() == 1
    from ecoagent.finetune.export import _confirmed_attempt

    confirmed = eco.runlog.get(first.run_id)
    assert confirmed is not None and confirmed.feedback == "good"
    attempt, judge = _confirmed_attempt(confirmed)  # fine-tuning learns the answer the person confirmed
    assert attempt is not None and attempt.rung == "top" and attempt.final_code == "print(17 * 23)" and judge == "human"
    own = Calibration.load(tmp_path / "calibration.json")
    assert own.count("top-model", "single") == BinCount(n=101, wrong=30)  # the thumbs-up counted once, as right
    eco.feedback(first.run_id, good=False)  # a change of mind is not counted twice
    assert Calibration.load(tmp_path / "calibration.json").count("top-model", "single").n == 101
    eco.close()


def test_serve_returns_the_answer_and_says_it_is_unverified(tmp_path: Path) -> None:
    eco = assistant(tmp_path, WRONG, RIGHT)
    with LiveServer(create_app(eco, keys=KeyRing([]))) as live:
        client = openai.OpenAI(base_url=live.url + "/v1", api_key="none", max_retries=0)
        reply = client.chat.completions.create(
            model="ecoagent", messages=[{"role": "user", "content": "What is 17 * 23?"}]
        )
    eco.close()
    assert reply.choices[0].message.content == "The answer is 391."
    report = reply.model_extra["ecoagent"]  # type: ignore[index]
    assert report["resolved"] is False and report["unverified"] is True and report["risk"] == 0.3
    assert report["risk_note"] == "about 3 in 10 like it are wrong"
    assert report["verdict"]["ok"] is False and report["verdict"]["reason"].startswith("unverified: about 3 in 10")


def scripted(tmp_path: Path, cheap: list[str], top: list[str]) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    config = write_scripted_config(
        tmp_path, {"cheap": cheap, "top": top}, prices={"cheap": (0.15, 0.6), "top": (2.5, 10.0)}
    )
    calibration = lone_answers_are_risky(
        tmp_path / "calibration.json", str(tmp_path / "cheap.json"), str(tmp_path / "top.json")
    )
    with config.open("a", encoding="utf-8") as f:
        f.write(f'[judge]\nsamples = 1\ncalibration = "{calibration}"\n')
    return config


@pytest.mark.docker
def test_batch_counts_unverified_answers_apart_from_success(tmp_path: Path, sandbox_image: str) -> None:
    config = scripted(tmp_path, WRONG * 2, RIGHT * 2)
    rows = tmp_path / "q.jsonl"
    rows.write_text('{"id": "a", "query": "What is 17 * 23?"}\n{"id": "b", "query": "Multiply 17 by 23."}\n')
    out = tmp_path / "results.jsonl"
    result = runner.invoke(app, ["--config", str(config), "batch", str(rows), "--out", str(out)])
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [(x["resolved"], x["unverified"], x["risk"], x["rung"], x["answer"]) for x in lines] == [
        (False, True, 0.3, "top", "The answer is 391.")
    ] * 2
    assert "0/2 (0%)" in result.stderr and "unverified" in result.stderr and "2 answer(s) returned" in result.stderr
    assert "⚠ unverified (top): about 3 in 10 like it are wrong" in result.stderr
    assert result.exit_code == 0  # nothing failed a check: there was no key to check


@pytest.mark.docker
def test_chat_shows_the_risk_and_a_thumbs_up_banks_it(tmp_path: Path, sandbox_image: str) -> None:
    config = scripted(tmp_path, WRONG, RIGHT)
    result = runner.invoke(app, ["--config", str(config), "chat"], input="What is 17 * 23?\n/good\n/history\n/exit\n")
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "⚠ unverified (top): about 3 in 10 like it are wrong" in text and "The answer is 391." in text
    assert "banked on your word" in text and "1. ⚠" in text


@pytest.mark.docker
def test_ask_prints_the_answer_exits_1_and_says_how_to_confirm(tmp_path: Path, sandbox_image: str) -> None:
    config = scripted(tmp_path, WRONG, RIGHT)
    result = runner.invoke(app, ["--config", str(config), "ask", "What is 17 * 23?", "--json"])
    assert result.exit_code == 1
    summary = json.loads(result.stdout)
    assert summary["resolved"] is False and summary["unverified"] is True and summary["answer"] == "The answer is 391."
    assert "feedback" in result.stderr and "--good" in result.stderr
    # the same query judged by the old default accepts the cheap rung's wrong answer (a home of its
    # own: the router learned from the first run that the cheap rung failed)
    auto = runner.invoke(
        app,
        ["--config", str(scripted(tmp_path / "auto", WRONG, RIGHT)), "ask", "What is 17 * 23?", "--judge", "auto"],
        env={"ECOAGENT_HOME": str(tmp_path / "auto-home")},
    )
    assert auto.exit_code == 0 and "408" in auto.stdout


def test_the_default_judge_is_the_evidence_judge() -> None:
    assert RunSettings().judge == "evidence" and JudgeSettings().max_error == 0.10
