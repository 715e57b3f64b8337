"""``Query``: what one run is asked to do, as one value instead of a list of keyword arguments.

Every stage reads what it needs from the query: retrieval, the cache key and
banking use ``text`` (never the chat ``history`` or the ``context`` material; the
exact cache adds a digest of the material, since the answer depends on it), the judge reads ``expected``/``expected_regex`` or ``tests``, the
ladder reads ``start_rung``. The rule "tests given mean the tests judge, an expected
answer given means the expected judge" lives in :meth:`Query.judge_name` and nowhere else.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace

from .config import MAX_CONTEXT_CHARS, MAX_QUERY_CHARS, JudgeName
from .errors import EcoagentError

__all__ = ["Query"]


@dataclass(frozen=True)
class Query:
    """One question for the assistant.

    Args:
        text: The question or task. Retrieval, the run log and anything banked
            from the run are keyed on it.
        expected: An answer that must appear in the output (implies the
            ``expected`` judge unless ``judge`` says otherwise).
        expected_regex: A regular expression the output must match (same rule).
        tests: Python tests the attempt's final code must pass in the sandbox: asserts
            over what it defines (or over ``OUTPUT``, what it printed), or a
            ``check(candidate)`` function with ``entry_point`` (HumanEval's shape).
            Implies the ``tests`` judge unless ``judge`` says otherwise; the model
            does not see them unless ``[judge] show_tests`` is on.
        entry_point: The name of the solution's function the tests' ``check`` is called with.
        judge: A judge's name; ``None`` means ``tests`` when tests are given, ``expected``
            when an expected answer is given, else the configured judge. (A judge of your
            own is passed to :meth:`EcoAssistant.run <ecoagent.EcoAssistant.run>` as ``judge=``.)
        start_rung: Index of the first rung to try (``/retry`` after ``/bad``).
        history: Earlier turns of a conversation (summary, recalled and recent
            turns), shown to the model only.
        context: Material the question is about (a pasted document, table or
            log), shown to the model only and compressed for rungs that compress.
        id: The caller's id for this query (a batch row id), kept in the record.
        session: The conversation the query belongs to: the assistant's memory stage gives it
            the session's summary, recent and recalled turns as its history, and remembers
            its answer (chat and ``ecoagent serve`` name one; kept in the record).
        replaces: The run id of the session's last turn that this query asks again (chat's
            ``/retry``): memory replaces that turn with this one.
        cache: Whether the first-turn stage may answer from the cache or by replay
            (``--no-cache`` sets it False: the ladder runs whatever is cached).
        key_name: The name of the API key that sent the query (``ecoagent serve``), kept
            in the record: spend and budgets add up per key.
        run_id: The id the run gets (default: a new one), for a caller that must name
            the run before it ends (the server's ``x-ecoagent-run-id`` on a stream).

    Raises:
        EcoagentError: The text is empty or too long, the context is too long, the
            tests do not compile, ``entry_point`` is not a name or has no tests, or
            ``start_rung`` is negative (exit code 2).
    """

    text: str
    expected: str | None = None
    expected_regex: str | None = None
    tests: str | None = None
    entry_point: str | None = None
    judge: JudgeName | None = field(default=None, compare=False)
    start_rung: int = 0
    history: str | None = None
    context: str | None = None
    id: str | None = None
    session: str | None = None
    replaces: str | None = None
    cache: bool = True
    key_name: str | None = None
    run_id: str | None = None

    def __post_init__(self) -> None:
        text = self.text.strip() if isinstance(self.text, str) else ""
        if not text:
            raise EcoagentError("the query is empty", "ask something, e.g. 'What is 17 * 23?'", exit_code=2)
        if len(text) > MAX_QUERY_CHARS:
            raise EcoagentError(
                f"the query is {len(text)} characters long (limit {MAX_QUERY_CHARS})",
                "put the question in the query and the material it is about in the context "
                "(ecoagent ask QUESTION --context FILE; a 'context' field in batch rows)",
                exit_code=2,
            )
        if self.context is not None and len(self.context) > MAX_CONTEXT_CHARS:
            raise EcoagentError(
                f"the context is {len(self.context)} characters long (limit {MAX_CONTEXT_CHARS})",
                "pass only the part of the document the question is about",
                exit_code=2,
            )
        if self.start_rung < 0:
            raise EcoagentError(
                f"start_rung must be 0 or more, not {self.start_rung}", "count rungs from 0", exit_code=2
            )
        object.__setattr__(self, "text", text)
        for name in ("expected", "expected_regex", "history", "context", "tests", "entry_point"):
            value = getattr(self, name)
            if value == "" or (name == "tests" and isinstance(value, str) and not value.strip()):
                object.__setattr__(self, name, None)
        self._check_tests()

    def _check_tests(self) -> None:
        if self.tests is not None:
            try:
                compile(self.tests, "<tests>", "exec")
            except SyntaxError as exc:
                raise EcoagentError(
                    f"the tests do not compile: {exc.msg} (tests line {exc.lineno})",
                    "tests are Python: asserts such as `assert add(2, 3) == 5`, or a check(candidate) "
                    "function with an entry point",
                    exit_code=2,
                ) from None
            except ValueError as exc:  # e.g. a NUL byte
                raise EcoagentError(
                    f"the tests cannot be read as Python: {exc}", "pass the tests as text", exit_code=2
                ) from None
        if self.entry_point is not None:
            if not self.entry_point.isidentifier():
                raise EcoagentError(
                    f"entry_point {self.entry_point!r} is not a Python name",
                    "name the function the tests check, e.g. entry_point='add'",
                    exit_code=2,
                )
            if self.tests is None:
                raise EcoagentError(
                    "entry_point was given without tests",
                    "give the tests that define check(candidate) too",
                    exit_code=2,
                )

    @property
    def has_tests(self) -> bool:
        """Whether tests were given."""
        return self.tests is not None

    @property
    def has_expected(self) -> bool:
        """Whether an expected answer or regex was given."""
        return self.expected is not None or self.expected_regex is not None

    def judge_name(self, default: JudgeName) -> JudgeName:
        """The judge for this query: the one asked for, else ``tests`` when tests are
        given, ``expected`` when an expected answer is given, else ``default`` (the
        configured judge)."""
        if self.judge is not None:
            return self.judge
        if self.has_tests:
            return "tests"
        return "expected" if self.has_expected else default

    @property
    def cache_text(self) -> str:
        """What the exact cache is keyed on: the text, plus a digest of the context
        material and of the tests when there are some (the same question about another
        document is another question; an answer accepted under other tests, or none,
        has not passed these)."""
        text = self.text
        for label, part in (("context", self.context), ("tests", self.tests)):
            if part is not None:
                text += f"\n[{label} sha256:{hashlib.sha256(part.encode()).hexdigest()[:16]}]"
        return text

    @property
    def follow_up(self) -> bool:
        """Whether the query continues a conversation (its answer depends on earlier turns)."""
        return self.history is not None

    def but(self, **changes: object) -> Query:
        """A copy with some fields changed (e.g. ``query.but(start_rung=1)``)."""
        return replace(self, **changes)  # type: ignore[arg-type]
