"""Seconds per training step with the vocabulary projected everywhere, or only where a learned token follows.

``ecoagent finetune train`` computes its loss on the assistant's turns only, so the logits
of every other position are thrown away. Projecting only the positions whose next token
is learned (``logits_to_keep``) gives the same loss for less work; how much less depends on
the vocabulary's size against the transformer's (SmolLM2: 49k entries, Gemma 3: 262k).
Both ways run on the same batches in the same process, one step each in turn (forward,
backward, no optimiser step, so the weights never change), and the median of the steps
is printed with the ratio and the largest difference between the two losses.

Usage: .venv/bin/python benchmarks/bench_loss_projection.py DATA.jsonl [--base GGUF ...] [--steps 8]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", type=Path, help="A chat JSONL, e.g. the train.jsonl bench_finetune.py exports.")
    parser.add_argument(
        "--base", action="append", default=None, help="bundled:smollm2 (default) or a GGUF path; repeat."
    )
    parser.add_argument("--steps", type=int, default=8, help="Batches timed each way.")
    parser.add_argument("--batch-size", type=int, default=4)
    args = parser.parse_args()

    import torch
    from peft import LoraConfig, get_peft_model

    from ecoagent.compress.lingua import load_compressor_model
    from ecoagent.finetune import TrainConfig, load_examples, tokenize
    from ecoagent.finetune.train import TARGET_MODULES, _loss, _tensors, cpu_has_bf16
    from ecoagent.models.llama import llama_model_path

    torch.set_num_threads(max(1, len(os.sched_getaffinity(0))))
    config = TrainConfig()  # training's own LoRA settings and truncation, so the steps are the ones it takes
    examples = [e for e in load_examples(args.data)[0] if e.split == "train"]
    print(
        f"{args.data}: {len(examples)} training examples; {args.steps} batches of {args.batch_size}; "
        f"bf16 autocast: {'yes' if cpu_has_bf16() else 'no'}; {len(os.sched_getaffinity(0))} CPU(s)"
    )
    print(
        f"{'base':<34} {'vocab':>7} {'learned':>8} {'full s/step':>11} {'kept s/step':>11} {'ratio':>6} {'max |Δloss|':>11}"
    )
    for base in args.base or ["bundled:smollm2"]:
        model, tokenizer = load_compressor_model(llama_model_path(base), dtype="float32")
        lora = LoraConfig(
            r=config.rank,
            lora_alpha=config.alpha,
            lora_dropout=0.0,
            target_modules=list(TARGET_MODULES),
            task_type="CAUSAL_LM",
        )
        peft_model = get_peft_model(model, lora)
        tokens = [tokenize(e, tokenizer, config.max_tokens) for e in examples]
        batches = [
            _tensors(tokens[i : i + args.batch_size]) for i in range(0, args.batch_size * args.steps, args.batch_size)
        ]
        _loss(peft_model, batches[0]).backward()  # warm-up, untimed: the first step pays for allocations
        peft_model.zero_grad(set_to_none=True)
        timings: dict[str, list[float]] = {"full": [], "kept": []}
        worst, learned, total = 0.0, 0, 0
        for batch in batches:
            losses = {}
            for way in ("full", "kept"):
                t0 = time.perf_counter()
                with torch.autocast("cpu", dtype=torch.bfloat16, enabled=cpu_has_bf16()):
                    loss = peft_model(**batch).loss if way == "full" else _loss(peft_model, batch)
                loss.backward()
                timings[way].append(time.perf_counter() - t0)
                peft_model.zero_grad(set_to_none=True)
                losses[way] = loss.item()
            worst = max(worst, abs(losses["full"] - losses["kept"]))
            learned += int((batch["labels"] != -100).sum())
            total += int(batch["attention_mask"].sum())
        full, kept = statistics.median(timings["full"]), statistics.median(timings["kept"])
        print(
            f"{Path(base).name:<34} {model.config.vocab_size:>7} {learned / total:>7.0%} {full:>11.2f} {kept:>11.2f} "
            f"{full / kept:>5.2f}× {worst:>11.5f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
