"""The calibration the offline default ships (``agents/calibration/offline.json``): what its own
data says, recounted here from the exploration run kept in the repository, with its provenance."""

from __future__ import annotations

import asyncio
import hashlib
import importlib.util
import json
import sys
from pathlib import Path

from ecoagent.config import JudgeSettings, LadderSettings
from ecoagent.judge import Calibration, load_calibration, rung_identity
from ecoagent.judge.evidence import shipped_calibration_file

ROOT = Path(__file__).resolve().parent.parent
EXPORTS = ROOT / "benchmarks" / "results"


def bench_trust():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("bench_trust", ROOT / "benchmarks" / "bench_trust.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_the_shipped_calibration_covers_the_offline_rungs_and_says_how_it_was_made() -> None:
    shipped = Calibration.load(shipped_calibration_file())
    identities = {rung_identity(r) for r in LadderSettings().resolved()}
    assert identities <= set(shipped.rungs), "every offline rung has its own bins"
    parts = shipped.meta["parts"]
    assert isinstance(parts, dict) and "held-out" in parts
    for name, part in parts.items():
        for key in ("rebuild", "data_sha256", "tasks", "families", "figures", "rungs"):
            assert key in part, (name, key)
        assert int(part["tasks"]) > 0 and "bench_trust.py" in part["rebuild"] and f"--set {name}" in part["rebuild"]
    # the table is the sum of its parts
    total = Calibration()
    for part in parts.values():
        total = total.merged(Calibration.model_validate({"rungs": part["rungs"]}))
    assert total.rungs == shipped.rungs
    # the user's calibration adds to it, for the same rungs
    assert load_calibration(JudgeSettings()).rungs.keys() == shipped.rungs.keys()


def test_each_part_of_the_shipped_calibration_is_what_its_exploration_run_says(tmp_path: Path) -> None:
    trust = bench_trust()
    shipped = Calibration.load(shipped_calibration_file())
    parts = shipped.meta["parts"]
    assert isinstance(parts, dict)
    for name, part in parts.items():
        limit = int(part["tasks"]) if name == "humaneval" else None
        tasks_path = trust.tasks_file(name, tmp_path / name, limit=limit)
        assert hashlib.sha256(tasks_path.read_bytes()).hexdigest() == part["data_sha256"], name
        kept = EXPORTS / {"held-out": "trust-explore.jsonl.gz", "humaneval": "trust-humaneval.jsonl.gz"}[name]
        loaded, probe, _ = asyncio.run(trust.load(tmp_path / "no-run", tasks_path, kept=kept))
        assert len(loaded) == part["tasks"], name
        probe.executor_factory = None  # kept probe results only: the recount needs no sandbox
        recounted = asyncio.run(trust.calibration_of(loaded, LadderSettings().resolved(), probe))
        assert json.loads(recounted.model_dump_json())["rungs"] == part["rungs"], name


def test_doctor_says_which_rungs_are_calibrated(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from ecoagent.cli import app

    shown = CliRunner().invoke(app, ["doctor"], env={"COLUMNS": "400"})
    assert "calibrated: smollm2-eco, qwen-eco, qwen2.5-coder-0.5b" in shown.stdout
    ladder = tmp_path / "mine.toml"
    ladder.write_text('[[rungs]]\nname = "gpt"\nprovider = "openai"\nmodel = "gpt-4o"\n')
    config = tmp_path / "ecoagent.toml"
    config.write_text(f'[ladder]\npreset = "{ladder}"\n')
    mine = CliRunner().invoke(app, ["--config", str(config), "doctor"], env={"COLUMNS": "400"})
    assert "not calibrated: gpt" in mine.stdout and "ecoagent calibrate" in mine.stdout
