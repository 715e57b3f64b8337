"""The adapters the offline default ships (``agents/adapters/smollm2-eco`` on its bottom rung,
``agents/adapters/qwen-eco`` on the Qwen2.5-Coder rung above it), with the real parts: each
file matches its manifest, the default ladder applies it while ``offline-plain`` keeps
SmolLM2 as it comes, llama.cpp loads it on its own base model, and it changes what the model
writes, toward the protocol it was trained on (one code block first).
"""

from __future__ import annotations

import asyncio
from typing import NamedTuple

import pytest
from autogen_core.models import SystemMessage, UserMessage
from typer.testing import CliRunner

from ecoagent.cli import app
from ecoagent.cli.doctor import _shipped_adapters
from ecoagent.config import Rung, load_ladder_preset
from ecoagent.finetune import resolve_adapter, shipped_adapters, verify_adapter
from ecoagent.finetune.registry import file_sha256
from ecoagent.models.llama import llama_client, llama_model_path
from ecoagent.prompts import load_prompt

runner = CliRunner()
# a family neither adapter trained on (each manifest lists its held-out ones)
QUESTION = "What is the median of 7, 1, 9, 4 and 12?"


class Shipped(NamedTuple):
    name: str  # as a rung names it
    base: str  # the bundled model it was trained on
    rung: int  # its place on the offline default ladder
    measured: frozenset[str]  # the strategies its run measured on families training never saw
    by_form: frozenset[str]  # and on new tasks of the trained families; bottom-only is the plain base model


SHIPPED = [
    Shipped(
        "bundled:smollm2-eco",
        "bundled:smollm2",
        0,
        frozenset({"bottom-only", "bottom+finetuned"}),
        frozenset({"bottom-only", "bottom+finetuned"}),
    ),
    Shipped(
        "bundled:qwen-eco",
        "bundled:qwen2.5-coder-0.5b",
        1,
        frozenset({"bottom+finetuned", "bottom+demos+finetuned", "ladder"}),
        frozenset({"bottom-only", "bottom+finetuned"}),
    ),
]
by_name = pytest.mark.parametrize("shipped", SHIPPED, ids=[s.name.removeprefix("bundled:") for s in SHIPPED])


@by_name
def test_the_shipped_adapter_matches_its_manifest_and_records_how_it_was_made(shipped: Shipped) -> None:
    adapter = resolve_adapter(shipped.name)
    assert adapter.shipped and shipped.name in [a.name for a in shipped_adapters()]
    base = llama_model_path(shipped.base)
    assert adapter.base == shipped.base and verify_adapter(adapter, base) == []
    assert adapter.gguf.stat().st_size <= 20 * 1000 * 1000
    manifest = adapter.manifest
    assert manifest["adapter_sha256"] == file_sha256(adapter.gguf)
    assert manifest["base_file"]["sha256"] == file_sha256(base)
    teacher = manifest["teacher_set"]
    assert "bench_finetune.py" in manifest["rebuild"] and teacher["sha256"]
    held_out, trained = set(teacher["held_out_families"]), set(teacher["training_families"])
    assert held_out and trained and not held_out & trained
    saw = set(teacher["trained_families"])  # what reached training after export's split and near-duplicate filter
    assert saw and saw <= trained and saw | set(teacher["teacher_families_not_trained"]) == trained
    assert "median" in held_out  # so QUESTION below is a family training never saw
    results = manifest["results"]["strategies"]
    assert shipped.measured <= set(results)
    assert all(r["tasks"] > 0 and 0 <= r["solved"] <= r["tasks"] for r in results.values())
    by_form = manifest["results_by_form"]["strategies"]  # every adapter's figure comes with its by-form figure
    assert shipped.by_form <= set(by_form)
    assert all(r["tasks"] > 0 and 0 <= r["solved"] <= r["tasks"] for r in by_form.values())


def test_the_offline_default_applies_both_and_the_plain_model_stays_available_by_name() -> None:
    ladder = load_ladder_preset("offline")  # the adapted rungs, then Qwen2.5-Coder as it comes
    assert [(r.model, r.adapter) for r in ladder] == [
        *((s.base, s.name) for s in SHIPPED),
        ("bundled:qwen2.5-coder-0.5b", None),
    ]
    (plain,) = load_ladder_preset("offline-plain")
    assert plain.model == "bundled:smollm2" and plain.adapter is None


async def _reply(rung: Rung) -> str:
    client = llama_client(rung)
    result = await client.create(
        [SystemMessage(content=load_prompt("assistant")), UserMessage(content=QUESTION, source="user")]
    )
    return str(result.content)


@by_name
def test_llama_cpp_loads_it_and_it_changes_the_output_toward_one_code_block(shipped: Shipped) -> None:
    tuned = load_ladder_preset("offline")[shipped.rung].model_copy(update={"max_tokens": 256})
    plain = tuned.model_copy(update={"adapter": None})
    with_adapter, without = asyncio.run(_reply(tuned)), asyncio.run(_reply(plain))
    assert with_adapter != without
    assert with_adapter.count("```") == 2, with_adapter  # exactly one code block, as trained


def test_doctor_and_finetune_list_show_them() -> None:
    listed = runner.invoke(app, ["finetune", "list"], env={"COLUMNS": "200"})
    rows = {row.name: row for row in _shipped_adapters()}
    for shipped in SHIPPED:
        assert listed.exit_code == 0 and shipped.name in listed.output, listed.output
        assert rows[f"adapter {shipped.name}"].ok and "matches its manifest" in rows[f"adapter {shipped.name}"].detail
