"""The bundled SmolLM2 in its worker process: a crash, a timeout or a cancel costs one call.

Real model, real child process; no Docker. Each test checks that the next call on
the same model works and gives the same answer as before (greedy decoding from a
clean context, so a restarted worker answers exactly as the first one did).
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import pytest
from autogen_core.models import UserMessage

from ecoagent.config import Rung
from ecoagent.models import build_client
from ecoagent.models.llama import LocalModelCrashed, llama_client

PROMPT = [UserMessage(content="Write Python code that prints 17 * 23.", source="user")]
LONG = [
    UserMessage(content="Write a very long story about a dragon who learns to code, with many chapters.", source="user")
]


def rung(**kw: object) -> Rung:
    return Rung(provider="llama-cpp", model="bundled:smollm2", **{"name": "smollm2", "max_tokens": 48, **kw})  # type: ignore[arg-type]


def wait_for_generation(client, started: float) -> int:  # type: ignore[no-untyped-def]
    """The worker's pid once it is busy with the call (the model is loaded)."""
    while time.monotonic() - started < 30:
        pid = client.worker.pid
        if pid is not None and client.worker._ready:
            return int(pid)
        time.sleep(0.02)
    raise AssertionError("the worker never became ready")


def wait_until_computing(pid: int) -> None:
    """Until the worker has spent a tenth of a second of CPU since now: it is generating."""

    def ticks() -> int:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime

    start, deadline = ticks(), time.monotonic() + 30
    while ticks() - start < max(1, os.sysconf("SC_CLK_TCK") // 10):
        if time.monotonic() > deadline:
            raise AssertionError("the worker never started computing")
        time.sleep(0.01)


def test_a_crash_fails_one_call_and_the_next_call_gets_a_fresh_model() -> None:
    client = llama_client(rung(max_tokens=400))
    baseline = asyncio.run(client.create(PROMPT)).content

    async def crash_during_a_call() -> BaseException:
        task = asyncio.create_task(client.create(LONG))
        pid = await asyncio.to_thread(wait_for_generation, client, time.monotonic())
        await asyncio.to_thread(wait_until_computing, pid)  # mid-generation
        os.kill(pid, signal.SIGSEGV)
        try:
            await task
        except BaseException as exc:  # noqa: BLE001 - the crash is what we want to see
            return exc
        raise AssertionError("the call survived a crash of its model process")

    starts = client.worker.starts
    error = asyncio.run(crash_during_a_call())
    assert isinstance(error, LocalModelCrashed) and "SIGSEGV" in error.message
    assert asyncio.run(client.create(PROMPT)).content == baseline  # same answer from the new process
    assert client.worker.starts == starts + 1


def test_a_timed_out_call_leaves_nothing_running() -> None:
    warm = llama_client(rung(max_tokens=400))
    asyncio.run(warm.create(PROMPT))  # loaded and answering
    pid_before = warm.worker.pid
    slow = build_client(rung(max_tokens=400, timeout_s=0.5), retries=0)  # same model, same worker
    with pytest.raises(Exception) as info:
        asyncio.run(slow.create(LONG))
    assert "did not answer in time" in str(info.value)
    assert pid_before is not None and warm.worker.pid != pid_before  # the timed-out generation was killed
    with pytest.raises(ProcessLookupError):
        os.kill(pid_before, 0)


def test_a_cancelled_call_stops_its_generation() -> None:
    client = llama_client(rung(max_tokens=400))
    baseline = asyncio.run(client.create(PROMPT)).content

    async def cancel_midway() -> int:
        task = asyncio.create_task(client.create(LONG))
        pid = await asyncio.to_thread(wait_for_generation, client, time.monotonic())
        await asyncio.to_thread(wait_until_computing, pid)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return pid

    pid = asyncio.run(cancel_midway())
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # the worker thread kills the child right after the cancel
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        raise AssertionError("the cancelled generation kept running")
    assert asyncio.run(client.create(PROMPT)).content == baseline


def test_a_sampling_rung_with_a_seed_draws_the_same_reply_every_time() -> None:
    """A retry rung samples (temperature > 0) to draw other code than the greedy rung, and
    its seed makes each run reproducible: same seed, same reply; another seed, another."""
    first, again, other = (
        llama_client(rung(name=f"s{seed}-{i}", temperature=1.0, seed=seed)) for i, seed in enumerate((1, 1, 2))
    )
    replies = [asyncio.run(c.create(PROMPT)).content for c in (first, again, other)]
    assert replies[0] == replies[1] and replies[0] != replies[2]
    with pytest.raises(ValueError, match="seed"):
        rung(seed=-1)
