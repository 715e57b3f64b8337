"""Stress a batch on the bundled model: -j 4, a per-call timeout short enough to hit, Ctrl-C midway.

Issue: `ecoagent batch -j 2` on the offline default once died with a segmentation
fault. This runs, as separate `ecoagent` processes on the real bundled SmolLM2 and
the real sandbox:

1. a baseline: the rows with `-j 1` and the normal per-call timeout;
2. the stress: the same rows with `-j 4` and a per-call timeout that many calls
   exceed (each one kills the model's worker process mid-generation), interrupted
   with SIGINT after a third of the rows, then finished with `--resume`.

It checks that nothing crashed (no negative exit code), that every row is in `--out`
exactly once, and that every row whose calls did not time out has the same result
as in the baseline; and prints the figures.

    .venv/bin/python benchmarks/bench_batch_stress.py [--rows 40] [--timeout 1.0]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

ECOAGENT = str(Path(sys.executable).with_name("ecoagent"))
_THINGS = [
    "17 * 23",
    "the sum of the numbers from 1 to 100",
    "the string 'ecoagent' reversed",
    "2 ** 16",
    "the first 10 square numbers",
    "the prime numbers below 30",
    "the factorial of 10",
    "the length of 'hello world'",
    "the numbers from 1 to 5",
    "12 * 13",
    "the word 'ladder' in upper case",
    "the largest of 3, 9 and 4",
    "the square root of 144",
    "100 divided by 8",
    "the first 8 Fibonacci numbers",
    "7 * 8 * 9",
    "the sum of 1.5 and 2.25",
    "the string 'abc' repeated 3 times",
    "the number of vowels in 'sandbox'",
    "the current year minus 2000",
]


def write_queries(path: Path, rows: int) -> None:
    """``rows`` small coding queries; every tenth asks for a long story, which no short timeout survives."""
    lines = []
    for i in range(rows):
        if i % 10 == 5:
            lines.append(
                json.dumps({"id": f"q{i:02d}", "query": "Write a very long story about a dragon who learns to code."})
            )
            continue
        verb = ("Write Python code to print", "Use Python to print", "Print, with Python,")[i // len(_THINGS) % 3]
        lines.append(json.dumps({"id": f"q{i:02d}", "query": f"{verb} {_THINGS[i % len(_THINGS)]}."}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_config(path: Path, timeout_s: float | None) -> None:
    rung = 'name = "smollm2"\nprovider = "llama-cpp"\nmodel = "bundled:smollm2"\nmax_tokens = 256\n'
    if timeout_s is not None:
        rung += f"timeout_s = {timeout_s}\n"
    path.write_text(
        f"[run]\nmax_turns = 2\nretries = 1\nretry_backoff_s = 0\n\n[[ladder.rungs]]\n{rung}", encoding="utf-8"
    )


def batch(
    home: Path,
    cfg: Path,
    queries: Path,
    out: Path,
    jobs: int,
    *,
    resume: bool = False,
    interrupt_after: int | None = None,
) -> tuple[int, float, str]:
    """Run `ecoagent batch`; send SIGINT once ``interrupt_after`` rows are in ``out``."""
    args = [ECOAGENT, "--config", str(cfg), "batch", str(queries), "--out", str(out), "-j", str(jobs)]
    env = {**os.environ, "ECOAGENT_HOME": str(home), "NO_COLOR": "1", "HF_HUB_OFFLINE": "1"}
    started = time.monotonic()
    proc = subprocess.Popen(
        [*args, *(["--resume"] if resume else [])], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    if interrupt_after is not None:
        while proc.poll() is None and done_rows(out) < interrupt_after:
            time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
    output, _ = proc.communicate(timeout=1800)
    return proc.returncode, time.monotonic() - started, output


def done_rows(out: Path) -> int:
    try:
        return sum(1 for line in out.read_text(encoding="utf-8").splitlines() if line.strip())
    except FileNotFoundError:
        return 0


def results(out: Path) -> dict[str, dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for line in out.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        assert row["id"] not in rows, f"row {row['id']} is in {out} twice"
        rows[row["id"]] = row
    return rows


def stress(workdir: Path, rows: int = 40, jobs: int = 4, timeout_s: float = 1.0) -> dict[str, Any]:
    """Run baseline and stress; return the figures (raises AssertionError on a broken promise)."""
    queries = workdir / "queries.jsonl"
    write_queries(queries, rows)
    base_cfg, stress_cfg = workdir / "base.toml", workdir / "stress.toml"
    write_config(base_cfg, None)
    write_config(stress_cfg, timeout_s)

    base_out = workdir / "baseline.jsonl"
    rc, base_s, log = batch(workdir / "home-base", base_cfg, queries, base_out, 1)
    assert rc in (0, 1), f"baseline exited {rc}:\n{log[-2000:]}"

    out = workdir / "stress.jsonl"
    rc1, s1, log1 = batch(workdir / "home-stress", stress_cfg, queries, out, jobs, interrupt_after=max(1, rows // 3))
    assert rc1 == 130, f"the interrupted batch exited {rc1} (expected 130):\n{log1[-2000:]}"
    interrupted_at = done_rows(out)
    rc2, s2, log2 = batch(workdir / "home-stress", stress_cfg, queries, out, jobs, resume=True)
    assert rc2 in (0, 1), f"the resumed batch exited {rc2}:\n{log2[-2000:]}"
    assert "Segmentation fault" not in log1 + log2

    base, stressed = results(base_out), results(out)
    assert sorted(stressed) == sorted(base), "every row must be in --out exactly once"
    timed_out = sorted(i for i, r in stressed.items() if r.get("error") and "in time" in str(r["error"]))
    other_errors = sorted(i for i, r in stressed.items() if r.get("error") and i not in timed_out)
    compared = [i for i in base if i not in timed_out and not base[i].get("error")]

    def key(r: dict[str, Any]) -> tuple[Any, ...]:
        return r["resolved"], r["answer"], r["tokens"], r["turns"], (r.get("verdict") or {}).get("reason")

    differ = [i for i in compared if key(stressed[i]) != key(base[i])]
    assert not differ, f"rows whose calls did not time out differ from -j 1: {differ}"
    return {
        "rows": rows,
        "jobs": jobs,
        "timeout_s": timeout_s,
        "interrupted_after": interrupted_at,
        "timed_out_rows": len(timed_out),
        "other_error_rows": other_errors,
        "compared_rows": len(compared),
        "identical_rows": len(compared) - len(differ),
        "baseline_s": round(base_s, 1),
        "stress_s": round(s1 + s2, 1),
        "exit_codes": [rc1, rc2],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=40)
    parser.add_argument("--jobs", type=int, default=4)
    parser.add_argument("--timeout", type=float, default=1.0, help="per-call timeout of the stressed run (s)")
    args = parser.parse_args()
    with TemporaryDirectory(prefix="ecoagent-stress-") as tmp:
        figures = stress(Path(tmp), args.rows, args.jobs, args.timeout)
    print(
        f"rows {figures['rows']}, -j {figures['jobs']}, per-call timeout {figures['timeout_s']} s, "
        f"SIGINT after {figures['interrupted_after']} rows, exit codes {figures['exit_codes']} (130 = interrupted)"
    )
    print(f"rows whose calls timed out (recorded as errors): {figures['timed_out_rows']}")
    print(f"rows with other errors: {len(figures['other_error_rows'])} {figures['other_error_rows']}")
    print(
        f"rows identical to -j 1 (of those that did not time out): {figures['identical_rows']}/{figures['compared_rows']}"
    )
    print(f"wall time: baseline -j 1 {figures['baseline_s']} s; stressed run + resume {figures['stress_s']} s")
    print("no crash: every process exited normally; every row is in --out exactly once")


if __name__ == "__main__":
    main()
