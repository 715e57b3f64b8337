"""Docker-free tests of the service's parts: the wire format, keys, admission, and opening
SQLite files from many threads and processes at once."""

from __future__ import annotations

import json
import multiprocessing
import threading
from pathlib import Path
from typing import Any

import pytest

from ecoagent.runlog import RunLog
from ecoagent.serve.errors import APIError
from ecoagent.serve.gate import Gate
from ecoagent.serve.keys import ApiKey, KeyRing, add_key, hash_key, read_keys, remove_key
from ecoagent.serve.request import parse_chat_request, split_messages, to_query


def body(**fields: object) -> bytes:
    return json.dumps({"model": "ecoagent", **fields}).encode()


def test_the_last_user_message_is_the_query_and_earlier_turns_its_history() -> None:
    request = parse_chat_request(
        body(
            messages=[
                {"role": "system", "content": "Answer in French."},
                {"role": "user", "content": [{"type": "text", "text": "What is 2 + 2?"}]},
                {"role": "assistant", "content": "4"},
                {"role": "developer", "content": "Be brief."},
                {"role": "user", "content": " And times 3? "},
            ],
            session="s-1",
            expected="12",
        )
    )
    turns = split_messages(request, keep_turns=6)
    assert turns.question == "And times 3?" and turns.history == "Q: What is 2 + 2?\nA: 4"
    assert turns.instructions == "Answer in French.\n\nBe brief."
    query = to_query(request, turns, start_rung=1, key_name="k")
    assert query.text == "And times 3?" and query.follow_up and query.expected == "12" and query.start_rung == 1
    assert (
        query.context is not None
        and query.context.startswith("Instructions from the application:")
        and query.session == "s-1"
    )
    assert split_messages(request, keep_turns=0).history is None


def test_a_first_turn_without_instructions_stays_cacheable() -> None:
    request = parse_chat_request(body(messages=[{"role": "user", "content": "What is 2 + 2?"}]))
    turns = split_messages(request, keep_turns=6)
    query = to_query(request, turns, start_rung=0, key_name=None)
    assert not query.follow_up and query.context is None and query.cache


@pytest.mark.parametrize(
    ("raw", "param"),
    [
        (b"{", None),
        (b"\xff", None),
        (b"null", None),
        (body(messages=[]), "messages"),
        (body(messages=[{"role": "user"}]), "messages[0].content"),
        (body(messages=[{"content": "x"}]), "messages[0].role"),
        (body(messages=[{"role": "user", "content": "x"}], some_newer_option="hot"), None),
    ],
)
def test_malformed_bodies_name_what_is_wrong(raw: bytes, param: str | None) -> None:
    if param is None and raw.startswith(
        b'{"model"'
    ):  # a field ecoagent does not know (a newer OpenAI option): accepted
        assert parse_chat_request(raw).messages[0].text() == "x"
        return
    with pytest.raises(APIError) as raised:
        parse_chat_request(raw)
    assert raised.value.status == 400 and raised.value.body()["error"]["param"] == param


def test_keys_file_round_trip_and_budgets(tmp_path: Path) -> None:
    path = tmp_path / "keys.toml"
    secret, _ = add_key(path, "team-a", budget_tokens=10)
    with pytest.raises(Exception, match="exists"):
        add_key(path, "team-a")
    kept, entry = add_key(path, "team-a", budget_usd=1.5, replace=True)
    assert kept is None and entry.budget_usd == 1.5 and entry.sha256 == hash_key(secret or "")
    assert [k.name for k in read_keys(path)] == ["team-a"] and oct(path.stat().st_mode & 0o777) == "0o600"
    log = RunLog(tmp_path / "runs.sqlite3")
    key = ApiKey(name="team-a", sha256=hash_key("x"), budget_usd=0.001)
    KeyRing.check_budget(key, log)  # nothing spent yet
    log.add_spend("team-a", "summary:s:1", "summary", 50, 0.002)
    log.add_spend("team-a", "summary:s:1", "summary", 50, 0.002)  # the same item twice charges once
    assert log.spend("team-a").cost == pytest.approx(0.002)
    with pytest.raises(APIError, match=r"spent \$0.002000 of its \$0.001000 budget") as raised:
        KeyRing.check_budget(key, log)
    assert raised.value.status == 429
    assert remove_key(path, "team-a") and not remove_key(path, "team-a")
    log.close()


def test_admission_refuses_beyond_capacity_and_while_stopping() -> None:
    gate = Gate(concurrency=1, queue=1, retry_after_s=3)
    gate.enter()
    gate.enter()
    with pytest.raises(APIError) as raised:
        gate.enter()
    assert raised.value.status == 503 and raised.value.headers == {"Retry-After": "3"}
    gate.leave()
    gate.enter()
    gate.closed = True
    gate.leave()
    with pytest.raises(APIError, match="shutting down"):
        gate.enter()


def _open_log(path: str) -> None:
    log = RunLog(Path(path))
    log.close()


def test_a_new_sqlite_file_opens_from_many_threads_and_processes_at_once(tmp_path: Path) -> None:
    for round_ in range(3):
        path = tmp_path / f"runs-{round_}.sqlite3"
        errors: list[BaseException] = []
        start = threading.Barrier(12)

        def one(path: Path = path, start: threading.Barrier = start, errors: list[BaseException] = errors) -> None:
            try:
                start.wait()  # all at once: the WAL switch of a new file is where openers collide
                _open_log(str(path))
            except BaseException as exc:
                errors.append(exc)

        ctx = multiprocessing.get_context("spawn")
        # RunLog itself is the target: a child imports ecoagent.runlog alone (this module would
        # bring the server's imports, ~5 s a child)
        procs = [ctx.Process(target=RunLog, args=(path,)) for _ in range(3)]
        threads = [threading.Thread(target=one) for _ in range(12)]
        for p in procs:
            p.start()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for p in procs:
            p.join(60)
        assert errors == [] and all(p.exitcode == 0 for p in procs)


def test_keys_commands_add_list_and_remove(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from ecoagent.cli import app

    config = tmp_path / "ecoagent.toml"
    config.write_text(f'[serve]\nkeys_file = "{tmp_path / "keys.toml"}"\n')
    runner = CliRunner()
    added = runner.invoke(app, ["-c", str(config), "keys", "add", "ci", "--budget-tokens", "5000"])
    assert added.exit_code == 0 and added.stdout.strip().startswith("eco-")
    assert added.stdout.strip() not in (tmp_path / "keys.toml").read_text()
    again = runner.invoke(app, ["-c", str(config), "keys", "add", "ci"])
    assert again.exit_code == 2 and "exists" in again.output
    listed = runner.invoke(app, ["-c", str(config), "keys", "list"])
    assert listed.exit_code == 0 and "ci" in listed.stdout and "5,000 tokens" in listed.stdout
    assert runner.invoke(app, ["-c", str(config), "keys", "remove", "ci"]).exit_code == 0
    missing = runner.invoke(app, ["-c", str(config), "keys", "remove", "ci"])
    assert missing.exit_code == 2 and "no key named 'ci'" in missing.output


def test_the_spare_sandbox_is_claimed_safely_by_many_replays_at_once() -> None:
    """Replays on a server take the spare from several threads while another prepares it."""
    from ecoagent.cache.spare import SpareSandbox
    from ecoagent.config import SandboxSettings
    from ecoagent.testing import FakeExecutor

    spare = SpareSandbox(FakeExecutor, SandboxSettings())
    errors: list[BaseException] = []
    taken: list[object] = []

    def work(i: int) -> None:
        try:
            for _ in range(200):
                if i % 2:
                    spare.prepare()
                else:
                    executor = spare.take()
                    taken.append(executor)
                    spare.discard(executor)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    spare.close()
    assert errors == [] and len(taken) == 600 and len({id(x) for x in taken}) == 600  # each executor used once


def test_logs_show_a_cancelled_run_as_cancelled() -> None:
    from typer.testing import CliRunner

    from ecoagent.cli import app
    from ecoagent.paths import data_dir
    from ecoagent.records import RunRecord

    log = RunLog(data_dir() / "runs.sqlite3")
    log.add(RunRecord(query="What is 4 * 4?", cancelled=True))
    log.close()
    shown = CliRunner().invoke(app, ["logs"])
    assert shown.exit_code == 0 and "✗ cancelled" in shown.stdout and "What is 4 * 4?" in shown.stdout


def one_event_of_each_kind() -> list[Any]:
    """One of every kind of pipeline event, each with its fields filled."""
    from ecoagent.config import Rung
    from ecoagent.events import (
        CacheChecked,
        CodeExecuted,
        Compressed,
        DemonstrationsFound,
        Escalated,
        MemoryRecalled,
        ModelMessage,
        Routed,
        RungJudged,
        RungStarted,
    )
    from ecoagent.records import (
        CompressionStep,
        Demonstration,
        Execution,
        FirstTurn,
        MemoryStep,
        Message,
        RouteEstimate,
        Routing,
        RungAttempt,
        Verdict,
    )

    cheap = Rung(
        name="cheap", provider="llama-cpp", model="bundled:smollm2", adapter="bundled:smollm2-eco", max_tokens=512
    )
    top = Rung(name="top", provider="openai", model="gpt-4o", input_price_per_mtok=2.5, output_price_per_mtok=10.0)
    execution = Execution(code="print(17 * 23)", language="python", exit_code=0, output="391\n", timed_out=False)
    verdict = Verdict(ok=False, judge="evidence", reason="nothing independent agrees with it", evidence="single",
                      identity="bundled:smollm2+bundled:smollm2-eco", risk=0.6, risk_bound=0.7, checked=40, answer="n:391")  # fmt: skip
    attempt = RungAttempt(rung="cheap", sample=1, messages=[Message(source="assistant", content="```python\nprint(17 * 23)\n```")],
                          executions=[execution], verdict=verdict, answer="391", model_s=1.5)  # fmt: skip
    events = [
        MemoryRecalled(
            step=MemoryStep(
                session="s1",
                history_chars=120,
                summary_chars=40,
                verbatim_turns=3,
                folded_turns=2,
                recalled=["What was March revenue?"],
                summary_prompt_tokens=300,
                summary_completion_tokens=60,
                summary_cost=0.0001,
                note="the summary was not updated (timeout); older turns stay verbatim",
            )
        ),
        CacheChecked(
            step=FirstTurn(
                kind="replay",
                served=False,
                key="sol-1",
                matched_query="17 times 23?",
                score=0.93,
                execution=execution,
                verdict=verdict,
            )
        ),  # fmt: skip
        Routed(
            routing=Routing(
                start=1,
                start_rung="top",
                reason="similar queries needed top",
                threshold=0.5,
                estimates=[RouteEstimate(rung="cheap", p=0.2, evidence=3.0, neighbours=4)],
            )
        ),  # fmt: skip
        DemonstrationsFound(
            demonstrations=[Demonstration(id="d1", score=0.91, query="17 * 24?", code="print(17 * 24)")]
        ),
        RungStarted(rung=cheap, index=0, sample=1),
        Compressed(
            rung=top, step=CompressionStep(parts=["demonstrations"], rate=0.5, tokens_before=400, tokens_after=210)
        ),
        ModelMessage(rung=cheap, message=Message(source="assistant", content="The answer is 391. TERMINATE")),
        CodeExecuted(rung=cheap, execution=execution),
        RungJudged(rung=cheap, attempt=attempt),
        Escalated(from_rung=cheap, to_rung=top, reason="nothing independent agrees with it"),
    ]
    return events


def test_every_kind_of_event_survives_the_wire() -> None:
    import typing

    from ecoagent.config import Rung
    from ecoagent.events import Event, RungStarted
    from ecoagent.serve.client import RemoteAssistant
    from ecoagent.serve.response import event_fields

    events = one_event_of_each_kind()
    kinds = typing.get_args(typing.get_args(Event)[0])
    assert {type(e) for e in events} == set(kinds), "one of each kind"
    client = RemoteAssistant("http://127.0.0.1:9")  # nothing is sent: its reading of a chunk is what is tested
    for event in events:
        wire = json.loads(json.dumps(event_fields(event)))  # what the stream carries
        assert client._event(wire) == event, type(event).__name__
    # The wire leaves out where a rung's endpoint is and which variable holds its key.
    secret = Rung(name="paid", provider="openai", model="gpt-4o", base_url="http://10.0.0.5/v1", api_key_env="MY_KEY")
    wire = event_fields(RungStarted(rung=secret, index=2))
    assert "base_url" not in wire["rung"] and "api_key_env" not in wire["rung"] and wire["event"] == "rung_started"
    assert client._event({"event": "from_a_newer_server", "x": 1}) is None and client._event(None) is None


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"temperature": "hot"}, "temperature"),
        ({"temperature": 3}, "temperature"),
        ({"top_p": 1.5}, "top_p"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"max_tokens": "100"}, "max_tokens"),
        ({"stream": "yes"}, "stream"),
        ({"n": 2}, "n"),
        ({"presence_penalty": -3}, "presence_penalty"),
        ({"stop": ["a", "b", "c", "d", "e"]}, "stop"),
        ({"seed": 1.5}, "seed"),
        ({"top_logprobs": 21}, "top_logprobs"),
    ],
)
def test_openai_parameters_are_checked_as_openai_checks_them(fields: dict[str, object], where: str) -> None:
    with pytest.raises(APIError) as caught:
        parse_chat_request(body(messages=[{"role": "user", "content": "hi"}], **fields))
    assert caught.value.status == 400 and caught.value.param == where and where in caught.value.message


def test_valid_openai_parameters_are_accepted() -> None:
    request = parse_chat_request(
        body(
            messages=[{"role": "user", "content": "hi"}],
            temperature=0.2,
            top_p=1,
            max_tokens=64,
            stop="\n",
            seed=7,
            stream=True,
            n=1,
            user="u1",
            presence_penalty=0.5,
            logit_bias={"50256": -100},
        )  # fmt: skip
    )
    assert request.temperature == 0.2 and request.max_tokens == 64 and request.stream


def test_every_kind_of_event_survives_a_real_stream_through_the_server(tmp_path: Path) -> None:
    """Each kind of event, yielded by the pipeline behind a real server, reaches the CLI's client
    (the ``openai`` SDK reading the stream) equal to what was yielded."""
    import asyncio
    from collections.abc import AsyncGenerator

    from ecoagent import EcoAssistant
    from ecoagent.config import LadderSettings, Rung, Settings
    from ecoagent.query import Query
    from ecoagent.records import RunRecord
    from ecoagent.serve import create_app
    from ecoagent.serve.client import RemoteAssistant
    from ecoagent.testing import FakeExecutor, LiveServer, ScriptedChatCompletionClient

    sent = one_event_of_each_kind()

    class Replaying(EcoAssistant):
        def warm(self) -> None:  # nothing to load: no model, no bank
            pass

        async def run_stream(self, query: Query | str, **_: Any) -> AsyncGenerator[Any, None]:  # type: ignore[override]
            assert isinstance(query, Query)
            for event in sent:
                yield event
            record = RunRecord(query=query.text, run_id=query.run_id or "", final_answer="391", resolved=True)
            self.runlog.add(record)
            yield record

    settings = Settings(ladder=LadderSettings(rungs=[Rung(name="cheap", provider="openai", model="c")]))
    settings.bank.path, settings.runlog_path = tmp_path / "bank", tmp_path / "runs.sqlite3"
    settings.cache.path = tmp_path / "cache.sqlite3"
    eco = Replaying(settings, clients={"cheap": ScriptedChatCompletionClient([])}, executor_factory=FakeExecutor)
    received: list[Any] = []
    with LiveServer(create_app(eco, keys=KeyRing([]))) as live:
        record = asyncio.run(RemoteAssistant(live.url).run(Query("What is 17 * 23?"), on_event=received.append))
    assert record.final_answer == "391"
    # what the wire leaves out of a rung (its endpoint and key variable) is unset here, so all compare equal
    assert received == sent
