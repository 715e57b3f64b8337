"""Batches of queries: reading query files, running them, and adding up the results.

* :mod:`.rows` — JSONL, CSV, text or stdin, with every bad row named by line;
* :mod:`.runner` — :func:`run_batch`, rows in and results out, for any app.
"""

from __future__ import annotations

from .rows import BadRow, BatchRow, read_batch, read_done_ids
from .runner import BatchResult, BatchSummary, run_batch

__all__ = ["BadRow", "BatchResult", "BatchRow", "BatchSummary", "read_batch", "read_done_ids", "run_batch"]
