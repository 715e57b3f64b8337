"""``ecoagent bench``: every cost technique measured side by side on the same tasks.

* :mod:`.tasks` — task sets with exact answers (query, paraphrase, variant, reference code);
* :mod:`.strategies` — named combinations of rungs and stages (``agents/strategies.toml``);
* :mod:`.runner` — each strategy on its own fresh bank and run log, sequential or split;
* :mod:`.report` — the table (ratios against the first strategy), JSON, Markdown, PNG chart.
"""

from __future__ import annotations

from .report import StrategyReport, csv_table, list_table, markdown_table, rich_table, summarize, write_chart
from .runner import ItemResult, Protocol, bench_items, run_bench, run_strategy, strategy_dir
from .strategies import Strategy, load_strategies, select_strategies
from .tasks import BenchItem, BenchTask, load_tasks

__all__ = [
    "BenchItem",
    "BenchTask",
    "ItemResult",
    "Protocol",
    "Strategy",
    "StrategyReport",
    "bench_items",
    "csv_table",
    "list_table",
    "load_strategies",
    "load_tasks",
    "markdown_table",
    "rich_table",
    "run_bench",
    "run_strategy",
    "select_strategies",
    "strategy_dir",
    "summarize",
    "write_chart",
]
