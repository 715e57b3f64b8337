"""The routing stage in the pipeline: scripted rungs, a fake executor, the real bank and embeddings (no Docker)."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

from ecoagent import EcoAssistant, Query
from ecoagent.config import LadderSettings, RouterSettings, Rung, RunSettings, Settings
from ecoagent.events import Routed, RungStarted
from ecoagent.records import RunRecord
from ecoagent.router import RouterStage
from ecoagent.testing import FakeExecutor, ScriptedChatCompletionClient

RUNGS = [
    Rung(name=n, provider="openai", model=n, input_price_per_mtok=p)
    for n, p in (("cheap", 0.15), ("mid", 2.5), ("top", 10.0))
]
WRONG = ["```python\nprint(1 +)\n```", "Sorry. TERMINATE"]
RIGHT = ["```python\nprint(2 + 2)\n```", "It is 4. TERMINATE"]


def assistant(tmp_path: Path, cheap: list[str], mid: list[str], top: list[str], **router: object) -> EcoAssistant:
    settings = Settings(
        ladder=LadderSettings(rungs=RUNGS),
        router=RouterSettings(explore=0.0, **router),  # type: ignore[arg-type]
        run=RunSettings(judge="auto"),
    )  # what the router learns from: which rung resolved, one answer a rung
    settings.bank.path = tmp_path / "bank"
    settings.runlog_path = tmp_path / "runs.sqlite3"
    settings.cache.enabled = settings.cache.replay = False
    clients = {
        "cheap": ScriptedChatCompletionClient(cheap),
        "mid": ScriptedChatCompletionClient(mid),
        "top": ScriptedChatCompletionClient(top),
    }
    return EcoAssistant(settings, clients=clients, executor_factory=FakeExecutor)


def events(eco: EcoAssistant, text: str) -> tuple[RunRecord, list[object]]:
    async def go() -> list[object]:
        return [e async for e in eco.run_stream(Query(text))]

    items = asyncio.run(go())
    record = items[-1]
    assert isinstance(record, RunRecord)
    return record, items[:-1]


def test_the_router_learns_to_skip_a_rung_that_fails_on_similar_queries_and_a_misroute_still_escalates(
    tmp_path: Path,
) -> None:
    factor = [f"Factor the number {1000 + 37 * n} into primes." for n in range(6)]
    # factorizations: the cheap rung fails each, mid solves them (but the last)
    eco = assistant(tmp_path, WRONG * 4 + RIGHT, RIGHT * 5 + WRONG, RIGHT)
    first, evs = events(eco, factor[0])
    routed = next(e for e in evs if isinstance(e, Routed)).routing
    assert (
        routed.start == 0 and routed.reason == "no similar logged queries" and first.final_rung == "mid"
    )  # cold start
    for text in factor[1:4]:
        events(eco, text)
    record, evs = events(eco, factor[4])
    assert record.routing is not None and record.routing.start == 1 and record.routing.start_rung == "mid"
    assert record.routing.estimates[0].p < 0.5 and record.routing.estimates[0].neighbours >= 3
    assert [e.rung.name for e in evs if isinstance(e, RungStarted)] == ["mid"] and record.final_rung == "mid"
    assert eco.runlog.get(record.run_id).routing == record.routing  # type: ignore[union-attr]
    # an unfamiliar query climbs the plain ladder; the cheap rung solves it
    other, _ = events(eco, "Say hello in French.")
    assert other.routing is not None and other.routing.start == 0 and other.final_rung == "cheap"
    # routed to mid like its neighbours, mid fails this one: it still escalates to top
    misrouted, evs = events(eco, factor[5])
    assert misrouted.routing and misrouted.routing.start == 1
    assert [e.rung.name for e in evs if isinstance(e, RungStarted)] == ["mid", "top"] and misrouted.final_rung == "top"
    eco.close()


def test_exploration_climbs_from_the_bottom_at_the_configured_rate() -> None:
    stage = RouterStage(
        RouterSettings(explore=0.2),
        RUNGS,
        index=lambda: (_ for _ in ()).throw(AssertionError("not asked")),
        rng=random.Random(3),
    )
    explore_draws = random.Random(3)
    expected = sum(explore_draws.random() < 0.2 for _ in range(500))
    decided = []
    for _ in range(500):
        try:
            decided.append(asyncio.run(stage.decide(Query("q"))))
        except AssertionError:  # not exploring: it asked the index
            decided.append(None)
    explored = [d for d in decided if d is not None]
    assert len(explored) == expected and 80 <= expected <= 120
    assert all(d.explored and d.start == 0 and "exploration" in d.reason for d in explored)


def test_routing_stays_out_of_one_rung_ladders_and_explicit_starts(tmp_path: Path) -> None:
    one = RouterStage(RouterSettings(), RUNGS[:1], index=lambda: None)  # type: ignore[arg-type, return-value]
    assert not one.active and asyncio.run(one.decide(Query("q"))) is None
    three = RouterStage(RouterSettings(), RUNGS, index=lambda: None)  # type: ignore[arg-type, return-value]
    assert asyncio.run(three.decide(Query("q", start_rung=2))) is None  # /retry chose the rung
    assert not RouterStage(RouterSettings(enabled=False), RUNGS, index=lambda: None).active  # type: ignore[arg-type, return-value]


def test_the_llm_controller_names_the_start_rung_and_its_tokens_count_in_the_cost(tmp_path: Path) -> None:
    eco = assistant(tmp_path, ["Use mid for this one."], RIGHT, [], mode="llm")
    record, evs = events(eco, "Factor 1037 into primes.")
    routing = record.routing
    assert (
        routing is not None
        and routing.controller == "cheap"
        and routing.start == 1
        and routing.reply == "Use mid for this one."
    )
    assert routing.prompt_tokens > 0 and "mid" in next(e for e in evs if isinstance(e, Routed)).routing.reason
    asked = eco._clients["cheap"].calls[0]  # type: ignore[attr-defined]
    assert "- cheap:" in asked[-1].content and "- top:" in asked[-1].content and "Factor 1037" in asked[-1].content
    mid_cost = record.attempts[0].cost
    assert (
        record.total_cost == mid_cost + routing.cost
        and record.prompt_tokens == routing.prompt_tokens + record.attempts[0].prompt_tokens
    )
    eco.close()

    confused = assistant(tmp_path / "b", ["I am not sure."] + RIGHT, [], [], mode="llm")
    record, _ = events(confused, "Factor 1037 into primes.")
    assert record.routing and record.routing.start == 0 and "named no rung" in record.routing.reason
    confused.close()


def test_a_new_route_index_learns_from_the_existing_run_log(tmp_path: Path) -> None:
    factor = [f"Factor the number {1000 + 37 * n} into primes." for n in range(5)]
    first = assistant(tmp_path, WRONG * 4, RIGHT * 4, [], enabled=False)  # routing off: a plain log of climbs
    for text in factor[:4]:
        events(first, text)
    first.close()
    # routing on, same bank folder and run log: the index is new and is filled from the log
    second = assistant(tmp_path, [], RIGHT, [])
    record, _ = events(second, factor[4])
    assert second.routes.count() == 5  # the four logged climbs, and this one
    assert record.routing is not None and record.routing.start == 1 and record.final_rung == "mid"
    second.close()


def test_a_routed_first_turn_is_still_cached(tmp_path: Path) -> None:
    factor = [f"Factor the number {1000 + 37 * n} into primes." for n in range(5)]
    eco = assistant(tmp_path, WRONG * 4, RIGHT * 5, [])
    eco.settings.cache.enabled = True
    for text in factor:
        events(eco, text)
    routed = eco.runlog.recent(1)[0]
    assert routed.routing is not None and routed.routing.start == 1 and routed.resolved
    again, _ = events(eco, factor[4])  # the same question: answered from the cache, no model
    assert again.served_from_cache and again.first_turn is not None and again.first_turn.kind == "exact"
    eco.close()
