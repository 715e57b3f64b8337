"""The whole fine-tuning path on a few examples and a few steps, with the real parts:
a real run log → ``ecoagent finetune export`` → ``ecoagent finetune train`` (peft on the
bundled SmolLM2, on CPU) → llama.cpp's converter → the adapter loaded by llama.cpp on
a rung → the output changes to the trained format. Then an interrupted training
resumes from its checkpoint and ends where an uninterrupted one does.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import pytest
import torch
from autogen_core.models import SystemMessage, UserMessage
from safetensors.torch import load_file
from typer.testing import CliRunner

from ecoagent.cli import app
from ecoagent.config import Rung
from ecoagent.errors import EcoagentError
from ecoagent.finetune import TrainConfig, list_adapters, train_adapter
from ecoagent.finetune.convert import adapter_state_from_gguf
from ecoagent.models.llama import llama_client
from ecoagent.prompts import load_prompt
from ecoagent.records import Execution, Message, RungAttempt, RunRecord, Verdict
from ecoagent.runlog import RunLog

runner = CliRunner()
PAIRS = [(3, 4), (12, 30), (7, 8), (25, 17), (9, 91), (60, 6)]


def confirmed(a: int, b: int) -> RunRecord:
    """A confirmed run in a distinctive format no base model writes: ZEBRA before the answer."""
    code = f"print('ZEBRA', {a} + {b})"
    attempt = RungAttempt(
        rung="teacher",
        messages=[
            Message(source="user", content=f"What is {a} plus {b}?"),
            Message(source="assistant", content=f"ZEBRA\n```python\n{code}\n```"),
            Message(source="executor", content=f"ZEBRA {a + b}\n"),
            Message(source="assistant", content=f"ZEBRA {a + b}. TERMINATE"),
        ],
        executions=[Execution(code=code, language="python", exit_code=0, output=f"ZEBRA {a + b}\n")],
        verdict=Verdict(ok=True, judge="expected", reason=""),
    )
    return RunRecord(query=f"What is {a} plus {b}?", attempts=[attempt], resolved=True, final_rung="teacher")


async def _reply(rung: Rung, question: str) -> str:
    client = llama_client(rung)
    result = await client.create(
        [SystemMessage(content=load_prompt("assistant")), UserMessage(content=question, source="user")]
    )
    return str(result.content)


def test_export_train_convert_load_changes_the_output(tmp_path: Path) -> None:
    log = RunLog(tmp_path / "runs.sqlite3")
    for a, b in PAIRS:
        log.add(confirmed(a, b))
    log.close()
    data = tmp_path / "train.jsonl"
    exported = runner.invoke(
        app,
        ["finetune", "export", "--log", str(tmp_path / "runs.sqlite3"), "--out", str(data), "--test-fraction", "0.2"],
    )
    assert exported.exit_code == 0, exported.output
    assert "exported 6 example(s) from 6 run(s): 4 train, 2 test" in exported.output
    trained = runner.invoke(
        app,
        [
            "finetune",
            "train",
            str(data),
            "--name",
            "tiny-ft",
            "--steps",
            "6",
            "--batch-size",
            "2",
            "--lr",
            "3e-3",
            "--rank",
            "8",
            "--max-tokens",
            "384",
        ],
    )
    assert trained.exit_code == 0, trained.output
    assert "estimate:" in trained.output and "trained tiny-ft: 6 steps on 4 examples" in trained.output
    assert 'adapter = "tiny-ft"' in trained.output
    (adapter,) = list_adapters()
    manifest = adapter.manifest
    assert adapter.gguf.stat().st_size > 100_000 and manifest["steps"] == 6 and manifest["test_examples"] == 2
    assert (
        manifest["heldout_loss_after"] < manifest["heldout_loss_before"]
    )  # learned what generalises to held-out queries
    listed = runner.invoke(app, ["finetune", "list"])
    assert "tiny-ft" in listed.output and "bundled:smollm2" in listed.output

    base = Rung(name="plain", provider="llama-cpp", model="bundled:smollm2", max_tokens=24)
    tuned = Rung(name="tuned", provider="llama-cpp", model="bundled:smollm2", adapter="tiny-ft", max_tokens=24)
    question = "What is 40 plus 2?"  # not in the training data
    plain_reply, tuned_reply = asyncio.run(_reply(base, question)), asyncio.run(_reply(tuned, question))
    assert "ZEBRA" not in plain_reply
    assert tuned_reply.startswith("ZEBRA") and tuned_reply != plain_reply

    # the GGUF read back is the PEFT adapter exactly (what lets training start from a shipped, GGUF-only adapter)
    config = json.loads((adapter.gguf.parent / "base" / "config.json").read_text())
    state, rank, alpha = adapter_state_from_gguf(
        adapter.gguf, config["num_attention_heads"], config["num_key_value_heads"]
    )
    peft = load_file(str(adapter.gguf.parent / "peft" / "adapter_model.safetensors"))
    assert (rank, alpha) == (8, 16.0) and state.keys() == peft.keys()
    assert all(torch.equal(peft[k], state[k]) for k in peft)  # type: ignore[arg-type]
    # and a training that starts from it starts where it ended: its held-out loss before is the adapter's after
    shutil.rmtree(adapter.gguf.parent / "peft")  # read from the GGUF, as for a shipped adapter
    again = runner.invoke(
        app,
        [
            "finetune",
            "train",
            str(data),
            "--name",
            "tiny-ft2",
            "--steps",
            "1",
            "--batch-size",
            "2",
            "--rank",
            "8",
            "--max-tokens",
            "384",
            "--from-adapter",
            str(adapter.gguf),
        ],
    )
    assert again.exit_code == 0, again.output
    second = next(a for a in list_adapters() if a.name == "tiny-ft2").manifest
    assert second["heldout_loss_before"] == pytest.approx(manifest["heldout_loss_after"], rel=1e-4)
    assert second["config"]["start_from"] == str(adapter.gguf)
    wrong = runner.invoke(
        app,
        [
            "finetune",
            "train",
            str(data),
            "--name",
            "tiny-ft3",
            "--steps",
            "1",
            "--rank",
            "4",
            "--from-adapter",
            "tiny-ft2",
        ],
    )
    assert wrong.exit_code == 2 and "has rank 8, not 4" in wrong.output and "--rank 8" in wrong.output


def test_an_interrupted_training_resumes_where_it_stopped(tmp_path: Path) -> None:
    data = tmp_path / "train.jsonl"
    rows = [
        {
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": f"What is {a} plus {b}?"},
                {"role": "assistant", "content": f"ZEBRA {a + b}"},
            ]
        }
        for a, b in PAIRS
    ]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    config = TrainConfig(max_steps=4, batch_size=2, learning_rate=3e-3, rank=4, alpha=8, checkpoint_every=100)
    whole = train_adapter(data, "whole", config)

    def stop_at_two(step: int, loss: float) -> None:
        if step == 2:
            raise KeyboardInterrupt

    with pytest.raises(EcoagentError, match="interrupted at step 2/4") as info:
        train_adapter(data, "resumed", config, on_step=stop_at_two)
    assert "--resume" in (info.value.hint or "")
    assert [a.name for a in list_adapters()] == ["whole"]  # an interrupted one is not usable yet
    resumed = train_adapter(data, "resumed", config, resume=True)
    assert resumed.steps == 4 and len(resumed.losses) == 4
    assert resumed.losses == pytest.approx(whole.losses, rel=1e-3)  # same data, same order, same optimizer state
    with pytest.raises(EcoagentError, match="already exists"):
        train_adapter(data, "whole", config)


def test_the_training_loss_is_the_models_own_on_the_learned_tokens(tmp_path: Path) -> None:
    # training projects onto the vocabulary only where a learned token follows: the same loss, less work
    from ecoagent.compress.lingua import load_compressor_model
    from ecoagent.finetune import load_examples, tokenize
    from ecoagent.finetune.train import _loss, _tensors

    data = tmp_path / "train.jsonl"
    rows = [
        {
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": f"What is {a} plus {b}?"},
                {"role": "assistant", "content": f"ZEBRA {a + b}"},
                {"role": "user", "content": "And doubled?"},
                {"role": "assistant", "content": f"ZEBRA {2 * (a + b)}"},
            ]
        }
        for a, b in PAIRS[:3]
    ]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    model, tokenizer = load_compressor_model(dtype="float32")
    tensors = _tensors(
        [tokenize(e, tokenizer, 384) for e in load_examples(data)[0]]
    )  # rows of different lengths, padded
    with torch.no_grad():
        assert _loss(model, tensors).item() == pytest.approx(model(**tensors).loss.item(), rel=1e-5)


def test_a_base_without_a_chat_template_is_refused_before_training(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a base GGUF (Gemma 3 270M's, say) carries no template: training and llama.cpp would write conversations differently
    import ecoagent.compress.lingua as lingua

    real = lingua.load_compressor_model

    def without_template(path: Path, dtype: str = "auto") -> tuple[object, object]:
        model, tokenizer = real(path, dtype=dtype)
        tokenizer.chat_template = None
        return model, tokenizer

    monkeypatch.setattr(lingua, "load_compressor_model", without_template)
    data = tmp_path / "train.jsonl"
    data.write_text(
        json.dumps({"messages": [{"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "4"}]}) + "\n"
    )
    with pytest.raises(EcoagentError, match="no chat template") as info:
        train_adapter(data, "no-template", TrainConfig(max_steps=1))
    assert info.value.exit_code == 2 and "gguf-new-metadata --chat-template" in (info.value.hint or "")
    assert list_adapters() == []
