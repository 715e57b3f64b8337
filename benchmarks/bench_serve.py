"""What ``ecoagent serve`` costs and carries: overhead, exact-hit throughput, a mixed load, a crash.

1. **Overhead** over in-process ``EcoAssistant.run()``: the same pipeline on an instant
   scripted rung and the fake executor (so every millisecond is ecoagent's), ``no_cache``
   so the ladder runs every time; the server runs in this process on a real socket,
   the client is the ``openai`` SDK. Reported: p50 and p99 of each, and the difference.
2. **Exact-hit throughput** at concurrency 1, 8 and 32: a real ``ecoagent serve``
   process (scripted ladder), one question cached, then requests/s from ``wrk`` (Debian's
   ``wrk``: a load generator in a process of its own), else from an async httpx client in
   this process, which saturates before the server does.
3. **Mixed load** of ``--mixed`` requests on the bundled model (the offline default
   ladder, real sandbox): exact hits, guarded replays of banked solutions, misses
   that climb the ladder, clients that hang up mid-stream, and bursts beyond the queue
   (the intended 503s). Checked: no error but those 503s, every accepted request in the
   run log exactly once (a hung-up one as cancelled, or finished if it beat the hang-up),
   p50/p99 latency per kind.
4. **kill -9** of the server while queries and thumbs-ups are in flight: afterwards,
   every acknowledged thumbs-up is in the run log and its solution in the bank, and
   every run a client got an answer for is in the run log.
5. **LiteLLM's proxy** with its local cache in front of the same model (llama.cpp's
   OpenAI server on SmolLM2), exact-hit requests/s at the same concurrency, measured in
   this run, when ``litellm[proxy]`` is installed (``--litellm``).

Usage: .venv/bin/python benchmarks/bench_serve.py [--overhead 200] [--hits 600] [--mixed 300] [--litellm]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import openai

from ecoagent import EcoAssistant
from ecoagent.config import LadderSettings, Rung, Settings
from ecoagent.query import Query
from ecoagent.serve import KeyRing, create_app
from ecoagent.testing import FakeExecutor, LiveServer, ScriptedChatCompletionClient, write_scripted_config

CODE = "```python\nprint(17 * 23)\n```"


def pct(values: list[float], q: float) -> float:
    """The q-quantile (nearest rank) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))] if ordered else float("nan")


def ms(values: list[float]) -> str:
    return f"p50 {pct(values, 0.5) * 1000:7.1f} ms  p99 {pct(values, 0.99) * 1000:7.1f} ms  (n={len(values)})"


def _scripted_eco(home: Path) -> EcoAssistant:
    settings = Settings(ladder=LadderSettings(rungs=[Rung(name="instant", provider="openai", model="x")]))
    settings.router.enabled = False
    settings.run.judge = "auto"  # the transport is measured: one scripted answer a query, accepted as it runs
    settings.bank.path, settings.runlog_path, settings.cache.path = (
        home / "bank",
        home / "runs.sqlite3",
        home / "cache.sqlite3",
    )
    settings.serve.concurrency = 4
    return EcoAssistant(
        settings, clients={"instant": ScriptedChatCompletionClient([CODE] * 100_000)}, executor_factory=FakeExecutor
    )


# ---- 1. overhead ----------------------------------------------------------------------
def overhead(n: int, work: Path) -> None:
    eco = _scripted_eco(work / "overhead")
    for _ in range(5):
        eco.run_sync(Query("What is 17 * 23?", cache=False))
    local = []
    for i in range(n):
        t0 = time.perf_counter()
        eco.run_sync(Query(f"What is 17 * 23? ({i})", cache=False))
        local.append(time.perf_counter() - t0)
    served = []
    with LiveServer(create_app(eco, keys=KeyRing([]))) as live:
        client = openai.OpenAI(base_url=live.url + "/v1", api_key="none", max_retries=0)
        for _ in range(5):
            client.chat.completions.create(
                model="ecoagent", messages=[{"role": "user", "content": "warm"}], extra_body={"no_cache": True}
            )
        for i in range(n):
            t0 = time.perf_counter()
            client.chat.completions.create(
                model="ecoagent",
                messages=[{"role": "user", "content": f"What is 17 * 23? [{i}]"}],
                extra_body={"no_cache": True},
            )
            served.append(time.perf_counter() - t0)
    print("1. overhead on an instant scripted rung (fake executor, no cache)")
    print(f"   in-process run()      {ms(local)}")
    print(f"   through the server    {ms(served)}")
    print(
        f"   added by the server   p50 {(pct(served, 0.5) - pct(local, 0.5)) * 1000:.1f} ms, "
        f"p99 {(pct(served, 0.99) - pct(local, 0.99)) * 1000:.1f} ms"
    )


# ---- a real `ecoagent serve` process ----------------------------------------------------
class ServeProcess:
    """``ecoagent serve`` in a child process, with its own home."""

    def __init__(self, home: Path, config: Path | None = None, *extra: str) -> None:
        env = dict(os.environ, ECOAGENT_HOME=str(home), HF_HUB_OFFLINE="1")
        cmd = [
            sys.executable,
            "-m",
            "ecoagent",
            *(["-c", str(config)] if config else []),
            "serve",
            "--port",
            "0",
            *extra,
        ]
        self.log = home.parent / f"{home.name}.log"  # its stderr: a pipe nobody reads would fill and stall it
        home.mkdir(parents=True, exist_ok=True)
        self._err = self.log.open("w")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self._err, text=True, env=env)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if "listening on" not in line:
            raise RuntimeError(f"the server did not start: {line} {self.log.read_text()}")
        self.url = line.split("listening on ")[1].split()[0]

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(60)
        self._err.close()
        errors = [line for line in self.log.read_text().splitlines() if " ERROR " in line]
        if errors:
            print(f"   server log: {len(errors)} error line(s), first: {errors[0][:300]}")
        return code


def throughput(
    url: str, concurrency: int, total: int, body: dict[str, Any], path: str = "/v1/chat/completions"
) -> tuple[float, int]:
    """Requests/s and non-200 answers: wrk (a C load generator, in a process of its own)
    when installed, else an async httpx client in this process (which saturates first)."""
    if shutil.which("wrk"):
        import re

        script = Path(tempfile.mkdtemp()) / "post.lua"
        script.write_text(
            f"wrk.method = 'POST'\nwrk.body = [[{json.dumps(body)}]]\n"
            "wrk.headers['Content-Type'] = 'application/json'\n"
        )
        done = subprocess.run(
            ["wrk", f"-t{min(2, concurrency)}", f"-c{concurrency}", "-d8s", "-s", str(script), url + path],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        rate = float(re.search(r"Requests/sec:\s+([\d.]+)", done).group(1))  # type: ignore[union-attr]
        bad = re.search(r"Non-2xx or 3xx responses: (\d+)", done)
        return rate, int(bad.group(1)) if bad else 0
    return asyncio.run(_throughput(url, concurrency, total, body, path))


async def _throughput(
    url: str, concurrency: int, total: int, body: dict[str, Any], path: str = "/v1/chat/completions"
) -> tuple[float, int]:
    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=concurrency)) as http:
        queue = list(range(total))
        errors = 0

        async def worker() -> None:
            nonlocal errors
            while queue:
                queue.pop()
                r = await http.post(url + path, json=body)
                errors += r.status_code != 200

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return total / (time.perf_counter() - t0), errors


def hits(total: int, work: Path) -> dict[int, float]:
    config = write_scripted_config(work, {"instant": [CODE] * 10}, sandbox_timeout_s=10, judge="auto")
    config.write_text(config.read_text() + "[serve]\nqueue = 256\n")
    server = ServeProcess(work / "hits-home", config)
    body = {"model": "ecoagent", "messages": [{"role": "user", "content": "What is 17 * 23?"}]}
    first = httpx.post(server.url + "/v1/chat/completions", json=body, timeout=120).json()
    assert first["ecoagent"]["resolved"], first
    client = "wrk, 8 s per level" if shutil.which("wrk") else f"async httpx in this process, {total} requests per level"
    print(f"2. exact-hit throughput (a real `ecoagent serve` process, scripted ladder; load from {client})")
    out = {}
    for c in (1, 8, 32):
        rate, errors = throughput(server.url, c, total, body)
        out[c] = rate
        print(f"   concurrency {c:>2}: {rate:7.1f} requests/s  ({errors} errors)")
    server.stop()
    return out


# ---- 3. mixed load on the bundled model ------------------------------------------------------
SEEDS = {  # seed question -> (its answer, a paraphrase the replay guard accepts: same numbers, names, choices)
    "Write Python code to print 17 * 23.": ("391", "Please write Python code to print 17 * 23."),
    "Use Python to print the sum of 2 and 3.": ("5", "With Python, print the sum of 2 and 3."),
    "Write Python code that prints the number 42.": ("42", "Write Python code which prints the number 42."),
    "Print 12 * 12 with Python code.": ("144", "Print 12 * 12 using Python code."),
    "Write Python code to print the length of the string 'ecoagent'.": (
        "8",
        "Please write Python code to print the length of the string 'ecoagent'.",
    ),
    "Use Python to print 2 ** 10.": ("1024", "With Python, print 2 ** 10."),
}


async def _one(http: httpx.AsyncClient, url: str, kind: str, text: str, out: dict[str, Any]) -> None:
    body = {"model": "ecoagent", "messages": [{"role": "user", "content": text}]}
    t0 = time.perf_counter()
    if kind == "hang-up":
        body["stream"] = True
        async with http.stream("POST", url + "/v1/chat/completions", json=body) as r:
            if r.status_code != 200:
                out["statuses"].append(r.status_code)
                return
            out["accepted"].append(r.headers["x-ecoagent-run-id"])
            out["hung_up"].append(r.headers["x-ecoagent-run-id"])
            async for line in r.aiter_lines():
                if '"event"' in line:
                    break  # the first progress chunk: hang up (queued for a model, or on one)
        out["statuses"].append(200)
        return
    r = await http.post(url + "/v1/chat/completions", json=body)
    out["statuses"].append(r.status_code)
    if r.status_code == 200:
        data = r.json()["ecoagent"]
        out["accepted"].append(data["run_id"])
        answered = data["answered_by"] or "unresolved"
        label = "exact hit" if answered == "exact" else "replay" if answered == "replay" else "miss (ladder)"
        out["latency"].setdefault(label, []).append(time.perf_counter() - t0)
    elif r.status_code != 503:
        out["errors"].append(f"{r.status_code}: {r.text[:200]}")


def mixed(total: int, work: Path, arrival_s: float) -> None:
    import random

    home = work / "mixed-home"
    os.environ["ECOAGENT_RUN__MAX_TURNS"] = (
        "4"  # a miss on the 135M model: at most 2 code blocks, as in the README's main job
    )
    server = ServeProcess(home, None, "--concurrency", "2")
    del os.environ["ECOAGENT_RUN__MAX_TURNS"]
    url = server.url
    cached, banked = [], []
    with httpx.Client(timeout=600) as http:
        for text, (answer, _) in SEEDS.items():  # misses on the bundled model first, judged by their answers
            data = http.post(
                url + "/v1/chat/completions",
                json={"model": "ecoagent", "expected": answer, "messages": [{"role": "user", "content": text}]},
            ).json()
            if data["ecoagent"]["resolved"]:
                cached.append(text)  # its answer was right: an exact repeat is served from the cache
            fb = http.post(url + "/v1/feedback", json={"run_id": data["ecoagent"]["run_id"], "good": True}).json()
            if fb.get("solution_id"):
                banked.append(text)  # its paraphrase can be replayed (if the code re-runs to the same output)
    rnd = random.Random(7)
    plan: list[tuple[str, str]] = []
    for i in range(total):
        roll = rnd.random()
        if roll < 0.60 and cached:
            plan.append(("hit", rnd.choice(cached)))
        elif roll < 0.85 and banked:
            plan.append(("replay", SEEDS[rnd.choice(banked)][1]))
        elif roll < 0.93:
            plan.append(("miss", f"Write Python code to print {rnd.randint(2, 99)} * {rnd.randint(2, 99)} plus {i}."))
        else:
            plan.append(("hang-up", f"Write Python code to print {rnd.randint(100, 999)} - {i}."))
    out: dict[str, Any] = {"statuses": [], "accepted": [], "hung_up": [], "latency": {}, "errors": []}

    async def drive() -> None:
        async with httpx.AsyncClient(timeout=900, limits=httpx.Limits(max_connections=400)) as http:
            tasks = []
            for kind, text in plan:
                tasks.append(asyncio.create_task(_one(http, url, kind, text, out)))
                await asyncio.sleep(arrival_s)
            await asyncio.gather(*tasks)

    t0 = time.perf_counter()
    asyncio.run(drive())
    wall = time.perf_counter() - t0
    time.sleep(6)  # hung-up queries finish cancelling
    runs = httpx.get(url + "/v1/runs?limit=1000", timeout=60).json()["data"]
    server.stop()
    logged: dict[str, dict[str, Any]] = {r["run_id"]: r for r in runs}
    accepted = out["accepted"]
    missing = [r for r in accepted if r not in logged]
    twice = len(accepted) - len(set(accepted))
    statuses = out["statuses"]
    kinds = {k: sum(1 for p, _ in plan if p == k) for k in ("hit", "replay", "miss", "hang-up")}
    print(
        f"3. mixed load on the bundled model: {total} requests in {wall:.0f} s; of {len(SEEDS)} seed questions run first, "
        f"{len(cached)} were accepted (exact hits after) and {len(banked)} banked by a thumbs-up (replays after)"
    )
    print(f"   planned: {kinds}, one arrival every {arrival_s * 1000:.0f} ms")
    print(
        f"   200: {statuses.count(200)}, 503 (intended, beyond the queue): {statuses.count(503)}, "
        f"other errors: {len(out['errors'])}{' ' + str(out['errors'][:3]) if out['errors'] else ''}"
    )
    print(
        f"   accepted requests in the run log exactly once: {len(accepted) - len(missing) - twice}/{len(accepted)} "
        f"(missing {len(missing)}, duplicated {twice}; run log holds {len(logged)} runs incl. {len(SEEDS)} seeds)"
    )
    cancelled = sum(1 for r in out["hung_up"] if logged.get(r, {}).get("cancelled"))
    print(
        f"   hung up mid-stream: {len(out['hung_up'])}, logged cancelled: {cancelled}, finished before the hang-up: "
        f"{sum(1 for r in out['hung_up'] if r in logged and not logged[r]['cancelled'])}"
    )
    for label, values in sorted(out["latency"].items()):
        print(f"   {label:<14} {ms(values)}")


# ---- 4. kill -9 ----------------------------------------------------------------------------------
def crash(work: Path) -> None:
    (work / "crash").mkdir()
    config = write_scripted_config(work / "crash", {"instant": [CODE] * 1000}, sandbox_timeout_s=10)
    home = work / "crash-home"
    server = ServeProcess(home, config)
    acked_runs: list[str] = []
    acked_feedback: list[tuple[str, str]] = []

    async def load() -> None:
        async with httpx.AsyncClient(timeout=30) as http:

            async def one(i: int) -> None:
                try:
                    r = await http.post(
                        server.url + "/v1/chat/completions",
                        json={"model": "ecoagent", "messages": [{"role": "user", "content": f"What is 17 * {i}?"}]},
                    )
                    if r.status_code != 200:
                        return
                    run_id = r.json()["ecoagent"]["run_id"]
                    acked_runs.append(run_id)
                    f = await http.post(server.url + "/v1/feedback", json={"run_id": run_id, "good": True})
                    if f.status_code == 200 and f.json()["solution_id"]:
                        acked_feedback.append((run_id, f.json()["solution_id"]))
                except httpx.HTTPError:
                    pass  # the server died under this request: nothing was acknowledged

            tasks = [asyncio.create_task(one(i)) for i in range(200)]
            await asyncio.sleep(8.0)
            server.proc.send_signal(signal.SIGKILL)
            await asyncio.gather(*tasks)

    asyncio.run(load())
    server.proc.wait(10)
    from ecoagent.bank import SolutionBank
    from ecoagent.config import BankSettings
    from ecoagent.runlog import RunLog

    log = RunLog(home / "data" / "runs.sqlite3")
    bank = SolutionBank(BankSettings(path=home / "data" / "bank"))
    runs_ok = sum(log.get(r) is not None for r in acked_runs)
    fb_ok = sum(bool(log.feedback(r)) and bank.get(s) is not None for r, s in acked_feedback)
    print(
        f"4. kill -9 during load: {len(acked_runs)} answered runs, {runs_ok} in the run log; "
        f"{len(acked_feedback)} acknowledged thumbs-ups, {fb_ok} in the run log with their solution banked"
    )
    bank.close()
    log.close()


# ---- 5. LiteLLM's proxy -----------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(url: str, seconds: float = 180) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(0.5)
    raise RuntimeError(f"{url} did not come up")


def litellm(total: int, ours: dict[int, float], work: Path, binary: str | None) -> None:
    binary = binary or shutil.which("litellm", path=str(Path(sys.executable).parent))
    if binary is None:
        print(
            "5. LiteLLM proxy: not installed here (pip install 'litellm[proxy]', or --litellm-bin PATH); no comparison measured"
        )
        return
    from ecoagent.bundled import smollm2_path

    llama_port, proxy_port = _free_port(), _free_port()
    llama = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(smollm2_path()),
            "--host",
            "127.0.0.1",
            "--port",
            str(llama_port),
            "--model_alias",
            "smollm2",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    cfg = work / "litellm.yaml"
    cfg.write_text(
        f"model_list:\n  - model_name: smollm2\n    litellm_params:\n      model: openai/smollm2\n"
        f"      api_base: http://127.0.0.1:{llama_port}/v1\n      api_key: none\n"
        "litellm_settings:\n  cache: true\n  cache_params:\n    type: local\n"
    )
    env = dict(
        os.environ,
        LITELLM_LOCAL_MODEL_COST_MAP="True",  # offline: its bundled price map
        LITELLM_DANGEROUSLY_PERMIT_WEAK_OR_UNSET_MASTER_KEY="true",
    )  # loopback only, as ecoagent's keyless mode
    proxy = subprocess.Popen(
        [binary, "--config", str(cfg), "--host", "127.0.0.1", "--port", str(proxy_port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        _wait(f"http://127.0.0.1:{llama_port}/v1/models")
        _wait(f"http://127.0.0.1:{proxy_port}/health/liveliness")
        url = f"http://127.0.0.1:{proxy_port}"
        body = {"model": "smollm2", "messages": [{"role": "user", "content": "What is 17 * 23?"}], "max_tokens": 16}
        httpx.post(url + "/v1/chat/completions", json=body, timeout=120)
        print("5. LiteLLM proxy (local cache) in front of llama.cpp's server on SmolLM2, exact hits:")
        for c in (1, 8, 32):
            rate, errors = throughput(url, c, total, body)
            ratio = ours.get(c, float("nan")) / rate if rate else float("nan")
            print(f"   concurrency {c:>2}: {rate:7.1f} requests/s ({errors} errors); ecoagent / LiteLLM = {ratio:.2f}x")
    finally:
        proxy.terminate()
        llama.terminate()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--overhead", type=int, default=200)
    parser.add_argument("--hits", type=int, default=600)
    parser.add_argument("--mixed", type=int, default=300)
    parser.add_argument(
        "--arrivals",
        type=float,
        nargs="+",
        default=[0.2, 0.05],
        help="Seconds between arrivals of the mixed load, one run each (the second overloads: 503s).",
    )
    parser.add_argument("--litellm", action="store_true", help="Also measure LiteLLM's proxy (needs litellm[proxy]).")
    parser.add_argument("--litellm-bin", default=None, help="The litellm command, e.g. from a venv of its own.")
    parser.add_argument("--only", nargs="*", default=None, help="overhead hits mixed crash litellm")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    parts = set(args.only or ["overhead", "hits", "mixed", "crash"] + (["litellm"] if args.litellm else []))
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp:
        work = Path(tmp)
        os.environ["ECOAGENT_HOME"] = str(work / "home")
        ours: dict[int, float] = {}
        if "overhead" in parts:
            overhead(args.overhead, work)
        if "hits" in parts:
            ours = hits(args.hits, work)
        if "mixed" in parts:
            for arrival in args.arrivals:
                mixed(args.mixed, work / f"a{arrival}", arrival)
        if "crash" in parts:
            crash(work)
        if "litellm" in parts:
            if not ours:
                ours = hits(args.hits, work)
            litellm(args.hits, ours, work, args.litellm_bin)
    print(json.dumps({"exact_hit_rps": ours}))


if __name__ == "__main__":
    main()
