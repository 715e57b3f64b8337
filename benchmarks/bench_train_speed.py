"""Training speed of the reference fine-tuning run, before and after, in one run.

The reference run is ``bench_finetune.py``'s: LoRA r=16 on SmolLM2-135M, 3 epochs over
the confirmed interactions of ``compute.jsonl``'s seed split (92 examples, 69 steps of
4). It is trained twice on the same data, in the same process, one after the other:

- **before**: fp32, batches in plain shuffled order (padded to their longest example);
- **after**: bf16 autocast where the CPU has bf16 instructions (the weights and the
  LoRA stay fp32), and length-grouped batches.

Printed: training minutes (the optimiser steps, loading and conversion excluded),
seconds per step (median), held-out loss before and after training, and the ratio. The
held-out loss is always computed in fp32, so the two adapters are compared on the same
footing. Each training is skipped when its adapter exists under ``--out``, so an
interrupted run continues.

Usage: .venv/bin/python benchmarks/bench_train_speed.py [--out DIR] [--steps N]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("ecoagent-bench-train-speed"))
    parser.add_argument(
        "--steps", type=int, default=None, help="Train only this many steps each (a quicker, partial figure)."
    )
    args = parser.parse_args()
    out = args.out.resolve()
    os.environ["ECOAGENT_HOME"] = str(out / "home")

    spec = importlib.util.spec_from_file_location("bench_finetune", HERE / "bench_finetune.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)

    from ecoagent.finetune import TrainConfig, cpu_has_bf16

    data, _ = bench.prepare(out)
    runs = {
        "before": TrainConfig(max_steps=args.steps, precision="fp32", group_by_length=False),
        "after": TrainConfig(max_steps=args.steps, precision="auto", group_by_length=True),
    }
    manifests = {label: bench.train(out, data, f"speed-{label}", config) for label, config in runs.items()}
    print(f"\nreference run, {os.cpu_count()} CPU(s), bf16 instructions: {'yes' if cpu_has_bf16() else 'no'}")
    print(
        f"{'run':<8} {'precision':<9} {'grouped':<8} {'steps':>5} {'train min':>9} {'s/step p50':>10} {'held-out loss':>20}"
    )
    for label, m in manifests.items():
        per_step = m.get("step_seconds") or []
        p50 = f"{statistics.median(per_step):.2f}" if per_step else "-"
        print(
            f"{label:<8} {m.get('precision', 'fp32'):<9} {str(m['config']['group_by_length']):<8} {m['steps']:>5} "
            f"{m['train_seconds'] / 60:>9.1f} {p50:>10} {m['heldout_loss_before']:>9} → {m['heldout_loss_after']:<8}"
        )
    before, after = manifests["before"], manifests["after"]
    loss_change = (after["heldout_loss_after"] - before["heldout_loss_after"]) / before["heldout_loss_after"]
    print(
        f"\nspeed-up: {before['train_seconds'] / after['train_seconds']:.2f}× "
        f"({before['train_seconds'] / 60:.1f} → {after['train_seconds'] / 60:.1f} min); "
        f"held-out loss after training {loss_change:+.1%} against before"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
