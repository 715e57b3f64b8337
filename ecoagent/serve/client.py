"""The CLI as a client of a running server (``--server URL`` or ``ECOAGENT_SERVER``).

:class:`RemoteAssistant` has the part of :class:`~ecoagent.EcoAssistant` that ``ask``,
``batch``, ``chat`` and ``feedback`` use (``run``, ``feedback``, ``check_ladder``,
``close``), over HTTP: a query goes to ``/v1/chat/completions`` as a stream, its
progress chunks come back as the same typed events the local pipeline yields (so the
terminal renders both alike), and the finished record is read from ``/v1/runs/ID``.
The server owns the bank, the run log and the models, so any number of terminals can
use them at once.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import httpx
import openai
from pydantic import ValidationError

from ..config import Rung
from ..errors import EcoagentError
from ..events import EVENTS, Event
from ..query import Query
from ..records import RunRecord

__all__ = ["SERVER_ENV", "RemoteAssistant"]

SERVER_ENV = "ECOAGENT_SERVER"
KEY_ENV = "ECOAGENT_API_KEY"


class RemoteAssistant:
    """A running ``ecoagent serve``, used like a local assistant.

    Args:
        url: The server's base URL (``http://127.0.0.1:8300``; a trailing ``/v1`` is fine).
        api_key: Its key (default: ``$ECOAGENT_API_KEY``).
        timeout_s: How long one query may take.
    """

    def __init__(self, url: str, api_key: str | None = None, *, timeout_s: float = 3600.0) -> None:
        url = url.rstrip("/")
        self.url = url[: -len("/v1")] if url.endswith("/v1") else url
        key = api_key if api_key is not None else os.environ.get(KEY_ENV)
        self._key = key
        self._timeout_s = timeout_s
        self._headers = {"authorization": f"Bearer {key}"} if key else {}
        self._rungs: dict[str, Rung] | None = None

    # ---- plumbing ---------------------------------------------------------------
    def _error(self, response: Any) -> EcoagentError:
        """The server's refusal as an error (``response``: httpx's, or the openai SDK's)."""
        try:
            message = response.json()["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = response.text[:300]
        hint = {
            401: f"pass the key: --api-key KEY or {KEY_ENV}=KEY",
            429: "ask the server's owner for more budget",
            503: "the server is busy or stopping: retry shortly",
        }.get(response.status_code)
        return EcoagentError(
            f"server {self.url}: {message}", hint, exit_code=2 if response.status_code in (400, 404) else 1
        )

    def _unreachable(self, exc: Exception) -> EcoagentError:
        return EcoagentError(
            f"no ecoagent server answers at {self.url} ({type(exc).__name__})",
            "start one with `ecoagent serve`, or drop --server / ECOAGENT_SERVER to run locally",
        )

    def _get(self, path: str) -> Any:
        try:
            response = httpx.get(self.url + path, headers=self._headers, timeout=30)
        except httpx.HTTPError as exc:
            raise self._unreachable(exc) from exc
        if response.status_code != 200:
            raise self._error(response)
        return response.json()

    @property
    def rungs(self) -> list[Rung]:
        """The server's ladder (from ``/v1/models``)."""
        if self._rungs is None:
            cards = self._get("/v1/models")["data"]
            self._rungs = {
                c["id"]: Rung.model_validate(c["ecoagent"]["rung"]) for c in cards if c.get("ecoagent", {}).get("rung")
            }
        return list(self._rungs.values())

    def check_ladder(self) -> None:
        """Fail fast when the server does not answer or refuses the key."""
        _ = self.rungs

    def close(self) -> None:
        """Nothing to release: the server owns everything."""

    # ---- the pipeline, remotely ---------------------------------------------------
    async def run(
        self, query: Query | str, *, on_event: Callable[[Event], None] | None = None, **fields: Any
    ) -> RunRecord:
        """Run a query on the server; events as they happen, then its record.

        Raises:
            EcoagentError: The server refused the request or failed (its message).
        """
        if isinstance(query, str):
            query = Query(query, **fields)
        extra: dict[str, Any] = {}
        for name in ("expected", "expected_regex", "tests", "entry_point", "context", "session", "replaces"):
            if getattr(query, name) is not None:
                extra[name] = getattr(query, name)
        if query.judge is not None:
            extra["judge"] = query.judge
        if not query.cache:
            extra["no_cache"] = True
        sdk = openai.AsyncOpenAI(
            base_url=self.url + "/v1", api_key=self._key or "none", timeout=self._timeout_s, max_retries=0
        )
        try:
            raw = await sdk.chat.completions.with_raw_response.create(
                model=self._model(query),
                messages=[{"role": "user", "content": query.text}],
                stream=True,
                extra_body=extra,
            )
            run_id = raw.headers.get("x-ecoagent-run-id")
            async for chunk in raw.parse():
                event = self._event((chunk.model_extra or {}).get("ecoagent"))
                if event is not None and on_event is not None:
                    on_event(event)
        except openai.APIStatusError as exc:
            raise self._error(exc.response) from None
        except (openai.APIConnectionError, httpx.HTTPError) as exc:
            raise self._unreachable(exc) from exc
        except openai.APIError as exc:  # an error the server sent inside the stream
            raise EcoagentError(f"server {self.url}: {exc.message}") from None
        finally:
            await sdk.close()
        return RunRecord.model_validate(self._get(f"/v1/runs/{run_id}"))

    def _model(self, query: Query) -> str:
        if query.start_rung == 0:
            return "ecoagent"
        rungs = self.rungs
        return rungs[min(query.start_rung, len(rungs) - 1)].name

    def _event(self, fields: dict[str, Any] | None) -> Event | None:
        """A progress chunk's ``ecoagent`` field as the event the local pipeline yielded (None: not
        an event, or one this client does not know, from a newer server)."""
        if not fields or "event" not in fields:
            return None
        try:
            return EVENTS.validate_python(fields)
        except ValidationError:
            return None

    def feedback(self, run_id: str, good: bool) -> Any:
        """A thumbs-up or -down, through ``/v1/feedback`` (the same semantics as local feedback).

        Raises:
            EcoagentError: Unknown run, or the server refused.
        """
        from ..assistant import FeedbackResult

        try:
            response = httpx.post(
                self.url + "/v1/feedback", json={"run_id": run_id, "good": good}, headers=self._headers, timeout=60
            )
        except httpx.HTTPError as exc:
            raise self._unreachable(exc) from exc
        if response.status_code != 200:
            raise self._error(response)
        data = response.json()
        return FeedbackResult(
            run_id=run_id,
            good=good,
            solution_id=data["solution_id"],
            created=data["created"],
            override=data["override"],
            retired=data["retired"],
            note=data["note"],
        )

    def bank_verified(self, record: RunRecord) -> tuple[str, bool] | None:
        """Bank a run whose ``expected`` check or tests passed (``batch --bank-verified``), through
        the server's feedback: the same condition as the local one, checked here on the record."""
        if not record.verified:
            return None
        result = self.feedback(record.run_id, good=True)
        return (result.solution_id, result.created) if result.solution_id else None
