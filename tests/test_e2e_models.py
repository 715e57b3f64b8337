"""End to end on real parts: the bundled SmolLM2 and the real sandbox.

These assert the *flow* — a real completion, code executed in the sandbox, a
verdict, a record in the run log — not that a 135M-parameter model is right.
The same flow runs twice: in-process (``llama-cpp`` provider) and through
llama-cpp-python's OpenAI-compatible server on 127.0.0.1 (``openai`` provider).
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

import pytest

from ecoagent import EcoAssistant
from ecoagent.bundled import smollm2_path
from ecoagent.config import JudgeSettings, LadderSettings, Rung, RunSettings, Settings
from ecoagent.judge import Calibration, rung_identity
from ecoagent.records import RunRecord

pytestmark = pytest.mark.docker

QUERY = "Write Python code to print 17 * 23."


def check_flow(eco: EcoAssistant, record: RunRecord, rung: str) -> None:
    attempt = record.attempts[0]
    assert attempt.rung == rung
    replies = [m for m in attempt.messages if m.source == "assistant"]
    assert replies and replies[0].content.strip()  # a real completion...
    assert attempt.completion_tokens > 0 and attempt.prompt_tokens > 0  # ...with real usage
    assert attempt.executions, "the model's code block should have run in the sandbox"
    assert attempt.executions[0].code and "17" in attempt.executions[0].code
    assert attempt.verdict is not None and attempt.verdict.judge == "auto"
    logged = eco.runlog.get(record.run_id)
    assert logged is not None and logged.attempts[0].executions[0].output == attempt.executions[0].output


def test_bundled_smollm2_in_process(sandbox_image: str) -> None:
    eco = EcoAssistant(Settings(run=RunSettings(max_turns=4, judge="auto")))
    assert [r.provider for r in eco.rungs] == [
        "llama-cpp"
    ] * 3  # SmolLM2 and Qwen2.5-Coder with their adapters, then Qwen as it comes
    record = eco.run_sync(QUERY)
    check_flow(eco, record, "smollm2-eco")  # the default: the bundled model with the shipped adapter
    assert "391" in record.attempts[0].executions[0].output
    eco.close()


def test_two_bundled_models_agree_and_the_climb_stops_below_the_top(sandbox_image: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # The offline default's first two rungs answer independently (each a fresh conversation);
    # under a calibration in which their agreement is rarely wrong, the second rung's answer,
    # confirmed by the first's, is accepted and the third rung never runs.
    rungs = LadderSettings().resolved()
    table = Calibration()
    for _ in range(400):  # enough to outweigh what the shipped calibration says of the same bin
        table.observe(rung_identity(rungs[1]), "rungs", wrong=False)
    table.save(tmp_path / "calibration.json")
    settings = Settings(
        run=RunSettings(max_turns=4), judge=JudgeSettings(samples=1, calibration=tmp_path / "calibration.json")
    )
    eco = EcoAssistant(settings)
    record = eco.run_sync("What is 17 * 23?")
    eco.close()
    first, second = record.attempts
    assert (first.rung, second.rung) == ("smollm2-eco", "qwen-eco")
    assert (
        first.verdict
        and first.verdict.judge == "evidence"
        and first.verdict.evidence == "single"
        and not first.verdict.ok
    )
    assert second.verdict and second.verdict.ok and second.verdict.evidence == "rungs", second.verdict
    assert (
        record.resolved
        and record.final_rung == "qwen-eco"
        and "391" in (record.final_answer or "") + second.executions[-1].output
    )
    assert record.compute_s > 0 and all(a.model_s > 0 for a in record.attempts)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = _free_port()
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    # A file, not a pipe: llama.cpp logs a lot while loading and would block on a full pipe.
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "llama_cpp.server",
                "--model",
                str(smollm2_path()),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--model_alias",
                "smollm2",
                "--n_ctx",
                "4096",
                "--seed",
                "0",
            ],
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"llama_cpp.server exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            with urllib.request.urlopen(f"{base}/models", timeout=2):
                break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("llama_cpp.server did not answer within 90 s")
    yield base
    proc.terminate()
    proc.wait(timeout=20)


def test_openai_provider_through_a_real_http_server(sandbox_image: str, llama_server: str) -> None:
    rung = Rung(
        name="smollm2-http", provider="openai", model="smollm2", base_url=llama_server, api_key_env="", max_tokens=512
    )
    eco = EcoAssistant(Settings(ladder=LadderSettings(rungs=[rung]), run=RunSettings(max_turns=4, judge="auto")))
    record = eco.run_sync(QUERY)
    check_flow(eco, record, "smollm2-http")
    eco.close()


def test_unreachable_endpoint_fails_the_rung_with_a_clear_reason(sandbox_image: str) -> None:
    dead = Rung(
        name="nowhere",
        provider="openai",
        model="m",
        base_url=f"http://127.0.0.1:{_free_port()}/v1",
        api_key_env="",
        timeout_s=5,
    )
    settings = Settings(ladder=LadderSettings(rungs=[dead]), run=RunSettings(retries=1, retry_backoff_s=0.1))
    eco = EcoAssistant(settings)
    record = eco.run_sync(QUERY)
    attempt = record.attempts[0]
    assert not record.resolved and attempt.error
    assert "rung nowhere" in attempt.error and "kept failing after 2 attempts" in attempt.error
    assert attempt.verdict is not None and "model endpoint failing" in attempt.verdict.reason
    eco.close()
