"""Sandbox latency: ecoagent's hardened executor vs AutoGen's DockerCommandLineCodeExecutor.

Both run on the same image in the same run:
* warm  — one trivial block in an already-started container (what every assistant
  turn after the first pays);
* cold  — a whole query's sandbox: start a container, run the block, remove it.

AutoGen's ``stop()`` calls ``container.stop()``, which waits its 10 s grace because
its ``/bin/sh`` PID 1 ignores SIGTERM; its cold time is shown as shipped and, for a
fairer figure, with the container force-removed instead of stopped.

Usage: .venv/bin/python benchmarks/bench_sandbox.py [--warm 50] [--cold 10] [--autogen-cold 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable

import docker
from autogen_core import CancellationToken
from autogen_core.code_executor import CodeBlock
from autogen_ext.code_executors.docker import DockerCommandLineCodeExecutor

from ecoagent.config import SandboxSettings
from ecoagent.sandbox import DockerSandboxExecutor

BLOCK = [CodeBlock(code="print(6 * 7)", language="python")]


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


async def timed(n: int, fn: Callable[[], Awaitable[object]]) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        await fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


async def main(args: argparse.Namespace) -> None:
    settings = SandboxSettings()
    token = CancellationToken()
    results: dict[str, list[float]] = {}

    async with DockerSandboxExecutor(settings) as ours:
        await ours.execute_code_blocks(BLOCK, token)  # first exec warms caches
        results["ecoagent warm"] = await timed(args.warm, lambda: ours.execute_code_blocks(BLOCK, token))

    async def ours_cold() -> None:
        async with DockerSandboxExecutor(settings) as ex:
            await ex.execute_code_blocks(BLOCK, token)

    results["ecoagent cold"] = await timed(args.cold, ours_cold)

    work = tempfile.mkdtemp(prefix="bench-autogen-")
    os.chmod(work, 0o777)  # the image's user 1000 must read files AutoGen writes as root
    ag = DockerCommandLineCodeExecutor(image=settings.image, work_dir=work, timeout=60)
    await ag.start()
    await ag.execute_code_blocks(BLOCK, token)
    results["autogen warm"] = await timed(args.warm, lambda: ag.execute_code_blocks(BLOCK, token))
    await ag.stop()

    async def ag_cold(stop: bool) -> None:
        ex = DockerCommandLineCodeExecutor(image=settings.image, work_dir=work, timeout=60)
        await ex.start()
        await ex.execute_code_blocks(BLOCK, token)
        if stop:
            await ex.stop()
        else:  # force-remove, like ecoagent does
            await asyncio.to_thread(docker.from_env().containers.get(ex.container_name).remove, force=True)
            ex._running = False  # noqa: SLF001 - keep its atexit hook from stopping it again

    results["autogen cold (as shipped)"] = await timed(args.autogen_cold, lambda: ag_cold(True))
    results["autogen cold (force-remove)"] = await timed(args.cold, lambda: ag_cold(False))

    print(f"{'executor':32} {'n':>4} {'p50 ms':>9} {'p90 ms':>9}")
    for name, vals in results.items():
        print(f"{name:32} {len(vals):>4} {statistics.median(vals):>9.1f} {pct(vals, 90):>9.1f}")
    warm = statistics.median(results["ecoagent warm"]) / statistics.median(results["autogen warm"])
    cold = statistics.median(results["ecoagent cold"]) / statistics.median(results["autogen cold (force-remove)"])
    shipped = statistics.median(results["ecoagent cold"]) / statistics.median(results["autogen cold (as shipped)"])
    print(f"ratio warm p50 ecoagent/autogen: {warm:.2f}  (target <= 1.0; warm p50 target <= 150 ms)")
    print(f"ratio cold p50 ecoagent/autogen (force-remove): {cold:.2f}; vs as shipped: {shipped:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--warm", type=int, default=50)
    parser.add_argument("--cold", type=int, default=10)
    parser.add_argument("--autogen-cold", type=int, default=3)
    asyncio.run(main(parser.parse_args()))
