"""The calibration the offline default ships (``agents/calibration/offline.json``): what its own
data says, recounted here from the exploration run kept in the repository, with its provenance."""

from __future__ import annotations

import asyncio
import hashlib
import importlib.util
import sys
from pathlib import Path

from ecoagent.config import JudgeSettings, LadderSettings
from ecoagent.judge import Calibration, load_calibration, rung_identity
from ecoagent.judge.evidence import shipped_calibration_file

ROOT = Path(__file__).resolve().parent.parent
EXPORT = ROOT / "benchmarks" / "results" / "trust-explore.jsonl.gz"


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
    for key in ("made_by", "rebuild", "data_sha256", "tasks", "families", "figures"):
        assert key in shipped.meta, key
    assert int(str(shipped.meta["tasks"])) > 0 and "bench_trust.py" in str(shipped.meta["rebuild"])
    # the user's calibration adds to it, for the same rungs
    assert load_calibration(JudgeSettings()).rungs.keys() == shipped.rungs.keys()


def test_the_shipped_calibration_is_what_its_exploration_run_says(tmp_path: Path) -> None:
    trust = bench_trust()
    shipped = Calibration.load(shipped_calibration_file())
    tasks_path = trust.task_file(tmp_path, 13)
    assert hashlib.sha256(tasks_path.read_bytes()).hexdigest() == shipped.meta["data_sha256"]
    loaded, probe = asyncio.run(trust.load(tmp_path / "no-run", tasks_path, kept=EXPORT, export=None))
    assert len(loaded) == shipped.meta["tasks"]
    recounted = asyncio.run(trust.calibration_of(loaded, LadderSettings().resolved(), probe))
    assert recounted.rungs == shipped.rungs


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
