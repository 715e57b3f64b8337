"""LoRA on the cheap rung's own model, on CPU, ending as a llama.cpp adapter.

transformers reads the rung's GGUF file (dequantized; cached as safetensors by
:func:`ecoagent.compress.lingua.load_compressor_model`), peft adds LoRA to the seven
linear projections of every layer (not the tied embedding/``lm_head``), and the loss
is taken on weighted assistant tokens only. The trained adapter is converted with
llama.cpp's own converter and applied by llama.cpp to the *quantized* base the rung
already runs, so the fine-tuned rung costs what the plain one costs.

Training is resumable: a checkpoint (adapter, optimizer, step, data digest) is
written every few steps and on Ctrl-C, and ``resume`` continues it on the same data,
in the same order. Held-out loss on the ``test`` split is measured before and after,
the number that says whether the adapter learned something that generalises.
"""

from __future__ import annotations

import json
import math
import os
import random
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import EcoagentError
from .convert import convert_adapter, write_base_config
from .data import Tokenized, load_examples, tokenize
from .registry import Adapter, adapter_dir, resolve_adapter

__all__ = ["TARGET_MODULES", "TrainConfig", "TrainResult", "cpu_has_bf16", "train_adapter"]

TARGET_MODULES = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


@dataclass(frozen=True)
class TrainConfig:
    """LoRA settings (defaults measured on SmolLM2-135M: see README 'Fine-tuning')."""

    epochs: float = 3.0
    max_steps: int | None = None
    batch_size: int = 4
    learning_rate: float = 3e-4
    rank: int = 16
    alpha: int = 32
    max_tokens: int = 1024
    seed: int = 0
    checkpoint_every: int = 10
    precision: str = "auto"
    """``bf16`` (autocast; the weights and the LoRA stay fp32), ``fp32``, or ``auto``:
    bf16 where the CPU has bf16 instructions (measured here: see docs/finetuning.md)."""
    group_by_length: bool = True
    """Batch examples of similar length, so a step computes little padding."""
    start_from: str | None = None
    """An adapter to continue from (``bundled:smollm2-eco``, a registered name or a
    GGUF path) instead of a zero LoRA; its rank must be ``rank``."""

    def __post_init__(self) -> None:
        if self.precision not in ("auto", "bf16", "fp32"):
            raise EcoagentError(f"unknown precision {self.precision!r}", "use bf16, fp32 or auto", exit_code=2)


@dataclass
class TrainResult:
    """What training made and measured."""

    adapter: Adapter
    steps: int
    seconds: float
    train_examples: int
    test_examples: int
    trained_tokens: int
    """Tokens that carry loss in one pass over the training split."""
    truncated: int
    losses: list[float] = field(default_factory=list)
    heldout_before: float | None = None
    heldout_after: float | None = None
    problems: list[str] = field(default_factory=list)


OnStart = Callable[[int, int, float], None]
"""(total steps, steps already done, estimated seconds left)."""
OnStep = Callable[[int, float], None]
"""(step just done, its loss)."""


def train_adapter(
    data: Path,
    name: str,
    config: TrainConfig = TrainConfig(),
    *,
    base: str = "bundled:smollm2",
    resume: bool = False,
    force: bool = False,
    on_start: OnStart | None = None,
    on_step: OnStep | None = None,
    snapshots: bool = False,
) -> TrainResult:
    """Train, convert and register the adapter ``name`` on ``data`` (a chat JSONL).

    ``snapshots``: also register the adapter as it is after each full epoch but the
    last, as ``<name>-e<k>`` (on the whole run's learning-rate schedule, so not what a
    ``k``-epoch training would make; what measures how the epochs help, for the cost of
    one training).

    Raises:
        EcoagentError: Bad data, an existing adapter (without ``force``), a checkpoint
            for other data, nothing to resume, or a failed conversion.
    """
    import torch

    from ..compress.lingua import load_compressor_model
    from ..models.llama import llama_model_path

    folder = adapter_dir(name)
    ckpt = folder / "checkpoint"
    if (folder / "adapter.gguf").exists() and not (force or resume):
        raise EcoagentError(
            f"an adapter named {name!r} already exists ({folder})",
            "pass --force to replace it, or choose another --name",
            exit_code=2,
        )
    if resume and not (ckpt / "state.pt").is_file():
        raise EcoagentError(
            f"nothing to resume for {name!r} (no checkpoint in {ckpt})", "start it without --resume", exit_code=2
        )
    examples, problems, digest = load_examples(data)
    base_path = llama_model_path(base)
    # the cores this process may run on (taskset, a container's cpuset), not the machine's count
    torch.set_num_threads(max(1, len(os.sched_getaffinity(0))))
    torch.manual_seed(config.seed)
    model, tokenizer = load_compressor_model(base_path, dtype="float32")
    if not getattr(tokenizer, "chat_template", None):  # llama.cpp would fall back to another format than training's
        raise EcoagentError(
            f"{base_path} has no chat template in its metadata, so training and llama.cpp cannot agree on "
            "how a conversation is written",
            "use an instruction-tuned GGUF, or add a template: gguf-new-metadata --chat-template "
            '"$(cat template.jinja)" IN.gguf OUT.gguf',
            exit_code=2,
        )
    model.train()
    tokens: dict[str, list[Tokenized]] = {"train": [], "test": []}
    for example in examples:
        try:
            tokens[example.split].append(tokenize(example, tokenizer, config.max_tokens))
        except ValueError as exc:
            problems.append(f"{data}:{example.line}: {exc}")
    train_set = [t for t in tokens["train"] if t.trained_tokens]
    if not train_set:
        raise EcoagentError(
            f"{data} has no training example (split 'train')", "export with a smaller --test-fraction", exit_code=2
        )
    per_epoch = math.ceil(len(train_set) / config.batch_size)
    total = config.max_steps or max(1, math.ceil(config.epochs * per_epoch))
    precision = _precision(config.precision)

    from peft import LoraConfig, get_peft_model, set_peft_model_state_dict

    lora = LoraConfig(
        r=config.rank,
        lora_alpha=config.alpha,
        lora_dropout=0.0,
        target_modules=list(TARGET_MODULES),
        task_type="CAUSAL_LM",
    )
    peft_model = get_peft_model(model, lora)
    if config.start_from and not resume:
        _load_start(peft_model, config, base_path, model.config)
    params = [p for p in peft_model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=config.learning_rate, weight_decay=0.0)
    step, losses, elapsed, heldout_before, timings = 0, [], 0.0, None, []
    if resume:
        state = torch.load(ckpt / "state.pt", weights_only=False)
        if state["digest"] != digest or state["config"] != asdict(config):
            raise EcoagentError(
                f"the checkpoint of {name!r} was made on other data or settings",
                "resume with the same file and options, or start over with --force",
                exit_code=2,
            )
        from safetensors.torch import load_file

        set_peft_model_state_dict(peft_model, load_file(str(ckpt / "adapter.safetensors")))
        optimizer.load_state_dict(state["optimizer"])
        step, losses, elapsed, heldout_before = (
            state["step"],
            state["losses"],
            state["elapsed"],
            state["heldout_before"],
        )
        timings = state.get("timings", [])
    else:
        # an adapter being replaced (--force) stays usable until the new one is converted
        shutil.rmtree(ckpt, ignore_errors=True)
        folder.mkdir(parents=True, exist_ok=True)
        heldout_before = _heldout_loss(peft_model, tokens["test"])  # the base model (or the adapter started from)
    schedule = _Schedule(config.learning_rate, total)

    def save_checkpoint() -> None:
        from peft import get_peft_model_state_dict
        from safetensors.torch import save_file

        ckpt.mkdir(parents=True, exist_ok=True)
        save_file(
            {k: v.contiguous() for k, v in get_peft_model_state_dict(peft_model).items()},
            str(ckpt / "adapter.safetensors"),
        )
        torch.save(
            {
                "step": step,
                "optimizer": optimizer.state_dict(),
                "losses": losses,
                "elapsed": elapsed,
                "digest": digest,
                "config": asdict(config),
                "heldout_before": heldout_before,
                "timings": timings,
            },
            ckpt / "state.pt.part",
        )
        (ckpt / "state.pt.part").replace(ckpt / "state.pt")

    trained_tokens = sum(t.trained_tokens for t in train_set)

    def write_adapter(target: Path, label: str, note: str = "") -> float | None:
        """Held-out loss, then the adapter converted and registered as ``label`` in ``target``."""
        heldout = _heldout_loss(peft_model, tokens["test"])
        peft_model.save_pretrained(str(target / "peft"))
        write_base_config(model.config.to_dict(), target / "base")
        convert_adapter(target / "peft", target / "base", target / "adapter.gguf.tmp")
        manifest = {
            "name": label,
            "base": base,
            "base_file": {"name": base_path.name, "size": base_path.stat().st_size},
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "data": str(data.resolve()),
            "data_digest": digest,
            "config": asdict(config),
            "precision": precision,
            "threads": torch.get_num_threads(),
            "steps": step,
            "train_seconds": round(elapsed, 1),
            "step_seconds": timings,
            "train_examples": len(train_set),
            "test_examples": len(tokens["test"]),
            "trained_tokens_per_epoch": trained_tokens,
            "loss_first": losses[0] if losses else None,
            "loss_last": losses[-1] if losses else None,
            "heldout_loss_before": heldout_before,
            "heldout_loss_after": heldout,
        }
        if note:
            manifest["note"] = note
        (target / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        (target / "adapter.gguf.tmp").replace(target / "adapter.gguf")
        return heldout

    started = step
    try:
        while step < total:
            t0 = time.monotonic()
            batch = _batch(train_set, step, config.batch_size, config.seed, config.group_by_length)
            for group in optimizer.param_groups:
                group["lr"] = schedule(step)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
                loss = _loss(peft_model, _tensors(batch))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            losses.append(round(loss.detach().item(), 5))
            took = time.monotonic() - t0
            elapsed += took
            timings.append(round(took, 3))
            if step == started + 1 and on_start is not None:
                on_start(total, started, took * (total - step))  # the first step, timed: the estimate
            if on_step is not None:
                on_step(step, losses[-1])
            if step % config.checkpoint_every == 0 and step < total:
                save_checkpoint()
            if snapshots and step % per_epoch == 0 and step < total:
                epoch = step // per_epoch
                label = f"{name}-e{epoch}"
                (snap := adapter_dir(label)).mkdir(parents=True, exist_ok=True)
                write_adapter(
                    snap, label, f"snapshot of {name} after epoch {epoch} of {total / per_epoch:g} (its schedule)"
                )
    except KeyboardInterrupt:
        save_checkpoint()
        raise EcoagentError(
            f"training of {name!r} interrupted at step {step}/{total}; checkpoint saved",
            f"continue it: ecoagent finetune train {data} --name {name} --resume",
        ) from None
    heldout_after = write_adapter(folder, name)
    shutil.rmtree(ckpt, ignore_errors=True)
    return TrainResult(
        adapter=resolve_adapter(name),
        steps=step,
        seconds=elapsed,
        train_examples=len(train_set),
        test_examples=len(tokens["test"]),
        trained_tokens=trained_tokens,
        truncated=sum(t.truncated for t in train_set),
        losses=losses,
        heldout_before=heldout_before,
        heldout_after=heldout_after,
        problems=problems,
    )


def _load_start(peft_model: Any, config: TrainConfig, base_path: Path, model_config: Any) -> None:
    """Put the weights of ``config.start_from`` into the fresh LoRA.

    Raises:
        EcoagentError: No such adapter, another base model, or another rank.
    """
    from peft import set_peft_model_state_dict

    from .convert import adapter_state_from_gguf

    start = resolve_adapter(str(config.start_from))
    start.check_base(base_path)
    peft_file = start.gguf.parent / "peft" / "adapter_model.safetensors"
    if peft_file.is_file() and not start.shipped:
        from safetensors.torch import load_file

        state: dict[str, Any] = dict(load_file(str(peft_file)))
        rank = int(next(v for k, v in state.items() if k.endswith("lora_A.weight")).shape[0])
    else:  # shipped adapters are GGUF only
        state, rank, _ = adapter_state_from_gguf(
            start.gguf, model_config.num_attention_heads, model_config.num_key_value_heads
        )
    if rank != config.rank:
        raise EcoagentError(
            f"{start.name} has rank {rank}, not {config.rank}",
            f"train with --rank {rank} to start from it",
            exit_code=2,
        )
    unexpected = list(getattr(set_peft_model_state_dict(peft_model, state), "unexpected_keys", None) or [])
    if unexpected:
        raise EcoagentError(
            f"{start.name} does not fit this model ({len(unexpected)} unknown tensors, e.g. {unexpected[0]})",
            "start from an adapter trained on this base model",
        )


class _Schedule:
    """Linear warm-up over the first 10% of steps, then linear decay to a tenth."""

    def __init__(self, peak: float, total: int) -> None:
        self.peak, self.total, self.warmup = peak, total, max(1, total // 10)

    def __call__(self, step: int) -> float:
        if step < self.warmup:
            return self.peak * (step + 1) / self.warmup
        left = (self.total - step) / max(1, self.total - self.warmup)
        return self.peak * (0.1 + 0.9 * max(0.0, left))


def _batch(data: Sequence[Tokenized], step: int, size: int, seed: int, by_length: bool = False) -> list[Tokenized]:
    """The examples of global step ``step``: epoch by epoch, each in its own seeded order,
    so a resumed run sees exactly what an uninterrupted one would have.

    ``by_length``: each window of ``_WINDOW`` batches in that order is sorted by length
    before it is cut into batches, and the batches are shuffled again, so a step pads
    to a neighbour's length instead of the longest example's while the order stays
    random at the scale of the epoch.
    """
    per_epoch = math.ceil(len(data) / size)
    epoch, index = divmod(step, per_epoch)
    rng = random.Random(seed * 1_000_003 + epoch)
    order = list(range(len(data)))
    rng.shuffle(order)
    if by_length:
        window = size * _WINDOW
        batches: list[list[int]] = []
        for start in range(0, len(order), window):
            chunk = sorted(order[start : start + window], key=lambda i: len(data[i].input_ids))
            batches += [chunk[k : k + size] for k in range(0, len(chunk), size)]
        rng.shuffle(batches)
        return [data[i] for i in batches[index]]
    return [data[i] for i in order[index * size : (index + 1) * size]]


_WINDOW = 16


def cpu_has_bf16() -> bool:
    """Whether this CPU has bf16 instructions (AVX512-BF16 or AMX), where autocast pays."""
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return any(flag in flags.split() for flag in ("avx512_bf16", "amx_bf16"))


def _precision(setting: str) -> str:
    if setting == "auto":
        return "bf16" if cpu_has_bf16() else "fp32"
    return setting


def _tensors(batch: Sequence[Tokenized]) -> dict[str, Any]:
    import torch

    width = max(len(t.input_ids) for t in batch)
    ids = torch.zeros((len(batch), width), dtype=torch.long)
    labels = torch.full((len(batch), width), -100, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    for row, t in enumerate(batch):
        n = len(t.input_ids)
        ids[row, :n] = torch.tensor(t.input_ids)
        labels[row, :n] = torch.tensor(t.labels)
        mask[row, :n] = 1
    return {"input_ids": ids, "labels": labels, "attention_mask": mask}


def _loss(model: Any, tensors: dict[str, Any]) -> Any:
    """Mean cross-entropy of the labelled tokens: the model's own loss, with the vocabulary
    projection made only at the positions whose next token is learned.

    A conversation's learned tokens (the assistant's turns) are a small part of it, and
    the projection onto the vocabulary is the largest single cost of a step when the
    vocabulary is large (Gemma 3's 262k entries outweigh its transformer layers)."""
    import torch

    targets = tensors["labels"][:, 1:]
    keep = (targets != -100).any(dim=0).nonzero().squeeze(1)  # positions any row learns from
    logits = model(input_ids=tensors["input_ids"], attention_mask=tensors["attention_mask"], logits_to_keep=keep).logits
    return torch.nn.functional.cross_entropy(
        logits.float().flatten(0, 1), targets[:, keep].flatten(), ignore_index=-100
    )


def _heldout_loss(model: Any, data: Sequence[Tokenized]) -> float | None:
    """Mean loss per trained token on held-out examples (None without any)."""
    import torch

    total, count = 0.0, 0
    with torch.no_grad():
        for t in data:
            if not t.trained_tokens:
                continue
            loss = _loss(model, _tensors([t]))
            total += loss.item() * t.trained_tokens
            count += t.trained_tokens
    return round(total / count, 5) if count else None
