"""The adapter the offline default ships (``agents/adapters/smollm2-eco``), with the real
parts: the file matches its manifest, the default ladder's bottom rung applies it while
``offline-plain`` keeps the model as it comes, llama.cpp loads it, and it changes what
the model writes, toward the protocol it was trained on (one code block first).
"""

from __future__ import annotations

import asyncio

from autogen_core.models import SystemMessage, UserMessage
from typer.testing import CliRunner

from ecoagent import bundled
from ecoagent.cli import app
from ecoagent.cli.doctor import _shipped_adapters
from ecoagent.config import Rung, load_ladder_preset
from ecoagent.finetune import resolve_adapter, shipped_adapters, verify_adapter
from ecoagent.finetune.registry import file_sha256
from ecoagent.models.llama import llama_client
from ecoagent.prompts import load_prompt

runner = CliRunner()
NAME = "bundled:smollm2-eco"
# a family the adapter never trained on (the manifest lists the held-out ones)
QUESTION = "What is the median of 7, 1, 9, 4 and 12?"


def test_the_shipped_adapter_matches_its_manifest_and_records_how_it_was_made() -> None:
    adapter = resolve_adapter(NAME)
    assert adapter.shipped and NAME in [a.name for a in shipped_adapters()]
    assert verify_adapter(adapter, bundled.smollm2_path()) == []
    assert adapter.gguf.stat().st_size <= 20 * 1000 * 1000
    manifest = adapter.manifest
    assert manifest["adapter_sha256"] == file_sha256(adapter.gguf)
    assert manifest["base_file"]["sha256"] == file_sha256(bundled.smollm2_path())
    teacher = manifest["teacher_set"]
    assert "bench_finetune.py" in manifest["rebuild"] and teacher["sha256"]
    held_out, trained = set(teacher["held_out_families"]), set(teacher["training_families"])
    assert held_out and trained and not held_out & trained
    saw = set(teacher["trained_families"])  # what reached training after export's split and near-duplicate filter
    assert saw and saw <= trained and saw | set(teacher["teacher_families_not_trained"]) == trained
    assert "median" in held_out  # so QUESTION below is a family training never saw
    results = manifest["results"]["strategies"]
    assert {"bottom-only", "bottom+finetuned"} <= set(results)
    assert all(r["tasks"] > 0 and 0 <= r["solved"] <= r["tasks"] for r in results.values())
    by_form = manifest["results_by_form"]["strategies"]  # every figure comes with its by-form figure
    assert {"bottom-only", "bottom+finetuned"} <= set(by_form)
    assert all(r["tasks"] > 0 and 0 <= r["solved"] <= r["tasks"] for r in by_form.values())


def test_the_offline_default_applies_it_and_the_plain_model_stays_available_by_name() -> None:
    bottom, _ = load_ladder_preset("offline")  # the adapter is the bottom rung; Qwen2.5-Coder is above it
    (plain,) = load_ladder_preset("offline-plain")
    assert bottom.adapter == NAME and bottom.model == plain.model == "bundled:smollm2"
    assert plain.adapter is None


async def _reply(rung: Rung) -> str:
    client = llama_client(rung)
    result = await client.create([SystemMessage(content=load_prompt("assistant")), UserMessage(content=QUESTION, source="user")])
    return str(result.content)


def test_llama_cpp_loads_it_and_it_changes_the_output_toward_one_code_block() -> None:
    tuned = load_ladder_preset("offline")[0]
    (plain,) = load_ladder_preset("offline-plain")
    with_adapter, without = asyncio.run(_reply(tuned)), asyncio.run(_reply(plain))
    assert with_adapter != without
    assert with_adapter.count("```") == 2, with_adapter  # exactly one code block, as trained


def test_doctor_and_finetune_list_show_it() -> None:
    listed = runner.invoke(app, ["finetune", "list"], env={"COLUMNS": "200"})
    assert listed.exit_code == 0 and NAME in listed.output, listed.output
    rows = {row.name: row for row in _shipped_adapters()}
    assert rows[f"adapter {NAME}"].ok and "matches its manifest" in rows[f"adapter {NAME}"].detail
