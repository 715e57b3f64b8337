"""Ship an adapter trained by ``benchmarks/bench_finetune.py`` as ``bundled:<name>``.

Copies ``OUT/home/data/adapters/<adapter>/adapter.gguf`` to ``agents/adapters/<name>/``
and writes its manifest: the SHA-256 of the adapter and of the base model (``ecoagent
doctor`` checks both), the teacher set's digest and split, the command that rebuilds
it, the training figures, and the held-out-family results the same run measured
(the bench's ``OUT/bench/report-split.json``, or ``--report``) with the by-form results
beside them (``OUT/bench-byform/report-split.json``: new tasks of the trained families), so
the figures travel with the file. ``--add-by-form LABEL=REPORT`` adds the one strategy of
another by-form report under LABEL: a baseline measured in its own folder on the same tasks
(e.g. the plain base model on ``benchmarks/ladders/qwen-plain.toml``).

Usage: .venv/bin/python scripts/ship_adapter.py OUT [--adapter smollm2-ft] [--name smollm2-eco]
           [--command "the bench_finetune.py command line that made OUT"] [--note TEXT]
           [--report OUT/bench/report-split.json] [--add-by-form LABEL=REPORT ...]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TEACHER = ROOT / "benchmarks" / "tasks" / "teacher.jsonl"
MAX_BYTES = 20 * 1024 * 1024


def summarize(strategy: dict[str, Any]) -> dict[str, object]:
    """One strategy's figures, as the bench's own report gives them: solved, tokens per
    attempt and per solved task, p50 latency."""
    attempts = strategy["items"] + strategy["escalations"]
    return {
        "solved": strategy["solved"],
        "tasks": strategy["items"],
        "rate": round(strategy["success_rate"], 4),
        "tokens_per_attempt": round(strategy["tokens"] / attempts) if attempts else None,
        "tokens_per_solved": round(strategy["tokens_per_solved"])
        if strategy["tokens_per_solved"] is not None
        else None,
        "p50_s": round(strategy["latency_p50_s"], 2) if strategy["latency_p50_s"] is not None else None,
    }


def report_figures(report: Path) -> dict[str, dict[str, object]]:
    """Each strategy's figures (``summarize``) from a bench report JSON."""
    return {s["strategy"]: summarize(s) for s in json.loads(report.read_text(encoding="utf-8"))["strategies"]}


def _trained_families(out: Path) -> set[str]:
    """The families with at least one example in the training split of ``out/train.jsonl``
    (export's output), found by each example's query in ``out/holdout-tasks.jsonl``."""
    family_of = {}
    for line in (out / "holdout-tasks.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        family_of[row["query"]] = row.get("family", "")
    trained = set()
    for line in (out / "train.jsonl").read_text(encoding="utf-8").splitlines():
        example = json.loads(line)
        if example.get("split") == "train":
            trained.add(family_of.get(example.get("metadata", {}).get("query", ""), ""))
    return trained - {""}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="bench_finetune.py's --out folder")
    parser.add_argument("--adapter", default="smollm2-ft")
    parser.add_argument("--name", default="smollm2-eco")
    parser.add_argument(
        "--command", default="", help="The command line that made OUT (recorded as the rebuild recipe)."
    )
    parser.add_argument(
        "--note", default="", help="What a reader of the figures must know (recorded as the manifest's note)."
    )
    parser.add_argument(
        "--report",
        type=Path,
        default=None,
        help="The held-out-family bench report (default OUT/bench/report-split.json).",
    )
    parser.add_argument(
        "--add-by-form",
        action="append",
        default=[],
        metavar="LABEL=REPORT",
        help="A by-form report of one strategy, measured in its own folder on the same tasks, recorded as LABEL.",
    )
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from ecoagent.finetune.registry import file_sha256, valid_name
    from ecoagent.models.llama import llama_model_path

    source = args.out / "home" / "data" / "adapters" / args.adapter
    trained = json.loads((source / "manifest.json").read_text(encoding="utf-8"))
    gguf = source / "adapter.gguf"
    if gguf.stat().st_size > MAX_BYTES:
        print(
            f"error: {gguf} is {gguf.stat().st_size / 2**20:.1f} MiB, over the 20 MiB a shipped adapter may be "
            "(train a smaller --rank)",
            file=sys.stderr,
        )
        return 1
    base = llama_model_path(
        trained["base"]
    )  # the model it was trained on (bundled:smollm2, bundled:qwen2.5-coder-0.5b)
    split_file = args.out / "holdout-tasks.jsonl"
    families: dict[str, set[str]] = {"seed": set(), "test": set()}
    if split_file.is_file():
        for line in split_file.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            families[row["half"]].add(row.get("family", ""))
    trained_families = _trained_families(args.out)
    bench = args.out / "bench"
    report = args.report or bench / "report-split.json"
    if not report.is_file():
        print(f"error: no bench report {report}: run bench_finetune.py without --no-bench first", file=sys.stderr)
        return 1
    results = report_figures(report)
    byform_report = args.out / "bench-byform" / "report-split.json"
    by_form = report_figures(byform_report) if byform_report.is_file() else None
    for extra in args.add_by_form:
        label, _, path = extra.partition("=")
        figures = report_figures(Path(path)) if label and Path(path).is_file() else {}
        if len(figures) != 1 or by_form is None:
            print(
                f"error: --add-by-form {extra}: give LABEL=REPORT, a report of one strategy, beside "
                f"{byform_report} (which must exist)",
                file=sys.stderr,
            )
            return 2
        by_form[label] = next(iter(figures.values()))
    manifest = {
        "name": valid_name(args.name),
        "base": trained["base"],
        "base_file": {**trained["base_file"], "sha256": file_sha256(base)},
        "adapter_sha256": file_sha256(gguf),
        "adapter_size": gguf.stat().st_size,
        "teacher_set": {
            "file": str(TEACHER.relative_to(ROOT)),
            "sha256": file_sha256(TEACHER),
            "training_families": sorted(families["seed"]),
            "held_out_families": sorted(families["test"]),
            # what the adapter saw: export's held-out split and near-duplicate filter may leave a
            # teacher family out of training entirely
            "trained_families": sorted(trained_families),
            "teacher_families_not_trained": sorted(families["seed"] - trained_families),
        },
        "training_data_digest": trained["data_digest"],
        "rebuild": args.command or "see docs/finetuning.md",
        "training": {
            k: trained.get(k)
            for k in (
                "config",
                "precision",
                "threads",
                "steps",
                "train_seconds",
                "train_examples",
                "test_examples",
                "loss_first",
                "loss_last",
                "heldout_loss_before",
                "heldout_loss_after",
                "created_at",
            )
        },
        "results": {
            "protocol": "held-out families: bench -p split on families training never saw",
            "strategies": results,
        },
        **(
            {
                "results_by_form": {
                    "protocol": "by form: bench -p split on new tasks (queries training never saw) of "
                    "the trained families",
                    "strategies": by_form,
                }
            }
            if by_form
            else {}
        ),
        **({"note": args.note} if args.note else {}),
    }
    dest = ROOT / "agents" / "adapters" / args.name
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(gguf, dest / "adapter.gguf")
    (dest / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    print(f"shipped {dest}/adapter.gguf ({manifest['adapter_size'] / 2**20:.1f} MiB) as bundled:{args.name}")
    for name, figures in results.items():
        print(f"  held-out families, {name}: {figures}")
    for name, figures in (by_form or {}).items():
        print(f"  by form, {name}: {figures}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
