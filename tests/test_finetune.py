"""Fine-tuning data: which runs are exported, how turns are weighted, what is scrubbed,
how the file is read back and masked; adapters on rungs and bench strategies.

Docker-free; the run log is a real SQLite file, de-duplication uses the real MiniLM
embeddings, and masking uses the bundled model's real tokenizer.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ecoagent.bench.strategies import Strategy
from ecoagent.cli import app
from ecoagent.config import Rung
from ecoagent.embed import Embedder
from ecoagent.errors import EcoagentError
from ecoagent.finetune import (
    REDACTED,
    ExportFilter,
    conversation,
    export_examples,
    load_examples,
    resolve_adapter,
    scrub_secrets,
    tokenize,
    write_examples,
)
from ecoagent.finetune.convert import write_base_config
from ecoagent.finetune.registry import Adapter, adapters_root
from ecoagent.records import Execution, Message, RungAttempt, RunRecord, Verdict
from ecoagent.runlog import RunLog

runner = CliRunner()
NO_CODE = "No code blocks found in the thread. Please provide at least one markdown-encoded code block to execute."
T0 = datetime(2026, 11, 1, tzinfo=UTC)


def record(
    query: str,
    *,
    ok: bool = True,
    judge: str = "expected",
    rung: str = "gpt",
    hours: int = 0,
    feedback: str | None = None,
    failed_first: bool = False,
    code: str = "print(391)",
) -> RunRecord:
    """A run whose rung wrote code that printed 391 (after one crash if ``failed_first``)."""
    messages = [Message(source="user", content=query)]
    executions = []
    if failed_first:
        messages += [
            Message(source="assistant", content="```python\nprint(undefined)\n```"),
            Message(
                source="executor", content="The script ran, then exited with an error (POSIX exit code: 1)\nNameError"
            ),
        ]
        executions.append(Execution(code="print(undefined)", language="python", exit_code=1, output="NameError"))
    messages += [
        Message(source="assistant", content=f"```python\n{code}\n```"),
        Message(source="executor", content="391\n"),
        Message(source="assistant", content="The answer is 391. TERMINATE"),
    ]
    executions.append(Execution(code=code, language="python", exit_code=0, output="391\n"))
    attempt = RungAttempt(
        rung=rung, messages=messages, executions=executions, verdict=Verdict(ok=ok, judge=judge, reason="")
    )
    return RunRecord(
        query=query,
        attempts=[attempt],
        resolved=ok,
        final_rung=rung if ok else None,
        created_at=T0 + timedelta(hours=hours),
        feedback=feedback,
    )


@pytest.fixture(scope="module")
def embed():  # type: ignore[no-untyped-def]
    return Embedder().vectors


def test_turn_weights_learn_the_fix_not_the_crash() -> None:
    messages = conversation(record("q", failed_first=True).attempts[0], "SYSTEM")
    assert messages is not None
    assert [(m["role"], m.get("weight")) for m in messages] == [
        ("system", None),
        ("user", None),
        ("assistant", 0),
        ("user", None),
        ("assistant", 1),
        ("user", None),
        ("assistant", 1),
    ]
    assert messages[0]["content"] == "SYSTEM"


def test_a_turn_without_code_before_success_is_context_and_trailing_output_is_dropped() -> None:
    attempt = RungAttempt(
        rung="r",
        messages=[
            Message(source="user", content="q"),
            Message(source="assistant", content="Let me think."),
            Message(source="executor", content=NO_CODE),
            Message(source="assistant", content="```python\nprint(1)\n```"),
            Message(source="executor", content="1\n"),
        ],
        executions=[Execution(code="print(1)", language="python", exit_code=0, output="1\n")],
    )
    messages = conversation(attempt, "S")
    assert messages is not None
    assert [m.get("weight") for m in messages if m["role"] == "assistant"] == [0, 1]
    assert messages[-1]["role"] == "assistant"


def test_messages_and_executions_that_disagree_are_not_exported() -> None:
    attempt = record("q").attempts[0]
    attempt.executions.append(Execution(code="x", language="python", exit_code=0, output="x"))
    assert conversation(attempt, "S") is None


def test_export_keeps_confirmed_runs_only(embed) -> None:  # type: ignore[no-untyped-def]
    records = [
        record("What is 17 times 23?", hours=0),  # expected check passed
        record("How many primes are below 100?", ok=False, hours=1),  # judge said no
        record("What is the factorial of 10?", ok=False, hours=2, feedback="good"),  # a person said yes anyway
        record("What is 2 to the power of 20?", hours=3, feedback="bad"),  # a person said no
        record("Sum the integers from 1 to 100.", judge="auto", hours=4),  # an automatic judge only
        record("How many days are in a leap year?", rung="smollm2", hours=5),
    ]
    report = export_examples(records, "S", embed, ExportFilter(test_fraction=0))
    queries = [e["metadata"]["query"] for e in report.examples]
    assert queries == ["What is 17 times 23?", "What is the factorial of 10?", "How many days are in a leap year?"]
    assert [e["metadata"]["judge"] for e in report.examples] == ["expected", "human", "expected"]
    assert report.skipped == {"not confirmed": 1, "thumbs-down": 1, "judge auto not selected": 1}
    since = (T0 + timedelta(hours=1)).replace(tzinfo=None)  # a date without a zone is UTC, like the records
    only = export_examples(records, "S", embed, ExportFilter(rungs=("gpt",), since=since, test_fraction=0))
    assert [e["metadata"]["query"] for e in only.examples] == ["What is the factorial of 10?"]
    assert only.skipped["another rung"] == 1 and only.skipped["outside the dates"] == 1
    with_auto = export_examples(
        records, "S", embed, ExportFilter(judges=("expected", "human", "auto"), test_fraction=0)
    )
    assert len(with_auto.examples) == 4


def test_near_duplicates_keep_the_newest_and_the_newest_share_is_held_out(embed) -> None:  # type: ignore[no-untyped-def]
    records = [
        record("What is 17 times 23?", hours=0, code="print(17 * 23)"),
        record("What is 17 times 23? Thanks!", hours=1, code="print(391)  # newer"),  # cosine 0.98 with the first
        record("Multiply 17 by 23.", hours=2),  # a paraphrase (0.80): kept
        *[
            record(q, hours=3 + i)
            for i, q in enumerate(
                [
                    "What is 2 to the power of 20?",
                    "How many days are in a leap year?",
                    "What is the factorial of 10?",
                    "Sum the integers from 1 to 100.",
                ]
            )
        ],
    ]
    report = export_examples(records, "S", embed, ExportFilter(test_fraction=0.4))
    queries = [e["metadata"]["query"] for e in report.examples]
    assert report.duplicates == 1 and "What is 17 times 23?" not in queries
    kept = next(e for e in report.examples if e["metadata"]["query"].startswith("What is 17 times 23?"))
    assert "# newer" in kept["messages"][2]["content"]
    assert [e["split"] for e in report.examples] == ["train"] * 3 + ["test"] * 3  # ceil(6 * 0.4), by time
    assert report.examples[-1]["metadata"]["query"] == "Sum the integers from 1 to 100."


def test_secrets_are_scrubbed_and_code_is_not() -> None:
    text = (
        'import os\nkey = os.environ["OPENAI_API_KEY"]\nclient = OpenAI(api_key="sk-proj-abcdefghijklmnop1234567890")\n'
        'url = "postgres://bob:hunter2@db:5432/app"\nheaders = {"Authorization": "Bearer abcdef0123456789abcdef"}\n'
        "AWS = 'AKIAIOSFODNN7EXAMPLE'\npassword = 'correct-horse-9'\nmax_tokens = 512\nprint(len(token_budget))"
    )
    clean, n = scrub_secrets(text, {"MY_SERVICE_TOKEN": "zz-private-value-42", "HOME": "/root"})
    assert n == 5
    for secret in ("sk-proj-abc", "hunter2", "abcdef0123456789abcdef", "AKIAIOSFODNN7EXAMPLE", "correct-horse-9"):
        assert secret not in clean
    assert 'os.environ["OPENAI_API_KEY"]' in clean and "max_tokens = 512" in clean and "token_budget" in clean
    assert "postgres://[REDACTED]@db:5432/app" in clean
    assert scrub_secrets("my value zz-private-value-42 leaked", {"MY_SERVICE_TOKEN": "zz-private-value-42"}) == (
        f"my value {REDACTED} leaked",
        1,
    )


def test_export_scrubs_what_it_writes(embed, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    leaky = record(
        "Call the API with key sk-abcdefghijklmnopqrstuvwx12 please",
        code='KEY = "sk-abcdefghijklmnopqrstuvwx12"\nprint(391)',
    )
    report = export_examples([leaky], "S", embed, ExportFilter(test_fraction=0))
    out = write_examples(report, tmp_path / "data.jsonl")[0]
    assert report.secrets == 2  # the query (in its message; the metadata copy is scrubbed too) and the code
    assert "sk-abc" not in out.read_text() and REDACTED in out.read_text()
    files = write_examples(report, tmp_path / "openai.jsonl", split_files=True)
    assert [p.name for p in files] == ["openai.train.jsonl", "openai.test.jsonl"]
    assert set(json.loads(files[0].read_text().splitlines()[0])) == {"messages"}


def test_the_file_read_back_names_bad_lines(tmp_path: Path) -> None:
    good = {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}], "split": "test"}
    path = tmp_path / "d.jsonl"
    path.write_text(
        "\n".join(
            [
                json.dumps(good),
                "{not json",
                json.dumps({"messages": [{"role": "robot", "content": "x"}]}),
                json.dumps({"messages": [{"role": "assistant", "content": "a", "weight": 0}]}),
            ]
        )
        + "\n"
    )
    examples, problems, digest = load_examples(path)
    assert [(e.line, e.split) for e in examples] == [(1, "test")]
    assert [p.split(": ", 1)[0] for p in problems] == [f"{path}:2", f"{path}:3", f"{path}:4"]
    assert "nothing to learn" in problems[2] and len(digest) == 16
    path.write_text("{not json\n")
    with pytest.raises(EcoagentError, match="no usable example") as info:
        load_examples(path)
    assert info.value.exit_code == 2


def test_loss_is_on_weighted_assistant_turns_only(tmp_path: Path) -> None:
    from ecoagent.compress.lingua import load_compressor_model

    _, tokenizer = load_compressor_model(dtype="float32")
    messages = conversation(record("What is 17 times 23?", failed_first=True).attempts[0], "Be brief.")
    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps({"messages": messages}) + "\n")
    example = load_examples(path)[0][0]
    tokens = tokenize(example, tokenizer, max_tokens=4096)
    learned = tokenizer.decode([t for t in tokens.labels if t != -100])
    # each learned turn: its text and the end-of-turn the template closes it with (the role header is not learned)
    assert learned == "```python\nprint(391)\n```<|im_end|>\nThe answer is 391. TERMINATE<|im_end|>\n"
    assert "undefined" not in learned and "17 times 23" not in learned
    cut = tokenize(example, tokenizer, max_tokens=20)
    assert cut.truncated and len(cut.input_ids) == 20


def test_a_strategy_puts_the_adapter_on_the_bottom_rung() -> None:
    local = Rung(name="smollm2", provider="llama-cpp", model="bundled:smollm2")
    paid = Rung(name="gpt", provider="openai", model="gpt-4o")
    rungs = Strategy(name="s", rungs="all", finetuned="smollm2-ft").ladder([local, paid])
    assert [(r.name, r.adapter) for r in rungs] == [("smollm2-ft", "smollm2-ft"), ("gpt", None)]
    with pytest.raises(EcoagentError, match="not a llama-cpp model"):
        Strategy(name="s", rungs="top", finetuned="smollm2-ft").ladder([local, paid])


def test_a_strategy_puts_the_adapter_on_the_model_it_was_trained_on(tmp_path: Path) -> None:
    # an adapter trained on another base (e.g. a Gemma GGUF) moves the bottom rung to that model
    folder = adapters_root() / "gemma-ft"
    folder.mkdir(parents=True)
    (folder / "adapter.gguf").write_bytes(b"GGUF")
    (folder / "manifest.json").write_text(json.dumps({"base": str(tmp_path / "gemma.gguf")}), encoding="utf-8")
    local = Rung(name="smollm2", provider="llama-cpp", model="bundled:smollm2")
    (rung,) = Strategy(name="s", rungs="bottom", finetuned="gemma-ft").ladder([local])
    assert (rung.name, rung.model, rung.adapter) == ("gemma-ft", str(tmp_path / "gemma.gguf"), "gemma-ft")
    # one not registered keeps the rung's model; building the rung then says it is missing
    (rung,) = Strategy(name="s", rungs="bottom", finetuned="nope").ladder([local])
    assert rung.model == "bundled:smollm2"


def test_the_converter_is_told_the_base_models_architecture(tmp_path: Path) -> None:
    # llama.cpp's converter picks its model class by `architectures`, which a model loaded from GGUF lacks
    for model_type, arch in (("llama", "LlamaForCausalLM"), ("gemma3_text", "Gemma3ForCausalLM")):
        folder = write_base_config(
            {"model_type": model_type, "quantization_config": {"quant_method": "gguf"}}, tmp_path / model_type
        )
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        assert config["architectures"] == [arch] and "quantization_config" not in config


def test_adapter_on_a_rung_is_checked(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="llama-cpp rungs only"):
        Rung(name="x", provider="openai", model="gpt-4o", adapter="smollm2-ft")
    with pytest.raises(EcoagentError, match="no fine-tuned adapter named 'nope'") as info:
        resolve_adapter("nope")
    assert "ecoagent finetune train" in (info.value.hint or "")
    gguf = tmp_path / "model.gguf"
    gguf.write_bytes(b"x" * 10)
    adapter = Adapter(
        "a", tmp_path / "adapter.gguf", {"base": "bundled:smollm2", "base_file": {"name": "other.gguf", "size": 5}}
    )
    with pytest.raises(EcoagentError, match="trained on other.gguf"):
        adapter.check_base(gguf)


def test_cli_export_says_why_nothing_was_exported(tmp_path: Path) -> None:
    log = RunLog(tmp_path / "runs.sqlite3")
    log.add(record("q", ok=False))
    log.close()
    result = runner.invoke(
        app, ["finetune", "export", "--log", str(tmp_path / "runs.sqlite3"), "--out", str(tmp_path / "o.jsonl")]
    )
    assert result.exit_code == 1
    assert (
        "no confirmed run to export among 1 (1 not confirmed)" in result.output
        and "feedback RUN_ID --good" in result.output
    )
    bad_date = runner.invoke(app, ["finetune", "export", "--since", "yesterday", "--out", str(tmp_path / "o.jsonl")])
    assert bad_date.exit_code == 2 and "YYYY-MM-DD" in bad_date.output
    missing = runner.invoke(app, ["finetune", "train", str(tmp_path / "none.jsonl")])
    assert missing.exit_code == 2 and "cannot read" in missing.output


def test_bench_refuses_a_missing_adapter_before_running_anything(tmp_path: Path) -> None:
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text(json.dumps({"id": "t", "query": "What is 17 * 23?", "expected": "391"}) + "\n")
    args = ["bench", str(tasks), "-s", "bottom-only", "-s", "bottom+finetuned", "--out", str(tmp_path / "out")]
    result = runner.invoke(app, args)
    assert result.exit_code == 1 and "no fine-tuned adapter named 'smollm2-ft'" in result.output
    assert not (tmp_path / "out" / "sequential" / "bottom-only").exists()  # bottom-only did not run first
    other = runner.invoke(app, [*args, "--adapter", "mine"])
    assert other.exit_code == 1 and "no fine-tuned adapter named 'mine'" in other.output
