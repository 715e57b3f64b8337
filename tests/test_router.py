"""The router on synthetic logs with known per-rung outcomes: exact evaluation numbers, no model, no Docker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from ecoagent.config import Rung
from ecoagent.errors import EcoagentError
from ecoagent.records import FirstTurn, RungAttempt, RunRecord, Verdict
from ecoagent.router import (
    Cascade,
    NeighbourRouter,
    RungOutcome,
    apgr,
    baselines,
    calibrate,
    cascades_from,
    cpt,
    evaluate_router,
    outcome,
)

RUNGS = [
    Rung(name=n, provider="openai", model=n, input_price_per_mtok=p)
    for n, p in (("cheap", 1), ("mid", 10), ("top", 100))
]
COST = [0.001, 0.01, 0.1]  # 1000 prompt tokens at each rung's price
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def cascade(verdicts: list[bool], start: int = 0, n: int = 0, query: str = "q") -> Cascade:
    outcomes = {start + i: RungOutcome(ok, COST[start + i], 1000, 0) for i, ok in enumerate(verdicts)}
    return Cascade(query, T0 + timedelta(minutes=n), start, outcomes)


def test_outcomes_are_exact_where_the_log_covers_the_start_and_bounded_where_it_cannot() -> None:
    solved_at_bottom, solved_at_mid, unsolved, retried_at_mid = (
        cascade([True]),
        cascade([False, True]),
        cascade([False] * 3),
        cascade([True], start=1),
    )
    o = outcome(solved_at_bottom, 0, RUNGS)
    assert o.exact and o.success_low and o.cost_low == o.cost_high == pytest.approx(0.001)
    o = outcome(solved_at_mid, 0, RUNGS)
    assert o.exact and o.success_low and o.cost_low == pytest.approx(0.011)
    o = outcome(solved_at_mid, 1, RUNGS)
    assert o.exact and o.success_low and o.cost_low == pytest.approx(0.01)
    o = outcome(unsolved, 2, RUNGS)
    assert o.exact and not o.success_high and o.cost_low == pytest.approx(0.1)
    # above the solving rung: never tried; optimistic = it solves at its (estimated) price, pessimistic = it and all above fail
    o = outcome(solved_at_bottom, 1, RUNGS)
    assert not o.exact and (o.success_low, o.success_high) == (False, True)
    assert (o.cost_low, o.cost_high) == (pytest.approx(0.01), pytest.approx(0.11))
    # below the logged start (a /retry began at mid): the bottom rung was never tried
    o = outcome(retried_at_mid, 0, RUNGS)
    assert not o.exact and o.success_low and (o.cost_low, o.cost_high) == (pytest.approx(0.001), pytest.approx(0.011))


def test_labels_assume_a_stronger_rung_solves_what_a_weaker_one_did() -> None:
    assert cascade([False, True]).labels(3) == [0.0, 1.0, 1.0]
    assert cascade([True], start=1).labels(3) == [None, 1.0, 1.0]
    assert cascade([False, False, False]).labels(3) == [0.0, 0.0, 0.0]


def test_baselines_give_exact_table_values() -> None:
    log = [cascade([True]), cascade([False, True]), cascade([False, False, True]), cascade([False, False, False])]
    results = {r.name: r for r in baselines(log, RUNGS)}
    bottom, top, oracle = results["always-bottom"], results["always-top"], results["oracle"]
    assert (bottom.solved_low, bottom.solved_high, bottom.bounded) == (3, 3, 0)
    assert bottom.cost_low == bottom.cost_high == pytest.approx(0.001 + 0.011 + 0.111 + 0.111)
    assert (top.solved_low, top.solved_high, top.bounded) == (1, 3, 2)  # top never ran on the first two
    assert top.cost_low == pytest.approx(0.4) and top.skip_share == 1.0
    # the oracle starts at the solving rung, and spends only the top's failed attempt on the unsolvable query
    assert (oracle.solved_low, oracle.cost_low, oracle.bounded) == (3, pytest.approx(0.001 + 0.01 + 0.1 + 0.1), 0)


def _cluster(axis: int, rng: np.random.Generator, n: int) -> np.ndarray:
    base = np.zeros(8, dtype=np.float32)
    base[axis] = 1.0
    vecs = base + 0.05 * rng.standard_normal((n, 8)).astype(np.float32)
    return (vecs / np.linalg.norm(vecs, axis=1, keepdims=True)).astype(np.float32)


def test_the_router_skips_a_rung_that_fails_on_a_cluster_and_keeps_it_where_it_succeeds() -> None:
    rng = np.random.default_rng(0)
    hard, easy = _cluster(0, rng, 10), _cluster(1, rng, 10)
    labels = [cascade([False, True]).labels(3)] * 10 + [cascade([True]).labels(3)] * 10
    router = NeighbourRouter(3).fit(np.vstack([hard, easy]), labels)
    new_hard, new_easy, unrelated = _cluster(0, rng, 1)[0], _cluster(1, rng, 1)[0], _cluster(2, rng, 1)[0]
    start = router.start(new_hard, threshold=0.5)
    assert start.rung == 1 and start.estimates[0].p < 0.1 and start.estimates[1].p > 0.9
    assert router.start(new_easy, threshold=0.5).rung == 0
    cold = router.start(unrelated, threshold=0.5)
    assert cold.rung == 0 and cold.reason == "no similar logged queries"  # unfamiliar: the plain ladder
    assert NeighbourRouter(3).start(new_hard, 0.5).rung == 0  # cold start: nothing logged


def test_router_evaluation_on_a_time_split_gives_exact_numbers_and_calibration_picks_a_threshold() -> None:
    rng = np.random.default_rng(1)
    log, vectors = [], []
    for n in range(40):  # alternating: a hard query (bottom fails, mid solves), an easy one (bottom solves)
        hard = n % 2 == 0
        log.append(cascade([False, True] if hard else [True], n=n))
        vectors.append(_cluster(0 if hard else 1, rng, 1)[0])
    result = evaluate_router(log, np.vstack(vectors), RUNGS, split=0.5)
    assert (result.train, result.test) == (20, 20)
    at_half = dict(result.sweep)[0.5]
    assert (at_half.solved_low, at_half.bounded, at_half.skipped_bottom) == (20, 0, 10)
    assert at_half.cost_low == pytest.approx(10 * 0.01 + 10 * 0.001)  # the oracle's cost: no failed bottom attempts
    assert result.baseline("always-bottom").cost_low == pytest.approx(10 * 0.011 + 10 * 0.001)
    assert result.baseline("oracle").cost_low == pytest.approx(at_half.cost_low)
    threshold, chosen = calibrate(result, 0.5)
    assert chosen.skip_share == 0.5 and 0 < threshold <= 1
    # the ladder solves every query from either end here: no performance gap, so APGR is undefined
    assert all(v != v for v in result.summary()["APGR"])  # NaN


def test_apgr_and_cpt_follow_routellm() -> None:
    import math

    points = [(0.5, 0.6), (0.2, 0.1)]
    assert apgr(points) == pytest.approx(0.2 * 0.05 + 0.3 * 0.35 + 0.5 * 0.8)
    assert cpt(points, 0.5) == 0.5 and cpt(points, 0.8) == 1.0
    no_gap = [(0.5, math.nan)]  # always-top solves no more than always-bottom: nothing to recover
    assert math.isnan(apgr(no_gap)) and math.isnan(cpt(no_gap, 0.5))


def test_cascades_from_the_run_log_leave_out_served_and_foreign_runs() -> None:
    def attempt(rung: str, ok: bool) -> RungAttempt:
        return RungAttempt(rung=rung, cost=0.5, prompt_tokens=10, verdict=Verdict(ok=ok, judge="expected", reason=""))

    climbed = RunRecord(query="a", attempts=[attempt("cheap", False), attempt("mid", True)])
    served = RunRecord(query="b", first_turn=FirstTurn(kind="exact", served=True, key="k", matched_query="b"))
    foreign = RunRecord(query="c", attempts=[attempt("gpt-x", True)])
    found = cascades_from([climbed, served, foreign], RUNGS)
    assert len(found) == 1 and found[0].start == 0 and found[0].solved_at == 1 and found[0].outcomes[0].cost == 0.5


def test_a_one_rung_ladder_or_a_tiny_log_cannot_be_evaluated() -> None:
    with pytest.raises(EcoagentError, match="two rungs or more"):
        evaluate_router([cascade([True])] * 4, np.eye(4, 8, dtype=np.float32), RUNGS[:1])
    with pytest.raises(EcoagentError, match="cannot be split"):
        evaluate_router([cascade([True])], np.eye(1, 8, dtype=np.float32), RUNGS)


def test_router_eval_and_calibrate_read_a_real_run_log_with_real_embeddings(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json

    from typer.testing import CliRunner

    from ecoagent.cli import app
    from ecoagent.runlog import RunLog

    def attempt(rung: str, ok: bool) -> RungAttempt:
        return RungAttempt(
            rung=rung,
            cost=COST[[r.name for r in RUNGS].index(rung)],
            prompt_tokens=1000,
            verdict=Verdict(ok=ok, judge="expected", reason=""),
        )

    log = RunLog(tmp_path / "runs.sqlite3")
    for n in range(24):  # prime factorizations fail on the cheap rung; greetings in other languages do not
        hard = n % 2 == 0
        query = f"Factor the number {1000 + 37 * n} into primes." if hard else f"Say hello number {n} in French."
        attempts = [attempt("cheap", False), attempt("mid", True)] if hard else [attempt("cheap", True)]
        log.add(RunRecord(query=query, attempts=attempts, created_at=T0 + timedelta(minutes=n)))
    log.close()
    ladder = tmp_path / "ladder.toml"
    ladder.write_text(
        "".join(
            f'[[rungs]]\nname = "{r.name}"\nprovider = "openai"\nmodel = "{r.model}"\n'
            f"input_price_per_mtok = {r.input_price_per_mtok}\n"
            for r in RUNGS
        )
    )
    args = ["router", "eval", "--log", str(tmp_path / "runs.sqlite3"), "--ladder", str(ladder)]
    result = CliRunner().invoke(app, [*args, "--json", "--chart", str(tmp_path / "curve.png")])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["train"], data["test"]) == (12, 12)
    router = next(p for p in data["policies"] if p["threshold"] == 0.5)
    bottom = next(p for p in data["policies"] if p["policy"] == "always-bottom")
    # real MiniLM similarities: most factorizations (never an easy query) skip the bottom rung; nothing is lost
    skipped = round(router["skip_bottom"] * 12)
    assert router["success"] == [1.0, 1.0] and router["bounded"] == 0 and 4 <= skipped <= 6
    assert bottom["cost"][0] == pytest.approx(6 * 0.011 + 6 * 0.001)
    assert router["cost"][0] == pytest.approx(bottom["cost"][0] - skipped * 0.001)  # each skip saves the failed attempt
    assert (tmp_path / "curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = CliRunner().invoke(app, args)
    assert table.exit_code == 0 and "always-top" in table.stdout and "APGR" in table.stdout
    calibrated = CliRunner().invoke(app, ["router", "calibrate", "--skip", "0.0", *args[2:]])
    assert calibrated.exit_code == 0 and "0% of 12 test queries skip the bottom rung" in calibrated.stdout
    one_rung = CliRunner().invoke(app, ["router", "eval", "--log", str(tmp_path / "runs.sqlite3")])
    assert one_rung.exit_code == 2 and "no logged climbs of the ladder smollm2" in one_rung.stderr
