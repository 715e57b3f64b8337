"""Batch stress on the real bundled model (a short version of benchmarks/bench_batch_stress.py).

-j 4, a per-call timeout that many calls exceed (each kills the model's worker
process mid-generation), SIGINT after a third of the rows, then --resume: no crash,
every row in --out once, and rows whose calls did not time out match -j 1.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

pytestmark = pytest.mark.docker

_SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_batch_stress.py"


def test_batch_survives_timeouts_concurrency_and_ctrl_c(tmp_path: Path, sandbox_image: str) -> None:
    spec = importlib.util.spec_from_file_location("bench_batch_stress", _SCRIPT)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    figures = bench.stress(tmp_path, rows=8, jobs=4, timeout_s=1.0)  # the fewest rows that still interrupt mid-run
    assert figures["exit_codes"][0] == 130 and figures["interrupted_after"] < 8
    assert figures["other_error_rows"] == []
    assert figures["timed_out_rows"] >= 1, "the long-story row cannot finish within the forced timeout"
    assert figures["timed_out_rows"] + figures["compared_rows"] == 8
    assert figures["identical_rows"] == figures["compared_rows"]
