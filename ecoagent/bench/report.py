"""The bench's figures: one row per strategy, ratios against the first, as a table, JSON, Markdown, PNG.

Every figure is measured (tokens, cost at the rungs' configured prices, latency of
the same tasks in the same run); ratios compare each strategy with the first one
measured in the same run. Tokens are always shown, so a ladder of free local rungs
still shows what it saved.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.table import Table

from ..costs import quantile

if TYPE_CHECKING:
    from .results import ItemResult

__all__ = ["StrategyReport", "csv_table", "list_table", "markdown_table", "rich_table", "summarize", "write_chart"]


@dataclass
class StrategyReport:
    """What one strategy came to over the bench's items."""

    strategy: str
    protocol: str
    items: int
    solved: int
    cost: float
    prompt_tokens: int
    completion_tokens: int
    escalations: int
    errors: int
    demo_hits: int
    latency_p50_s: float
    latency_p90_s: float
    solved_by_rung: dict[str, int] = field(default_factory=dict)
    by_form: dict[str, tuple[int, int]] = field(default_factory=dict)
    cache_hits: int = 0
    wrong_hits: int = 0
    guard_refusals: int = 0
    cache_on: bool = False
    compressed_before: int = 0
    compressed_after: int = 0
    compress_s: float = 0.0
    tested: int = 0
    tests_passed: int = 0
    scored: bool = False
    accepted_wrong: int = 0
    unverified: int = 0
    unverified_right: int = 0
    compute_s: float = 0.0

    @property
    def accepted(self) -> int:
        """Answers the pipeline served as resolved (right or wrong by the key)."""
        return self.solved + self.accepted_wrong

    @property
    def wrong_share(self) -> float | None:
        """Of the answers served as resolved, the share the key says are wrong (None: none served)."""
        return self.accepted_wrong / self.accepted if self.accepted else None

    @property
    def pass_at_1(self) -> float | None:
        """Items whose tests passed over items judged by tests (one greedy sample each:
        the rungs run at temperature 0), or None when no item had tests."""
        return self.tests_passed / self.tested if self.tested else None

    @property
    def compression_ratio(self) -> float | None:
        """Tokens of the compressed parts before over after (None when nothing was compressed)."""
        return self.compressed_before / self.compressed_after if self.compressed_after else None

    @property
    def success_rate(self) -> float:
        """Solved items over items."""
        return self.solved / self.items if self.items else 0.0

    @property
    def tokens(self) -> int:
        """Input plus output tokens."""
        return self.prompt_tokens + self.completion_tokens

    @property
    def cost_per_solved(self) -> float | None:
        """USD per solved item (None when nothing was solved)."""
        return self.cost / self.solved if self.solved else None

    @property
    def tokens_per_solved(self) -> float | None:
        """Input plus output tokens per solved item: the cost figure of a ladder priced at $0."""
        return self.tokens / self.solved if self.solved else None

    def to_json(self) -> dict[str, Any]:
        """The report as plain data, with the derived figures."""
        return {
            **asdict(self),
            "success_rate": self.success_rate,
            "tokens": self.tokens,
            "cost_per_solved": self.cost_per_solved,
            "tokens_per_solved": self.tokens_per_solved,
            "compression_ratio": self.compression_ratio,
            "pass_at_1": self.pass_at_1,
            "wrong_share": self.wrong_share,
        }


def summarize(strategy: str, protocol: str, results: Sequence[ItemResult]) -> StrategyReport:
    """Add up one strategy's item results."""
    durations = [r.duration_s for r in results]
    forms: dict[str, tuple[int, int]] = {}
    for r in results:
        solved, total = forms.get(r.form, (0, 0))
        forms[r.form] = (solved + r.resolved, total + 1)
    return StrategyReport(
        strategy=strategy,
        protocol=protocol,
        items=len(results),
        solved=sum(r.resolved for r in results),
        cost=sum(r.cost for r in results),
        prompt_tokens=sum(r.prompt_tokens for r in results),
        completion_tokens=sum(r.completion_tokens for r in results),
        escalations=sum(max(0, len(r.rungs_tried) - 1) for r in results),
        errors=sum(r.error is not None for r in results),
        demo_hits=sum(r.demonstration for r in results),
        latency_p50_s=quantile(durations, 0.5),
        latency_p90_s=quantile(durations, 0.9),
        solved_by_rung=dict(Counter(r.rung for r in results if r.resolved and r.rung)),
        by_form=forms,
        cache_hits=sum(r.first_turn in ("exact", "replay") for r in results),
        wrong_hits=sum(r.first_turn == "rejected" for r in results),
        guard_refusals=sum(r.first_turn == "refused" for r in results),
        cache_on=any(r.first_turn is not None for r in results),
        compressed_before=sum(r.compressed_before for r in results),
        compressed_after=sum(r.compressed_after for r in results),
        compress_s=sum(r.compress_s for r in results),
        tested=sum(r.judge == "tests" for r in results),
        tests_passed=sum(r.judge == "tests" and r.resolved for r in results),
        scored=any(r.accepted is not None for r in results),
        accepted_wrong=sum(bool(r.accepted) and not r.resolved for r in results),
        unverified=sum(bool(r.unverified) for r in results),
        unverified_right=sum(bool(r.unverified and r.served_right) for r in results),
        compute_s=sum(r.model_s for r in results),
    )


def _ratio(value: float, base: float) -> str:
    if base == 0:
        return "-" if value == 0 else "inf"
    return f"{value / base:.2f}"


def _rows(reports: Sequence[StrategyReport]) -> tuple[list[str], list[list[str]]]:
    base = reports[0]
    header = [
        "strategy",
        "solved",
        "success",
        "cost $",
        "in tok",
        "out tok",
        "$/solved",
        "tok/solved",
        "escalations",
        "rung mix",
        "p50 s",
        "p90 s",
        f"cost vs {base.strategy}",
        f"tokens vs {base.strategy}",
        f"success vs {base.strategy}",
    ]
    rows = []
    for r in reports:
        mix = " ".join(f"{k}:{v}" for k, v in sorted(r.solved_by_rung.items())) or "-"
        per = f"{r.cost_per_solved:.6f}" if r.cost_per_solved is not None else "-"
        rows.append(
            [
                r.strategy,
                f"{r.solved}/{r.items}",
                f"{r.success_rate:.1%}",
                f"{r.cost:.6f}",
                f"{r.prompt_tokens:,}",
                f"{r.completion_tokens:,}",
                per,
                f"{r.tokens_per_solved:,.0f}" if r.tokens_per_solved else "-",
                str(r.escalations),
                mix,
                f"{r.latency_p50_s:.1f}",
                f"{r.latency_p90_s:.1f}",
                _ratio(r.cost, base.cost),
                _ratio(r.tokens, base.tokens),
                _ratio(r.success_rate, base.success_rate),
            ]
        )
    if any(r.tested for r in reports):
        # pass@1: one greedy answer per problem, right when its tests pass (HumanEval's measure).
        header.insert(3, "pass@1")
        for row, r in zip(rows, reports, strict=True):
            row.insert(3, f"{r.pass_at_1:.1%} ({r.tests_passed}/{r.tested})" if r.pass_at_1 is not None else "-")
    if any(r.cache_on for r in reports):
        # Wrong hits: replays the guard let through whose output the expected judge rejected
        # (they fell through to the ladder here; the auto judge would have served them).
        header += ["cache hits", "wrong hits", "guard refusals"]
        for row, r in zip(rows, reports, strict=True):
            row += [str(r.cache_hits), str(r.wrong_hits), str(r.guard_refusals)]
    if any(r.compute_s for r in reports):
        # Seconds the models computed: what a local rung costs, which its $0 token prices hide.
        header.append("compute s")
        for row, r in zip(rows, reports, strict=True):
            row.append(f"{r.compute_s:,.0f}")
    if any(r.scored for r in reports):
        # A strategy whose pipeline judged without the answer key served these answers as
        # solved; the key says they are wrong (what its user would have been told is right).
        # Unverified: returned, flagged as unbacked, not counted as solved (how many were right).
        header += ["accepted wrong", "wrong/resolved", "unverified (right)"]
        for row, r in zip(rows, reports, strict=True):
            share = f"{r.wrong_share:.0%}" if r.wrong_share is not None else "-"
            row += (
                [str(r.accepted_wrong), share, f"{r.unverified} ({r.unverified_right})"]
                if r.scored
                else ["-", "-", "-"]
            )
    if any(r.compressed_before for r in reports):
        # Compressed parts' cl100k tokens, before → after, and the compressor's own time.
        header += ["compressed tok", "ratio", "compress s"]
        for row, r in zip(rows, reports, strict=True):
            ratio = r.compression_ratio
            row += [
                f"{r.compressed_before:,}→{r.compressed_after:,}" if r.compressed_before else "-",
                f"{ratio:.2f}x" if ratio else "-",
                f"{r.compress_s:.1f}" if r.compressed_before else "-",
            ]
    return header, rows


def rich_table(reports: Sequence[StrategyReport], title: str) -> Table:
    """The comparison as a rich table (the terminal's view)."""
    header, rows = _rows(reports)
    table = Table(title=title, title_justify="left")
    for name in header:
        table.add_column(name, justify="left" if name in ("strategy", "rung mix") else "right", overflow="fold")
    for row in rows:
        table.add_row(*row)
    return table


def markdown_table(reports: Sequence[StrategyReport]) -> str:
    """The comparison as a Markdown table, for a README."""
    header, rows = _rows(reports)
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def csv_table(reports: Sequence[StrategyReport]) -> str:
    """The comparison as CSV (a header row, one row per strategy), for a spreadsheet or a script."""
    import csv
    import io

    header, rows = _rows(reports)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def list_table(reports: Sequence[StrategyReport], title: str) -> str:
    """The comparison one strategy at a time, a figure per line: what a narrow terminal can show."""
    header, rows = _rows(reports)
    width = max(len(h) for h in header[1:])
    blocks = [title]
    for row in rows:
        blocks.append("\n".join([row[0], *(f"  {h:<{width}}  {v}" for h, v in zip(header[1:], row[1:], strict=True))]))
    return "\n\n".join(blocks) + "\n"


def write_chart(reports: Sequence[StrategyReport], path: Path, title: str) -> Path:
    """Success against cost, one point per strategy, as EcoAssistant's figure; a PNG.

    When every strategy cost $0 (free local rungs), tokens stand in for cost on the x axis.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    by_cost = any(r.cost > 0 for r in reports)
    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=120)
    for r in reports:
        x = r.cost if by_cost else r.tokens
        ax.scatter([x], [100 * r.success_rate], s=60)
        ax.annotate(r.strategy, (x, 100 * r.success_rate), textcoords="offset points", xytext=(6, 4), fontsize=9)
    ax.set_xlabel("cost (USD)" if by_cost else "tokens (every rung is priced $0)")
    ax.set_ylabel("success (%)")
    ax.set_ylim(-5, 105)
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png")
    plt.close(fig)
    return path
