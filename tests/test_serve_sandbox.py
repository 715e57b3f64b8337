"""``ecoagent serve`` on real parts: the Docker sandbox, Qdrant storage, real embeddings,
the bundled model, AutoGen's OpenAI client, and the ``ecoagent`` command as server and client."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

from ecoagent import EcoAssistant
from ecoagent.config import LadderSettings, Rung, RunSettings, SandboxSettings, Settings
from ecoagent.serve import KeyRing, create_app
from ecoagent.testing import LiveServer, ScriptedChatCompletionClient, write_scripted_config

pytestmark = pytest.mark.docker

SUM = "```python\nprint(sum(range(1, 101)))\n```"
SUM_200 = "```python\nprint(sum(range(1, 201)))\n```"


def _assistant(sandbox: SandboxSettings, script: list[str]) -> tuple[EcoAssistant, ScriptedChatCompletionClient]:
    settings = Settings(
        ladder=LadderSettings(rungs=[Rung(name="cheap", provider="openai", model="c")]),
        sandbox=sandbox,
        run=RunSettings(judge="auto"),
    )  # transport with the real sandbox; the evidence judge's serve test is in test_unverified.py
    client = ScriptedChatCompletionClient(script)
    return EcoAssistant(settings, clients={"cheap": client}), client


def test_thumbs_up_through_the_api_banks_then_a_paraphrase_gets_it_and_a_repeat_costs_nothing(
    sandbox_settings: SandboxSettings,
) -> None:
    eco, cheap = _assistant(sandbox_settings, [SUM, "The sum is 5050. TERMINATE", SUM_200, "It is 20100. TERMINATE"])
    with LiveServer(create_app(eco, keys=KeyRing([]))) as live:
        client = openai.OpenAI(base_url=live.url + "/v1", api_key="none", max_retries=0)
        question = [{"role": "user", "content": "What is the sum of the integers from 1 to 100?"}]
        first = client.chat.completions.create(model="ecoagent", messages=question)
        assert first.choices[0].message.content == "The sum is 5050."
        run_id = first.model_extra["ecoagent"]["run_id"]  # type: ignore[index]
        banked = httpx.post(live.url + "/v1/feedback", json={"run_id": run_id, "good": True}).json()
        assert banked["created"] and banked["note"] == "banked"

        paraphrase = client.chat.completions.create(
            model="ecoagent", messages=[{"role": "user", "content": "Add up all integers from 1 to 200"}]
        )
        report = paraphrase.model_extra["ecoagent"]  # type: ignore[index]
        assert [d["id"] for d in report["demonstrations"]] == [banked["solution_id"]] and report[
            "answered_by"
        ] == "cheap"
        assert "sum(range(1, 101))" in str(cheap.calls[-1][1].content)  # the demonstration is in its first message

        repeat = client.chat.completions.create(model="ecoagent", messages=question)
        assert repeat.choices[0].message.content == "The sum is 5050."
        assert repeat.usage is not None and repeat.usage.total_tokens == 0
        assert repeat.model_extra["ecoagent"]["answered_by"] == "exact"  # type: ignore[index]
        assert cheap.remaining == 0  # no model call beyond the two climbs


def test_an_autogen_assistant_agent_uses_the_whole_ladder_as_its_model(sandbox_settings: SandboxSettings) -> None:
    from autogen_agentchat.agents import AssistantAgent
    from autogen_ext.models.openai import OpenAIChatCompletionClient

    eco, _ = _assistant(sandbox_settings, ["```python\nprint(17 * 23)\n```", "17 * 23 = 391. TERMINATE"])
    with LiveServer(create_app(eco, keys=KeyRing([]))) as live:
        model = OpenAIChatCompletionClient(
            model="ecoagent",
            base_url=live.url + "/v1",
            api_key="none",
            model_info={
                "vision": False,
                "function_calling": False,
                "json_output": False,
                "family": "unknown",
                "structured_output": False,
            },
        )
        agent = AssistantAgent("helper", model_client=model, system_message="You are a helpful assistant.")

        async def run() -> object:
            try:
                return await agent.run(task="What is 17 * 23?")
            finally:
                await model.close()

        result = asyncio.run(run())
        reply = result.messages[-1]  # type: ignore[attr-defined]
        assert "391" in reply.to_text()
        assert reply.models_usage is not None and reply.models_usage.prompt_tokens > 0  # the ladder's real usage
        [record] = eco.runlog.recent(5)
        assert record.resolved and record.final_code == "print(17 * 23)"
        assert (
            record.query == "What is 17 * 23?" and record.context_chars > 0
        )  # the system message came as instructions


def test_the_bundled_model_end_to_end_through_the_server(sandbox_settings: SandboxSettings) -> None:
    settings = Settings(sandbox=sandbox_settings)  # the offline default ladder: SmolLM2 in llama.cpp
    settings.run.max_turns = 4
    settings.run.judge = (
        "auto"  # one rung: the transport is tested (the evidence judge through serve: test_unverified.py)
    )
    eco = EcoAssistant(settings)
    with LiveServer(create_app(eco, keys=KeyRing([]))) as live:
        client = openai.OpenAI(base_url=live.url + "/v1", api_key="none", max_retries=0, timeout=300)
        reply = client.chat.completions.create(
            model="ecoagent", messages=[{"role": "user", "content": "Write Python code to print 17 * 23."}]
        )
        report = reply.model_extra["ecoagent"]  # type: ignore[index]
        record = eco.runlog.get(report["run_id"])
        assert record is not None and record.attempts[0].rung == eco.rungs[0].name
        assert record.attempts[0].executions, "the bundled model's code ran in the sandbox"
        assert reply.usage is not None and reply.usage.completion_tokens == record.completion_tokens > 0


# ---- the command line: `ecoagent serve` and its clients --------------------------------------
@pytest.fixture
def served(
    tmp_path: Path, sandbox_image: str, _isolated_home: Path
) -> Iterator[tuple[str, Path, subprocess.Popen[str]]]:
    script = ["```python\nprint(6 * 7)\n```", "It is 42. TERMINATE"] * 20
    config = write_scripted_config(tmp_path, {"cheap": script}, sandbox_timeout_s=10, judge="auto")
    proc = subprocess.Popen(
        [sys.executable, "-m", "ecoagent", "-c", str(config), "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert "listening on" in line, (line, proc.stderr.read() if proc.poll() is not None else "")  # type: ignore[union-attr]
    url = line.split("listening on ")[1].split()[0]
    try:
        yield url, config, proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)


def _cli(*args: str, config: Path | None = None, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    head = [sys.executable, "-m", "ecoagent"] + (["-c", str(config)] if config else [])
    return subprocess.run(
        [*head, *args], capture_output=True, text=True, timeout=120, input=stdin, env=dict(os.environ)
    )


def test_the_cli_is_a_client_of_a_running_server(
    served: tuple[str, Path, subprocess.Popen[str]], tmp_path: Path
) -> None:
    url, config, proc = served
    asked = _cli("ask", "What is 6 * 7?", "--json", "--server", url)
    assert asked.returncode == 0, asked.stderr
    summary = json.loads(asked.stdout)
    assert summary["answer"] == "It is 42." and summary["rung"] == "cheap"
    good = _cli("feedback", summary["run_id"], "--good", "--server", url)
    assert good.returncode == 0 and "banked solution" in good.stdout, good.stderr

    # The embedded bank is the server's: a local command says where to send it instead.
    local = _cli("ask", "What is 6 * 8?", config=config)  # a new question needs the bank (an exact hit would not)
    assert local.returncode == 1 and f"--server {url}" in local.stderr, local.stderr

    rows = tmp_path / "rows.jsonl"
    rows.write_text(
        '{"id": "a", "query": "What is 6 * 7?"}\n{"id": "b", "query": "Compute 6 times 7", "expected": "42"}\n'
    )
    batch = _cli("batch", str(rows), "--out", str(tmp_path / "out.jsonl"), "-j", "2", "--server", url)
    assert batch.returncode == 0, batch.stderr
    results = [json.loads(x) for x in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert {r["id"]: r["rung"] for r in results}["a"] == "exact" and all(r["resolved"] for r in results)

    chat = _cli("chat", "--server", url, stdin="What is 6 * 7?\n/good\n/exit\n")
    assert chat.returncode == 0 and "It is 42." in chat.stdout and "👍" in chat.stdout, chat.stdout + chat.stderr

    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 0
    assert not (Path(os.environ["ECOAGENT_HOME"]) / "state" / "server.json").exists()


def test_a_server_stopped_by_sigterm_during_a_query_cancels_and_logs_it(tmp_path: Path, sandbox_image: str) -> None:
    """SIGTERM: the query in flight gets the grace period, then is cancelled and logged; a
    finished run and acknowledged feedback are in the run log."""
    sleepy = "```python\nimport time\ntime.sleep(8)\nprint(1)\n```"
    config = write_scripted_config(tmp_path, {"cheap": [sleepy] * 4}, sandbox_timeout_s=30, judge="auto")
    config.write_text(config.read_text() + "[serve]\ngrace_s = 1\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "ecoagent", "-c", str(config), "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    url = proc.stdout.readline().split("listening on ")[1].split()[0]
    with httpx.stream(
        "POST",
        url + "/v1/chat/completions",
        timeout=60,
        json={"model": "ecoagent", "messages": [{"role": "user", "content": "Sleep, then print 1"}], "stream": True},
    ) as response:
        for line in response.iter_lines():
            if "model_message" in line:
                break
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    assert time.monotonic() - t0 < 15
    from ecoagent.runlog import RunLog

    log = RunLog(Path(os.environ["ECOAGENT_HOME"]) / "data" / "runs.sqlite3")
    [record] = log.recent(5)
    assert record.cancelled and record.query == "Sleep, then print 1"
    log.close()
