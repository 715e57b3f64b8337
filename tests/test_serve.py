"""``ecoagent serve`` through real clients on a real HTTP server (uvicorn on 127.0.0.1).

The ladder's rungs are scripted and the sandbox is the fake executor, so these run
without Docker and say exactly what the transport does: OpenAI's wire format (the
``openai`` SDK and AutoGen's OpenAI client read it), errors in OpenAI's shape, keys,
budgets, admission and cancellation. Real-sandbox and real-model tests are in
``test_serve_sandbox.py``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from autogen_core.models import CreateResult

from ecoagent import EcoAssistant
from ecoagent.config import LadderSettings, Rung, Settings
from ecoagent.serve import KeyRing, create_app
from ecoagent.serve.keys import ApiKey, hash_key
from ecoagent.testing import FakeExecutor, LiveServer, ScriptedChatCompletionClient

CODE = "```python\nprint(17 * 23)\n```"  # the same block twice: the attempt converges on 391
RUNGS = [
    Rung(name="cheap", provider="openai", model="c", input_price_per_mtok=0.15, output_price_per_mtok=0.6),
    Rung(name="top", provider="openai", model="t", input_price_per_mtok=2.5, output_price_per_mtok=10.0),
]


class SlowClient(ScriptedChatCompletionClient):
    """Scripted replies, each after ``delay_s``; the wait honours the cancellation token,
    as AutoGen's real clients do (they link their request to it)."""

    def __init__(self, script: Sequence[str], delay_s: float) -> None:
        super().__init__(script)
        self.delay_s = delay_s
        self.started = 0  # calls begun (a test waits for one instead of sleeping)

    async def create(self, messages: Sequence[Any], **kwargs: Any) -> CreateResult:
        self.started += 1
        wait = asyncio.ensure_future(asyncio.sleep(self.delay_s))
        token = kwargs.get("cancellation_token")
        if token is not None:
            token.link_future(wait)
        await wait
        return await super().create(messages, **kwargs)


def assistant(
    tmp: Path,
    cheap: ScriptedChatCompletionClient | None = None,
    top: ScriptedChatCompletionClient | None = None,
    **serve: Any,
) -> EcoAssistant:
    settings = Settings(ladder=LadderSettings(rungs=RUNGS))
    settings.router.enabled = False  # these tests are about transport; the router has its own
    settings.run.judge = "auto"  # and so do the judges (tests/test_judge_evidence.py, tests/test_unverified.py)
    settings.bank.path = tmp / "bank"
    settings.runlog_path = tmp / "runs.sqlite3"
    settings.cache.path = tmp / "cache.sqlite3"
    for name, value in serve.items():
        setattr(settings.serve, name, value)
    clients = {
        "cheap": cheap or ScriptedChatCompletionClient([CODE] * 400),
        "top": top or ScriptedChatCompletionClient([CODE] * 400),
    }
    return EcoAssistant(settings, clients=clients, executor_factory=FakeExecutor)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    eco = assistant(tmp_path)
    with LiveServer(create_app(eco, keys=KeyRing([]))) as live:
        live.eco = eco  # type: ignore[attr-defined]
        yield live


def sdk(live: LiveServer, key: str = "none") -> openai.OpenAI:
    return openai.OpenAI(base_url=live.url + "/v1", api_key=key, max_retries=0)


def ask(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


# ---- the wire format, through the openai SDK -------------------------------------------------
def test_openai_sdk_gets_the_answer_the_real_usage_and_the_ecoagent_report(server: LiveServer) -> None:
    raw = sdk(server).chat.completions.with_raw_response.create(model="ecoagent", messages=ask("What is 17 * 23?"))
    reply = raw.parse()
    assert reply.choices[0].message.content == "391" and reply.choices[0].finish_reason == "stop"
    report = reply.model_extra["ecoagent"]  # type: ignore[index]
    assert raw.headers["x-ecoagent-run-id"] == report["run_id"]
    record = server.eco.runlog.get(report["run_id"])  # type: ignore[attr-defined]
    assert record is not None and record.resolved and report["answered_by"] == "cheap"
    assert reply.usage is not None and reply.usage.prompt_tokens == record.prompt_tokens > 0
    assert reply.usage.completion_tokens == record.completion_tokens
    assert report["verdict"]["judge"] == "auto" and report["code"] == "print(17 * 23)"
    assert report["first_turn"] is None and report["estimate_note"].startswith("estimate")
    assert report["cost"] == pytest.approx(record.total_cost) and report["top_rung_cost_estimate"] > report["cost"]


def test_an_exact_repeat_is_served_from_the_cache_at_zero_tokens(server: LiveServer) -> None:
    client = sdk(server)
    first = client.chat.completions.create(model="ecoagent", messages=ask("What is 17 * 23?"))
    again = client.chat.completions.create(model="ecoagent", messages=ask("What is 17 * 23?"))
    assert again.choices[0].message.content == first.choices[0].message.content == "391"
    assert again.usage is not None and again.usage.total_tokens == 0
    report = again.model_extra["ecoagent"]  # type: ignore[index]
    assert report["answered_by"] == "exact" and report["first_turn"]["served"] and report["cost"] == 0


def test_a_stream_shows_the_ladder_working_then_the_answer_usage_and_done(server: LiveServer) -> None:
    stream = sdk(server).chat.completions.create(
        model="ecoagent", messages=ask("What is 17 * 23?"), stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    events = [
        c.model_extra["ecoagent"]["event"]
        for c in chunks
        if c.model_extra and "event" in c.model_extra.get("ecoagent", {})
    ]
    assert (
        events[:3] == ["demonstrations", "rung_started", "model_message"]
        and "code_executed" in events
        and events[-1] == "judged"
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "391"
    finish = [c for c in chunks if c.choices and c.choices[0].finish_reason == "stop"]
    assert len(finish) == 1 and finish[0].model_extra["ecoagent"]["resolved"]  # type: ignore[index]
    assert len({c.id for c in chunks}) == 1
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens > 0 and chunks[-1].choices == []


def test_the_raw_stream_ends_with_done(server: LiveServer) -> None:
    with httpx.stream(
        "POST",
        server.url + "/v1/chat/completions",
        timeout=30,
        json={"model": "ecoagent", "messages": ask("What is 17 * 23?"), "stream": True},
    ) as response:
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in response.iter_lines() if line.startswith("data: ")]
    assert lines[-1] == "data: [DONE]" and all(json.loads(line[6:]) for line in lines[:-1])


def test_models_are_the_ladder_and_its_rungs_and_a_rung_name_starts_there(server: LiveServer) -> None:
    client = sdk(server)
    assert [m.id for m in client.models.list()] == ["ecoagent", "cheap", "top"]
    reply = client.chat.completions.create(model="top", messages=ask("What is 17 * 23?"))
    assert reply.model_extra["ecoagent"]["rungs"] == ["top"]  # type: ignore[index]


def test_options_in_extra_body_reach_the_pipeline(server: LiveServer) -> None:
    client = sdk(server)
    wrong = client.chat.completions.create(
        model="ecoagent", messages=ask("What is 17 * 23?"), extra_body={"expected": "390"}
    )
    report = wrong.model_extra["ecoagent"]  # type: ignore[index]
    assert not report["resolved"] and report["verdict"]["judge"] == "expected" and report["rungs"] == ["cheap", "top"]
    assert report["escalations"][0]["from"] == "cheap" and report["escalations"][0]["to"] == "top"
    assert wrong.choices[0].message.content.startswith("ecoagent could not resolve this query")  # type: ignore[union-attr]
    client.chat.completions.create(model="ecoagent", messages=ask("What is 17 * 23?"))
    fresh = client.chat.completions.create(
        model="ecoagent", messages=ask("What is 17 * 23?"), extra_body={"no_cache": True}
    )
    assert fresh.model_extra["ecoagent"]["answered_by"] == "cheap"  # type: ignore[index]


def test_earlier_turns_are_history_so_a_follow_up_is_never_a_cache_hit(server: LiveServer) -> None:
    client = sdk(server)
    client.chat.completions.create(model="ecoagent", messages=ask("What is 17 * 23?"))
    follow = client.chat.completions.create(
        model="ecoagent",
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "What is 17 * 23?"},
            {"role": "assistant", "content": "391"},
            {"role": "user", "content": "What is 17 * 23?"},
        ],
    )
    assert follow.model_extra["ecoagent"]["answered_by"] == "cheap"  # type: ignore[index]
    cheap = server.eco.client_for(RUNGS[0])  # type: ignore[attr-defined]
    first_message = str(cheap.calls[-1][1].content)
    assert (
        "Earlier in this conversation" in first_message and "A: 391" in first_message and "Be brief." in first_message
    )


# ---- the run log and feedback -------------------------------------------------------------------
def test_runs_and_feedback_endpoints(server: LiveServer) -> None:
    reply = sdk(server).chat.completions.create(model="ecoagent", messages=ask("What is 17 * 23?"))
    run_id = reply.model_extra["ecoagent"]["run_id"]  # type: ignore[index]
    one = httpx.get(f"{server.url}/v1/runs/{run_id}").json()
    assert one["run_id"] == run_id and one["final_answer"] == "391"
    listed = httpx.get(f"{server.url}/v1/runs?limit=5").json()
    assert listed["object"] == "list" and [r["run_id"] for r in listed["data"]] == [run_id]
    good = httpx.post(f"{server.url}/v1/feedback", json={"run_id": run_id, "good": True}).json()
    assert good["solution_id"] and good["created"] and good["note"] == "banked"
    assert server.eco.bank.get(good["solution_id"]).code == "print(17 * 23)"  # type: ignore[attr-defined, union-attr]
    assert server.eco.runlog.get(run_id).feedback == "good"  # type: ignore[attr-defined, union-attr]


def test_metrics_count_queries_hits_escalations_and_tokens(server: LiveServer) -> None:
    client = sdk(server)
    client.chat.completions.create(model="ecoagent", messages=ask("What is 17 * 23?"))
    client.chat.completions.create(model="ecoagent", messages=ask("What is 17 * 23?"))
    client.chat.completions.create(
        model="ecoagent", messages=ask("What is 17 * 23 again?"), extra_body={"expected": "1"}
    )
    text = httpx.get(server.url + "/metrics").text
    assert 'ecoagent_queries_total{outcome="resolved"} 2.0' in text and "ecoagent_exact_hits_total 1.0" in text
    assert 'ecoagent_escalations_total{from_rung="cheap"} 1.0' in text
    assert 'ecoagent_tokens_total{kind="prompt",rung="top"}' in text and "ecoagent_saving_estimate_usd_total" in text


# ---- bad requests: OpenAI's error shape, the right status, nothing logged --------------------
HUGE = b'{"model": "ecoagent", "messages": [{"role": "user", "content": "' + b"x" * 2_100_000 + b'"}]}'


def _body(**over: Any) -> bytes:
    body: dict[str, Any] = {"model": "ecoagent", "messages": ask("What is 17 * 23?")}
    body.update(over)
    return json.dumps({k: v for k, v in body.items() if v is not ...}).encode()


BAD = [
    ("invalid JSON", "POST", "/v1/chat/completions", b'{"model": "ecoagent", "messages": [', 400, None),
    ("empty body", "POST", "/v1/chat/completions", b"", 400, None),
    ("a JSON array", "POST", "/v1/chat/completions", b"[1, 2]", 400, None),
    ("non-UTF-8 bytes", "POST", "/v1/chat/completions", b'{"model": "\xff\xfe"}', 400, None),
    ("no messages", "POST", "/v1/chat/completions", _body(messages=...), 400, "messages"),
    ("empty messages", "POST", "/v1/chat/completions", _body(messages=[]), 400, "messages"),
    ("messages not a list", "POST", "/v1/chat/completions", _body(messages="hi"), 400, "messages"),
    ("no model", "POST", "/v1/chat/completions", _body(model=...), 400, "model"),
    (
        "unknown role",
        "POST",
        "/v1/chat/completions",
        _body(messages=[{"role": "robot", "content": "hi"}]),
        400,
        "messages[0].role",
    ),
    (
        "a tool message",
        "POST",
        "/v1/chat/completions",
        _body(messages=[{"role": "tool", "content": "1"}, *ask("hi")]),
        400,
        "messages[0].role",
    ),
    ("empty content", "POST", "/v1/chat/completions", _body(messages=ask("")), 400, "messages[0].content"),
    ("blank content", "POST", "/v1/chat/completions", _body(messages=ask("  \n ")), 400, "messages[0].content"),
    (
        "last message not the user's",
        "POST",
        "/v1/chat/completions",
        _body(messages=[*ask("hi"), {"role": "assistant", "content": "hello"}]),
        400,
        "messages[1].role",
    ),
    (
        "an image part",
        "POST",
        "/v1/chat/completions",
        _body(messages=[{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]),
        400,
        "messages[0].content[0].type",
    ),
    ("a huge body", "POST", "/v1/chat/completions", HUGE, 413, None),
    (
        "an oversized question",
        "POST",
        "/v1/chat/completions",
        _body(messages=ask("x" * 20_001)),
        400,
        "messages[0].content",
    ),
    ("an unknown model", "POST", "/v1/chat/completions", _body(model="gpt-7"), 404, "model"),
    ("a bad judge", "POST", "/v1/chat/completions", _body(judge="wizard"), 400, "judge"),
    ("the human judge", "POST", "/v1/chat/completions", _body(judge="human"), 400, "judge"),
    ("a bad expected_regex", "POST", "/v1/chat/completions", _body(expected_regex="(unclosed"), 400, "expected_regex"),
    ("a bad no_cache", "POST", "/v1/chat/completions", _body(no_cache=[1]), 400, "no_cache"),
    ("a bad session id", "POST", "/v1/chat/completions", _body(session="../../etc"), 400, "session"),
    ("n = 2", "POST", "/v1/chat/completions", _body(n=2), 400, "n"),
    (
        "tools",
        "POST",
        "/v1/chat/completions",
        _body(tools=[{"type": "function", "function": {"name": "f"}}]),
        400,
        "tools",
    ),
    ("a bad stream flag", "POST", "/v1/chat/completions", _body(stream="maybe"), 400, "stream"),
    ("context over the limit", "POST", "/v1/chat/completions", _body(context="y" * 400_001), 400, "context"),
    ("GET on completions", "GET", "/v1/chat/completions", b"", 405, None),
    ("an unknown endpoint", "POST", "/v1/completions", _body(), 404, None),
    ("feedback that is not JSON", "POST", "/v1/feedback", b"thumbs up", 400, None),
    ("feedback without good", "POST", "/v1/feedback", json.dumps({"run_id": "x"}).encode(), 400, "good"),
    (
        "feedback on an unknown run",
        "POST",
        "/v1/feedback",
        json.dumps({"run_id": "nope", "good": True}).encode(),
        404,
        "run_id",
    ),
    ("an unknown run", "GET", "/v1/runs/nope", b"", 404, "run_id"),
    ("a bad limit", "GET", "/v1/runs?limit=lots", b"", 400, "limit"),
]


def test_every_malformed_request_gets_an_openai_error_and_nothing_is_logged(server: LiveServer) -> None:
    eco = server.eco  # type: ignore[attr-defined]
    assert len(BAD) >= 20
    with httpx.Client(base_url=server.url, timeout=30) as http:
        for what, method, path, body, status, param in BAD:
            response = http.request(method, path, content=body, headers={"content-type": "application/json"})
            assert response.status_code == status, (what, response.text[:300])
            error = response.json()["error"]
            assert set(error) == {"message", "type", "param", "code"} and error["message"], what
            assert "Traceback" not in response.text and 'File "' not in response.text, what
            if param is not None:
                assert error["param"] == param, (what, error)
        assert eco.runlog.count() == 0
        shown = http.get("/metrics").text  # every refusal is counted, by status
        # (a path with no endpoint, or a method it does not take, is routing's answer, not a refusal)
        refused = {s: sum(1 for b in BAD if b[4] == s and b[2] != "/v1/completions") for s in (400, 404, 413)}
        for status, n in refused.items():
            assert f'ecoagent_rejected_requests_total{{status="{status}"}} {float(n)}' in shown, (status, n)
        good = http.post("/v1/chat/completions", json={"model": "ecoagent", "messages": ask("What is 17 * 23?")})
        assert good.status_code == 200 and good.json()["choices"][0]["message"]["content"] == "391"
    assert eco.runlog.count() == 1


# ---- keys and budgets ---------------------------------------------------------------------------
def test_keys_budgets_and_spend_per_key(tmp_path: Path) -> None:
    keys = KeyRing(
        [
            ApiKey(name="alice", sha256=hash_key("sk-alice"), budget_tokens=1),
            ApiKey(name="bob", sha256=hash_key("sk-bob")),
        ]
    )
    eco = assistant(tmp_path)
    with LiveServer(create_app(eco, keys=keys)) as live:
        missing = httpx.post(live.url + "/v1/chat/completions", json={"model": "ecoagent", "messages": ask("hi")})
        assert missing.status_code == 401 and missing.json()["error"]["code"] == "missing_api_key"
        with pytest.raises(openai.AuthenticationError, match="not valid"):
            sdk(live, key="sk-mallory").chat.completions.create(model="ecoagent", messages=ask("hi"))
        assert httpx.get(live.url + "/v1/models").status_code == 401
        alice = sdk(live, "sk-alice")
        first = alice.chat.completions.create(model="ecoagent", messages=ask("What is 17 * 23?"))
        spent = first.usage.total_tokens  # type: ignore[union-attr]
        assert eco.runlog.spend("alice").tokens == spent > 1
        with pytest.raises(openai.RateLimitError, match=f"spent {spent:,} of its 1 token budget") as raised:
            alice.chat.completions.create(model="ecoagent", messages=ask("What is 17 * 23?"))
        assert raised.value.status_code == 429 and raised.value.code == "budget_exceeded"
        assert eco.runlog.count() == 1  # refused before anything ran
        bob = sdk(live, "sk-bob")
        hit = bob.chat.completions.create(model="ecoagent", messages=ask("What is 17 * 23?"))
        assert hit.model_extra["ecoagent"]["answered_by"] == "exact"  # type: ignore[index]
        assert (
            eco.runlog.spend("bob").items == 1 and eco.runlog.spend("bob").tokens == 0
        )  # a $0 hit is still on the ledger
        run_id = first.model_extra["ecoagent"]["run_id"]  # type: ignore[index]
        assert httpx.get(f"{live.url}/v1/runs/{run_id}", headers={"authorization": "Bearer sk-bob"}).status_code == 404
        mine = httpx.get(f"{live.url}/v1/runs", headers={"authorization": "Bearer sk-alice"}).json()["data"]
        assert [r["run_id"] for r in mine] == [run_id]


def test_keys_come_from_the_environment_and_the_keys_file(tmp_path: Path) -> None:
    from ecoagent.config import ServeSettings
    from ecoagent.serve import add_key

    cfg = ServeSettings(keys_file=tmp_path / "keys.toml")
    secret, entry = add_key(cfg.keys_path(), "ci", budget_usd=2.5)
    assert secret and secret.startswith("eco-") and secret not in cfg.keys_path().read_text()
    ring = KeyRing.load(cfg, environ={"ECOAGENT_API_KEYS": "ops=sk-ops, sk-plain"})
    assert [k.name for k in ring.keys] == ["ci", "ops", "env-2"]
    assert ring.authenticate(f"Bearer {secret}").name == "ci"  # type: ignore[union-attr]
    assert ring.authenticate("Bearer sk-plain").name == "env-2"  # type: ignore[union-attr]


def test_no_keys_means_loopback_only(tmp_path: Path) -> None:
    from ecoagent.errors import EcoagentError
    from ecoagent.serve import serve

    settings = Settings(ladder=LadderSettings(rungs=RUNGS))
    settings.serve.keys_file = tmp_path / "none.toml"
    with pytest.raises(EcoagentError, match="refusing to serve on 0.0.0.0 with no API keys") as raised:
        serve(settings, host="0.0.0.0", port=0)
    assert "ecoagent keys add" in (raised.value.hint or "")


# ---- load, admission, cancellation ----------------------------------------------------------------
def test_beyond_the_queue_the_answer_is_503_with_retry_after(tmp_path: Path) -> None:
    eco = assistant(tmp_path, cheap=SlowClient([CODE] * 50, delay_s=0.5), concurrency=1, queue=1)

    async def load(url: str) -> list[int]:
        client = openai.AsyncOpenAI(base_url=url + "/v1", api_key="none", max_retries=0)

        async def one(i: int) -> int:
            try:
                await client.chat.completions.create(model="ecoagent", messages=ask(f"What is 17 * {20 + i}?"))
                return 200
            except openai.APIStatusError as exc:
                assert exc.status_code != 503 or exc.response.headers["retry-after"] == "2"
                return exc.status_code

        return await asyncio.gather(*(one(i) for i in range(4)))

    with LiveServer(create_app(eco, keys=KeyRing([]))) as live:
        statuses = asyncio.run(load(live.url))
        assert sorted(statuses) == [200, 200, 503, 503]
        assert eco.runlog.count() == 2  # every accepted request once, no refused one


def test_a_client_that_disconnects_cancels_its_query_and_it_is_logged_cancelled(tmp_path: Path) -> None:
    eco = assistant(tmp_path, cheap=SlowClient([CODE] * 10, delay_s=30))
    FakeExecutor.instances.clear()
    with LiveServer(create_app(eco, keys=KeyRing([]))) as live:
        with pytest.raises(httpx.ReadTimeout):
            httpx.post(
                live.url + "/v1/chat/completions",
                json={"model": "ecoagent", "messages": ask("What is 1 + 1?")},
                timeout=1.5,
            )
        service = live.server.config.app.state.service  # type: ignore[attr-defined]
        deadline = time.monotonic() + 10
        while (not eco.runlog.recent(1) or service.gate.admitted) and time.monotonic() < deadline:
            time.sleep(0.05)
        [record] = eco.runlog.recent(5)
        assert record.cancelled and not record.resolved and record.attempts[0].error == "cancelled"
        assert service.gate.admitted == 0 and service.gate.on_model == 0
        assert FakeExecutor.instances and FakeExecutor.instances[-1].stopped  # the sandbox went with it
        with httpx.stream(
            "POST",
            live.url + "/v1/chat/completions",
            timeout=30,
            json={"model": "ecoagent", "messages": ask("What is 2 + 2?"), "stream": True},
        ) as response:
            for line in response.iter_lines():
                if "rung_started" in line:
                    break  # hang up mid-stream
        deadline = time.monotonic() + 10
        while len(eco.runlog.recent(5)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [r.cancelled for r in eco.runlog.recent(5)] == [True, True]
        assert 'ecoagent_queries_total{outcome="cancelled"} 2.0' in httpx.get(live.url + "/metrics").text


def test_many_first_queries_at_once_on_a_fresh_home_open_everything_once(tmp_path: Path) -> None:
    """The parts opened on first use (bank, cache, run log, route index) under 16 first
    requests at once, through the server, and 8 threads at once in-process."""
    eco = assistant(tmp_path / "served", concurrency=8)

    async def burst(url: str) -> list[str]:
        client = openai.AsyncOpenAI(base_url=url + "/v1", api_key="none", max_retries=0)
        replies = await asyncio.gather(
            *(client.chat.completions.create(model="ecoagent", messages=ask(f"What is {i} * 23?")) for i in range(16))
        )
        return [r.model_extra["ecoagent"]["run_id"] for r in replies]  # type: ignore[index]

    with LiveServer(create_app(eco, keys=KeyRing([]))) as live:
        run_ids = asyncio.run(burst(live.url))
    assert len(set(run_ids)) == 16
    reopened = assistant(tmp_path / "served")
    assert reopened.runlog.count() == 16
    reopened.close()

    import threading

    local = assistant(tmp_path / "threads")
    errors: list[BaseException] = []

    def one(i: int) -> None:
        try:
            assert local.run_sync(f"What is {i} * 17?").resolved
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and local.runlog.count() == 8
    local.close()


# ---- sessions ----------------------------------------------------------------------------------------
def test_a_session_gives_follow_ups_the_conversation_memory(server: LiveServer) -> None:
    client = sdk(server)
    client.chat.completions.create(model="ecoagent", messages=ask("What is 17 * 23?"), extra_body={"session": "s1"})
    second = client.chat.completions.create(
        model="ecoagent", messages=ask("And what is that minus 1?"), metadata={"session": "s1"}
    )
    assert second.model_extra["ecoagent"]["answered_by"] == "cheap"  # type: ignore[index]
    cheap = server.eco.client_for(RUNGS[0])  # type: ignore[attr-defined]
    first_message = str(cheap.calls[-1][1].content)
    assert (
        "Earlier in this conversation" in first_message
        and "Q: What is 17 * 23?" in first_message
        and "391" in first_message
    )
    record = server.eco.runlog.get(second.model_extra["ecoagent"]["run_id"])  # type: ignore[attr-defined, index]
    assert record.session == "s1"  # type: ignore[union-attr]


def test_a_retried_turn_replaces_the_one_it_asks_again_in_the_sessions_memory(server: LiveServer) -> None:
    client = sdk(server)
    first = client.chat.completions.create(
        model="ecoagent", messages=ask("What is 17 * 23?"), extra_body={"session": "r"}
    )
    first_id = first.model_extra["ecoagent"]["run_id"]  # type: ignore[index]
    client.chat.completions.create(
        model="top", messages=ask("What is 17 * 23?"), extra_body={"session": "r", "replaces": first_id}
    )
    third = client.chat.completions.create(model="ecoagent", messages=ask("And doubled?"), extra_body={"session": "r"})
    record = server.eco.runlog.get(third.model_extra["ecoagent"]["run_id"])  # type: ignore[attr-defined, index]
    assert record is not None and record.memory is not None and record.memory.verbatim_turns == 1


def test_the_summary_a_session_writes_is_charged_to_its_key_and_counted_in_the_next_usage(tmp_path: Path) -> None:
    eco = assistant(tmp_path)
    eco.settings.memory.keep_turns = 1  # the second turn folds the first into the summary
    keys = KeyRing([ApiKey(name="alice", sha256=hash_key("sk-alice"))])
    with LiveServer(create_app(eco, keys=keys)) as live:
        client = sdk(live, "sk-alice")
        replies = [
            client.chat.completions.create(
                model="ecoagent", messages=ask(f"What is 17 * {20 + i}?"), extra_body={"session": "long"}
            )
            for i in range(3)
        ]
        third = replies[2]
        report = third.model_extra["ecoagent"]  # type: ignore[index]
        record = eco.runlog.get(report["run_id"])
        assert record is not None and report["summary_tokens"] > 0
        assert third.usage.total_tokens == record.tokens + report["summary_tokens"]  # type: ignore[union-attr]
        spent = eco.runlog.spend("alice")
        run_tokens = sum(eco.runlog.get(r.model_extra["ecoagent"]["run_id"]).tokens for r in replies)  # type: ignore[index, union-attr]
        assert spent.items >= 4 and spent.tokens >= run_tokens + report["summary_tokens"]


def test_a_client_that_hangs_up_while_queued_for_a_model_is_logged_cancelled_at_once(tmp_path: Path) -> None:
    slow = SlowClient([CODE] * 10, delay_s=2)
    eco = assistant(tmp_path, cheap=slow, concurrency=1)
    with LiveServer(create_app(eco, keys=KeyRing([]))) as live:

        async def scenario() -> tuple[str, float]:
            async with httpx.AsyncClient(base_url=live.url, timeout=60) as http:
                busy = asyncio.create_task(
                    http.post("/v1/chat/completions", json={"model": "ecoagent", "messages": ask("What is 3 * 3?")})
                )
                while slow.started == 0:  # until it holds the one model slot
                    await asyncio.sleep(0.01)
                async with http.stream(
                    "POST",
                    "/v1/chat/completions",
                    json={"model": "ecoagent", "messages": ask("What is 4 * 4?"), "stream": True},
                ) as r:
                    run_id = r.headers["x-ecoagent-run-id"]
                    async for line in r.aiter_lines():
                        if "demonstrations" in line:
                            break  # queued behind the busy query: hang up
                t0 = time.monotonic()
                while eco.runlog.get(run_id) is None and time.monotonic() - t0 < 10:
                    await asyncio.sleep(0.05)
                waited = time.monotonic() - t0
                assert (await busy).status_code == 200
                return run_id, waited

        run_id, waited = asyncio.run(scenario())
        record = eco.runlog.get(run_id)
        assert record is not None and record.cancelled and record.attempts == [] and waited < 1.5


def test_the_cli_client_gets_the_events_the_server_pipeline_yielded(tmp_path: Path) -> None:
    from ecoagent.events import CodeExecuted, DemonstrationsFound, Escalated, ModelMessage, RungJudged, RungStarted
    from ecoagent.serve.client import RemoteAssistant

    wrong = "```python\nprint(17 * 24)\n```"  # the cheap rung answers wrong; the expected judge climbs
    eco = assistant(tmp_path, cheap=ScriptedChatCompletionClient([wrong, "TERMINATE"] * 10))
    with LiveServer(create_app(eco, keys=KeyRing([]))) as live:
        seen: list[Any] = []
        record = asyncio.run(RemoteAssistant(live.url).run("What is 17 * 23?", expected="391", on_event=seen.append))
    assert record.resolved and record.answered_by == "top" and [a.rung for a in record.attempts] == ["cheap", "top"]
    kinds = [type(e) for e in seen]
    assert kinds[0] is DemonstrationsFound and Escalated in kinds and kinds[-1] is RungJudged
    # Each event is the one the server's pipeline yielded: whole attempts, executions and rungs, not a summary.
    judged = [e for e in seen if isinstance(e, RungJudged)]
    assert [e.attempt for e in judged] == record.attempts
    assert [e.execution for e in seen if isinstance(e, CodeExecuted)] == [
        x for a in record.attempts for x in a.executions
    ]
    assert [e.rung for e in seen if isinstance(e, RungStarted)] == list(RUNGS)
    said = [e.message for e in seen if isinstance(e, ModelMessage)]
    assert said and all(any(m == x for a in record.attempts for x in a.messages) for m in said)
    escalated = next(e for e in seen if isinstance(e, Escalated))
    assert (escalated.from_rung.name, escalated.to_rung.name) == ("cheap", "top") and "391" in escalated.reason
