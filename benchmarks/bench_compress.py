"""What LLMLingua compression does to the long-context task set, and what it costs.

For each task of ``benchmarks/tasks/longcontext.jsonl`` the context material is
compressed for the task's question, question-aware, as a compressing rung reads it.
Printed: cl100k tokens before and after and the ratio, per kind of material (prose
reports, price tables, service logs); compressor seconds per 1,000 input tokens
(medians); whether every fact the answer needs survived (each number of the task's
reference code that appears in the material is in the compressed text); and, as an **estimate** at list prices,
the input cost each compression saves per model call against the compressor's time.
``--dtypes`` instead compares the compressor LM in float32 and bfloat16 on the same
400 tokens: forward-pass time (median of 5) and how closely the per-token losses
LLMLingua ranks by agree.

    .venv/bin/python benchmarks/bench_compress.py [--rate 0.5] [--limit N] [--dtypes]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time
from collections import defaultdict
from pathlib import Path

from ecoagent.compress import Compressor
from ecoagent.compress.lingua import fast_bfloat16
from ecoagent.config import CompressSettings

TASKS = Path(__file__).parent / "tasks" / "longcontext.jsonl"
PRICES = {"gpt-4o-mini": 0.15, "gpt-4o": 2.50, "gpt-4.1": 2.00}  # USD per million input tokens (list prices)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=0.5)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--dtypes", action="store_true", help="Compare float32 and bfloat16 instead.")
    args = parser.parse_args()
    if args.dtypes:
        compare_dtypes()
        return
    tasks = [json.loads(line) for line in TASKS.read_text(encoding="utf-8").splitlines()][: args.limit]

    compressor = Compressor(CompressSettings(rate=args.rate))
    t0 = time.perf_counter()
    compressor.lingua  # noqa: B018 - load once; reported separately
    load_s = time.perf_counter() - t0
    print(
        f"compressor: bundled SmolLM2-135M via transformers, {'bfloat16' if fast_bfloat16() else 'float32'}, "
        f"loaded in {load_s:.1f} s; rate {args.rate}; question-aware (LongLLMLingua); {len(tasks)} tasks"
    )

    by_kind: dict[str, list[tuple[int, int, float, bool]]] = defaultdict(list)
    for task in tasks:
        result = compressor.compress(task["context"], task["query"])
        facts = [n for n in re.findall(r"\d+", task["code"]) if re.search(rf"(?<!\d){n}(?!\d)", task["context"])]
        kept = all(re.search(rf"(?<!\d){n}(?!\d)", result.text) for n in facts)
        by_kind[task["id"].rsplit("-", 1)[0]].append((result.tokens_before, result.tokens_after, result.seconds, kept))

    print(
        f"\n{'material':<12} {'tasks':>5} {'tokens before':>14} {'after':>8} {'ratio':>6} {'s/1k tok':>9} {'facts kept':>11}"
    )
    every = []
    for kind, rows in by_kind.items():
        every += rows
        before = statistics.median(r[0] for r in rows)
        after = statistics.median(r[1] for r in rows)
        per_k = statistics.median(r[2] / r[0] * 1000 for r in rows)
        print(
            f"{kind:<12} {len(rows):>5} {before:>14.0f} {after:>8.0f} {before / after:>5.2f}x {per_k:>9.2f} "
            f"{sum(r[3] for r in rows):>6}/{len(rows)}"
        )
    before = statistics.median(r[0] for r in every)
    after = statistics.median(r[1] for r in every)
    per_k = statistics.median(r[2] / r[0] * 1000 for r in every)
    print(
        f"{'all':<12} {len(every):>5} {before:>14.0f} {after:>8.0f} {before / after:>5.2f}x {per_k:>9.2f} "
        f"{sum(r[3] for r in every):>6}/{len(every)}   (medians)"
    )

    saved = statistics.median(r[0] - r[1] for r in every)
    seconds = statistics.median(r[2] for r in every)
    print(
        f"\nestimate, per compressed document: {saved:.0f} input tokens saved on every model call that reads it, "
        f"for {seconds:.1f} s of compressor time (2-core CPU)"
    )
    for model, price in PRICES.items():
        print(
            f"  {model:<12} ${price:.2f}/Mtok in: saves ${saved * price / 1e6:.5f} per call "
            f"(x4 calls of a typical rung attempt: ${4 * saved * price / 1e6:.5f})"
        )


def compare_dtypes() -> None:
    """float32 against bfloat16 for the compressor LM: speed, and agreement of per-token losses."""
    import torch

    from ecoagent.compress.lingua import load_compressor_model

    text = "\n\n".join(json.loads(line)["context"] for line in TASKS.read_text(encoding="utf-8").splitlines()[:2])
    model, tokenizer = load_compressor_model(dtype="float32")
    ids = tokenizer(text, return_tensors="pt").input_ids[:, :400]
    losses, times = {}, {}
    for name, dtype in (("float32", torch.float32), ("bfloat16", torch.bfloat16)):
        model = model.to(dtype)
        runs = []
        with torch.no_grad():
            for _ in range(5):
                t0 = time.perf_counter()
                logits = model(ids).logits.float()
                runs.append(time.perf_counter() - t0)
        times[name] = statistics.median(runs)
        losses[name] = torch.nn.functional.cross_entropy(logits[0, :-1], ids[0, 1:], reduction="none")
    a, b = losses["float32"], losses["bfloat16"]
    corr = float(torch.corrcoef(torch.stack([a, b]))[0, 1])
    above = a > a.median()
    agree = float(((b > a.median()) == above).float().mean())
    print(
        f"400 tokens, forward pass, median of 5: float32 {times['float32']:.3f} s · bfloat16 {times['bfloat16']:.3f} s "
        f"· float32/bfloat16 {times['float32'] / times['bfloat16']:.2f}x (this CPU native bf16: {fast_bfloat16()})"
    )
    print(f"per-token losses: correlation {corr:.4f} · same side of the float32 median for {agree:.1%} of tokens")


if __name__ == "__main__":
    main()
