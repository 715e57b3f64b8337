"""``GET /metrics``: what the service did, in Prometheus' text format (``ecoagent_`` names).

Counted from finished run records, so a metric never says more than the run log: a
cost is what the record measured, and the saving is labelled an estimate (the same
tokens at the top rung's prices).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics, generate_latest

from ..records import RunRecord

__all__ = ["Metrics"]

disable_created_metrics()  # type: ignore[no-untyped-call]  # a *_created series per counter doubles the page and says nothing here


class Metrics:
    """The service's counters, on a registry of its own (one per app)."""

    def __init__(self) -> None:
        self.registry = r = CollectorRegistry()
        self.queries = Counter("ecoagent_queries", "Queries finished, by outcome.", ["outcome"], registry=r)
        self.resolved = Counter("ecoagent_resolved", "Queries resolved (by a rung, the cache or a replay).", registry=r)
        self.exact_hits = Counter("ecoagent_exact_hits", "First turns answered from the exact cache.", registry=r)
        self.replays = Counter("ecoagent_replays_served", "First turns answered by a verified replay.", registry=r)
        self.refusals = Counter("ecoagent_guard_refusals", "Similar solutions the replay guard refused.", registry=r)
        self.escalations = Counter(
            "ecoagent_escalations", "Escalations, by the rung that failed.", ["from_rung"], registry=r
        )
        self.tokens = Counter("ecoagent_tokens", "Tokens spent, by rung and kind.", ["rung", "kind"], registry=r)
        self.cost = Counter("ecoagent_cost_usd", "USD spent, by rung.", ["rung"], registry=r)
        self.saving = Counter(
            "ecoagent_saving_estimate_usd",
            "Estimate: top-rung price of the same tokens minus what was spent.",
            registry=r,
        )
        self.rejected = Counter(
            "ecoagent_rejected_requests", "Requests refused, by HTTP status.", ["status"], registry=r
        )
        self.latency = Histogram(
            "ecoagent_request_seconds",
            "Completion latency, by what answered.",
            ["answered_by"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
            registry=r,
        )
        self.in_flight = Gauge("ecoagent_in_flight", "Requests admitted (on a model or waiting).", registry=r)
        self.on_model = Gauge("ecoagent_on_model", "Queries holding a model slot.", registry=r)

    def observe(self, record: RunRecord, seconds: float) -> None:
        """Count a finished run."""
        outcome = "cancelled" if record.cancelled else "resolved" if record.resolved else "unresolved"
        self.queries.labels(outcome).inc()
        if record.resolved:
            self.resolved.inc()
        first = record.first_turn
        if first is not None:
            if first.served and first.kind == "exact":
                self.exact_hits.inc()
            elif first.served:
                self.replays.inc()
            elif first.kind == "replay" and first.execution is None:
                self.refusals.inc()
        for a, _ in zip(record.attempts, record.attempts[1:], strict=False):
            self.escalations.labels(a.rung).inc()
        for a in record.attempts:
            self.tokens.labels(a.rung, "prompt").inc(a.prompt_tokens)
            self.tokens.labels(a.rung, "completion").inc(a.completion_tokens)
            self.cost.labels(a.rung).inc(a.cost)
        if record.saving_estimate > 0:
            self.saving.inc(record.saving_estimate)
        self.latency.labels(record.answered_by or "unresolved").observe(seconds)

    def render(self) -> bytes:
        """The text exposition."""
        return generate_latest(self.registry)
