"""A calibration from bench runs: what the evidence judge weighed, scored by the answer key.

A bench strategy with ``judge = "evidence"`` runs the pipeline without the key and scores
every attempt the judge weighed against it afterwards (``observations`` in its
``results.jsonl``: the rung's identity, the evidence kind, whether the answer was wrong).
Counting those gives each bin's error rate. The run to calibrate from is one that accepts
nothing (a strategy with ``explore = true``): every rung and every sample runs, so every bin is observed
as often as the policy could reach it, and which bin an attempt lands in depends only on
the attempts before it, never on the key.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from pathlib import Path

from ..errors import EcoagentError
from ..judge.calibration import EVIDENCE_KINDS, Calibration

__all__ = ["calibration_from_results", "results_files"]


def results_files(folders: Sequence[Path]) -> list[Path]:
    """Every ``results.jsonl`` under the folders (a bench folder, a strategy's folder, or the file).

    Raises:
        EcoagentError: A folder does not exist or holds no results.
    """
    found: list[Path] = []
    for folder in folders:
        if folder.is_file():
            found.append(folder)
            continue
        if not folder.is_dir():
            raise EcoagentError(
                f"{folder} does not exist", "pass a bench folder (ecoagent bench ... --out DIR)", exit_code=2
            )
        files = sorted(folder.rglob("results.jsonl"))
        if not files:
            raise EcoagentError(
                f"{folder} holds no results.jsonl", "pass the folder an `ecoagent bench` run wrote", exit_code=2
            )
        found += files
    return found


def calibration_from_results(files: Iterable[Path]) -> Calibration:
    """Count the observations in bench results files (lines without any are skipped).

    Raises:
        EcoagentError: A line is not JSON or an observation is malformed (file and line named).
    """
    table = Calibration()
    digest = hashlib.sha256()
    items = 0
    for path in files:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                observations = row.get("observations") or []
                for identity, kind, wrong in observations:
                    if kind not in EVIDENCE_KINDS or not isinstance(identity, str) or not isinstance(wrong, bool):
                        raise ValueError(f"bad observation {[identity, kind, wrong]!r}")
                    table.observe(identity, kind, wrong)
            except (ValueError, TypeError, AttributeError) as exc:
                raise EcoagentError(
                    f"{path} line {number}: {exc}", "pass results an `ecoagent bench` run wrote", exit_code=2
                ) from None
            if observations:
                items += 1
                digest.update(line.encode())
    table.meta = {"items": items, "data_sha256": digest.hexdigest(), "files": [str(p) for p in files]}
    return table
