"""Function-writing answers: what a written function returns on calls the query suggests.

A query like HumanEval's ("complete the function below", a signature and a docstring with
examples) is answered by a *function*, which prints nothing, so the evidence judge cannot
compare printed answers. The field compares behaviour instead: two candidates that return
the same values on the same inputs agree (MBR-exec, Shi et al. 2022; CodeT, Chen et al. 2022,
on generated inputs). Here the inputs come from the query itself, with no model call:

* its **examples**: calls of the function the query shows (``>>> add(2, 3)``, ``add(2, 3) == 5``,
  ``add(2, 3) ➞ 5``), with the result it states when it states one;
* **derived calls**: each example with one argument changed (a number moved, a string or list
  reversed, shortened or emptied): inputs no example answers, on which independent candidates
  agree only when they compute the same thing.

:class:`FunctionProbe` runs a candidate on them in a fresh sandbox container (the program is
:mod:`._probe`); what it returned on each call is the candidate's *answer*, compared like a
printed one.
"""

from __future__ import annotations

import ast
import base64
import hashlib
import json
import re
import secrets
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from autogen_core import CancellationToken
from autogen_core.code_executor import CodeBlock

from ..config import SandboxSettings
from ..sandbox.factory import ExecutorFactory

__all__ = [
    "Example",
    "FunctionProbe",
    "ProbeResult",
    "defines",
    "derived_calls",
    "examples",
    "function_name",
    "probe_program",
]

_ASKS = re.compile(r"\b(?:write|complete|implement|define|create|finish)\b[^.\n]{0,80}\bfunction", re.IGNORECASE)
_DEF = re.compile(r"^[ \t]*(?:async[ \t]+)?def[ \t]+([A-Za-z_]\w*)[ \t]*\(", re.MULTILINE)
_NAMED = re.compile(r"\bfunction\s+(?:called\s+|named\s+)?`?([A-Za-z_]\w*)`?\s*\(", re.IGNORECASE)
_STATED = re.compile(
    r"^\s*#?\s*(?:==>|==|➞|→|->|=>|=|returns?\b|should\s+(?:return|be)\b|gives?\b|is\b)\s*:?\s*(.+?)\s*$", re.IGNORECASE
)


@dataclass(frozen=True)
class Example:
    """One call the query shows, with the result it states for it (Python literal source), if any."""

    call: str
    stated: str | None = None


def function_name(query: str) -> str | None:
    """The function a function-writing query asks for: the last one it defines (HumanEval's
    prompt defines helpers first), else the one it names ("a function called ``add(a, b)``");
    None when the query asks for no function."""
    if not _ASKS.search(query):
        return None
    defined = _DEF.findall(query)
    if defined:
        return str(defined[-1])
    named = _NAMED.search(query)
    return named.group(1) if named else None


def defines(code: str, name: str) -> bool:
    """Whether ``code`` defines a function called ``name``."""
    return name in _DEF.findall(code)


def _call_at(text: str, start: int) -> int | None:
    """Where the parenthesized argument list opening at ``start`` closes (strings respected), or None."""
    depth, quote, i = 0, "", start
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == quote:
                quote = ""
        elif c in "'\"":
            quote = c
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth == 0:
                return i + 1 if c == ")" else None
        elif c == "\n" and depth > 3:
            return None
        i += 1
    return None


def _literal(source: str) -> str | None:
    """``source`` if it is one Python literal (a trailing period or comment removed), else None."""
    whole = source.strip().rstrip(".").strip()
    cut = (
        re.split(r"\s+#|\s+\((?=[a-z])", whole)[0].strip().rstrip(".").strip()
    )  # a comment or "(because ...)" after it
    candidates = [
        {"true": "True", "false": "False"}.get(t, t) for t in (whole, cut)
    ]  # "=> true" in a docstring means True
    for candidate in [*candidates, *(c.rstrip(",") for c in candidates)]:
        try:
            ast.literal_eval(candidate)
            return candidate
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue
    return None


def examples(query: str, name: str, *, limit: int = 12) -> list[Example]:
    """The calls of ``name`` the query shows, in order, each once, with their stated results.

    A stated result is what follows the call on its line (``== 5``, ``➞ 5``, ``-> 5``,
    ``returns 5``) or, after a doctest's ``>>>`` line, the next line. Calls whose arguments
    are not all literals are left out: only what can be evaluated as written is asked.
    """
    found: list[Example] = []
    seen: set[str] = set()
    for match in re.finditer(rf"(?<![\w.]){re.escape(name)}\s*\(", query):
        line_start = query.rfind("\n", 0, match.start()) + 1
        if re.match(r"\s*(?:async\s+)?def\s", query[line_start : match.start()] + " "):
            continue
        end = _call_at(query, match.end() - 1)
        if end is None:
            continue
        call = re.sub(r"\s+", " ", query[match.start() : end])
        try:
            tree = ast.parse(call, mode="eval").body
            if not isinstance(tree, ast.Call) or not all(
                _literal(ast.unparse(a)) for a in [*tree.args, *(k.value for k in tree.keywords)]
            ):
                continue
        except (SyntaxError, ValueError, RecursionError):
            continue
        if call in seen:
            continue
        line_end = query.find("\n", end)
        rest = query[end : line_end if line_end >= 0 else len(query)]
        stated = None
        said = _STATED.match(rest)
        if said:
            stated = _literal(said.group(1))
        elif not rest.strip() and query[line_start : match.start()].strip().startswith(">>>") and line_end >= 0:
            following: list[str] = []  # the output: the first lines that read as one literal
            for line in query[line_end + 1 :].splitlines()[:5]:
                if not line.strip() or line.strip().startswith((">>>", '"""', "'" * 3)):
                    break
                following.append(line.strip())
                stated = _literal(" ".join(following))
                if stated is not None:
                    break
        seen.add(call)
        found.append(Example(call, stated))
        if len(found) >= limit:
            break
    return found


def _variants(value: object) -> list[object]:
    """A few values near ``value`` of the same type (what a tester would try next)."""
    if isinstance(value, bool):
        return [not value]
    if isinstance(value, int):
        return [value + 1, value - 1, value * 2 + 3, 0 if value else 7]
    if isinstance(value, float):
        return [value + 0.5, value * 2, -value]
    if isinstance(value, str):
        out: list[object] = [value[::-1], value[: len(value) // 2], value + value[:1], value.swapcase()]
        return [v for v in out if v != value]
    if isinstance(value, list | tuple):
        seq = list(value)
        items: list[list[object]] = [seq[::-1], seq[:-1], seq + seq[:1]]
        try:
            items.append(sorted(seq, reverse=True))
        except TypeError:
            pass
        return [type(value)(v) for v in items if v != seq]
    return []


def derived_calls(name: str, shown: list[Example], *, limit: int = 10) -> list[str]:
    """Calls of ``name`` with one argument of a shown example changed, taken in turn from each
    example, so a few examples give varied inputs; none repeats a shown call."""
    seen = {e.call for e in shown}
    per_example: list[list[str]] = []
    for example in shown:
        tree = ast.parse(example.call, mode="eval").body
        assert isinstance(tree, ast.Call)
        args = [ast.literal_eval(a) for a in tree.args]
        kwargs = {k.arg: ast.literal_eval(k.value) for k in tree.keywords if k.arg}
        calls = []
        for i, arg in enumerate(args):
            for variant in _variants(arg):
                new = [*args[:i], variant, *args[i + 1 :]]
                text = f"{name}({', '.join([*map(repr, new), *(f'{k}={v!r}' for k, v in kwargs.items())])})"
                if len(text) <= 400:
                    calls.append(text)
        per_example.append(calls)
    out: list[str] = []
    for round_ in range(max((len(c) for c in per_example), default=0)):
        for calls in per_example:
            if round_ < len(calls) and calls[round_] not in seen and len(out) < limit:
                seen.add(calls[round_])
                out.append(calls[round_])
    return out


@cache
def _template() -> str:
    return Path(__file__).with_name("_probe.py").read_text(encoding="utf-8")


def probe_program(solution: str, calls: list[tuple[str, str | None]], nonce: str) -> str:
    """The program that loads ``solution`` and makes ``calls`` (call source, stated result or None)."""

    def encode(text: str) -> str:
        return base64.b64encode(text.encode()).decode()

    return (
        _template()
        .replace("@SOLUTION@", encode(solution))
        .replace("@CALLS@", encode(json.dumps(calls)))
        .replace("@NONCE@", nonce)
    )


@dataclass(frozen=True)
class ProbeResult:
    """What a candidate function did on the probe's calls.

    ``returned`` holds, per call, the normalized value it returned or ``raises <Exception>``;
    ``failed`` the shown examples whose stated result it did not return (call, stated, returned);
    ``error`` says why there are no results (the solution did not load, the probe did not finish).
    """

    returned: tuple[str, ...] = ()
    failed: tuple[tuple[str, str, str], ...] = ()
    stated: int = 0
    error: str | None = None

    @property
    def key(self) -> str:
        """The answer key of a function: what it returned on every call."""
        return "f:" + json.dumps(self.returned)


class FunctionProbe:
    """Runs a candidate function on a query's examples and derived calls, in a fresh sandbox.

    The same code on the same calls is probed once (``known``: a sampled attempt often writes
    what the greedy one wrote; a benchmark replaying recorded attempts passes the results it
    kept, and then needs no sandbox for them).

    Args:
        executor_factory: Makes the sandbox the probe runs in (one fresh container per candidate);
            None: only ``known`` results are available.
        sandbox: Its limits (the block timeout is replaced by ``timeout_s``).
        timeout_s: How long loading the solution and all calls may take together.
        known: Results already measured, by :meth:`key`.
    """

    def __init__(
        self,
        executor_factory: ExecutorFactory | None,
        sandbox: SandboxSettings,
        *,
        timeout_s: float = 20.0,
        known: dict[str, ProbeResult] | None = None,
    ) -> None:
        self.executor_factory = executor_factory
        self.sandbox = sandbox.model_copy(update={"timeout_s": timeout_s})
        self.known: dict[str, ProbeResult] = known if known is not None else {}

    @staticmethod
    def key(solution: str, calls: list[tuple[str, str | None]]) -> str:
        """What a result is kept under: the code and the calls."""
        return hashlib.sha256(json.dumps([solution, calls]).encode()).hexdigest()

    async def __call__(self, solution: str, shown: list[Example], derived: list[str]) -> ProbeResult:
        calls = [(e.call, e.stated) for e in shown] + [(c, None) for c in derived]
        key = self.key(solution, calls)
        if key in self.known:
            return self.known[key]
        if self.executor_factory is None:
            return ProbeResult(error="no sandbox to run the function in, and no kept result for it")
        nonce = secrets.token_hex(16)
        block = CodeBlock(code=probe_program(solution, calls, nonce), language="python")
        async with self.executor_factory(self.sandbox) as executor:
            result = await executor.execute_code_blocks([block], CancellationToken())
        self.known[key] = read_probe(result.output, nonce, calls)
        return self.known[key]


def read_probe(output: str, nonce: str, calls: list[tuple[str, str | None]]) -> ProbeResult:
    """The probe's line in ``output`` as a :class:`ProbeResult` (a missing or unreadable line is an error)."""
    found = re.findall(rf"^{re.escape(nonce)} (\{{.*\}})$", output, flags=re.MULTILINE)
    if not found:
        return ProbeResult(error="the probe did not finish (the function hangs or ends the process?)")
    try:
        data = json.loads(found[-1])
        if "error" in data:
            return ProbeResult(error=f"the solution does not load: {data['error']}")
        rows = [(str(r[0]), r[1]) for r in data["results"]]
    except (ValueError, KeyError, TypeError, IndexError):
        return ProbeResult(error="the probe printed a line it could not read")
    if len(rows) != len(calls):
        return ProbeResult(error="the probe answered a different number of calls")
    failed = tuple(
        (call, stated, got)
        for (call, stated), (got, ok) in zip(calls, rows, strict=True)
        if stated is not None and ok is not True
    )
    return ProbeResult(returned=tuple(r[0] for r in rows), failed=failed, stated=sum(s is not None for _, s in calls))
