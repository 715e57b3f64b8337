"""The program the evidence judge runs *inside* the sandbox to probe a written function. Stdlib only.

The host fills in the attempt's final code, the calls to make (each with the result the
query states for it, or none) and a nonce (see :func:`ecoagent.judge.probe.probe_program`),
and runs the result as one block in a fresh container. It:

1. runs the solution as a module (``__name__`` is not ``"__main__"``, so its own demo code
   under a main guard stays quiet), with its output discarded;
2. evaluates each call in the solution's namespace, each under a one-second alarm, and
   writes down what it returned, normalized (floats to 9 significant digits, so two
   functions that compute the same value by different routes agree), or which exception
   it raised;
3. compares a returned value with the query's stated result, where there is one (floats
   within a relative 1e-6);
4. prints one line, ``NONCE {"results": [[returned, matches], ...]}`` (or ``{"error": ...}``
   when the solution does not even load).
"""

from __future__ import annotations

import ast
import base64
import contextlib
import io
import json
import math
import os
import signal
import sys

SOLUTION = base64.b64decode("@SOLUTION@").decode()
CALLS = json.loads(base64.b64decode("@CALLS@").decode())
NONCE = "@NONCE@"

_KEY: list[str] = []


class _Slow(Exception):
    pass


def _alarm(signum, frame):  # type: ignore[no-untyped-def]
    raise _Slow()


def _norm(value: object, depth: int = 0) -> object:
    if depth > 20:
        return "..."
    if isinstance(value, bool) or value is None or isinstance(value, int | str):
        return value
    if isinstance(value, float):
        return float(f"{value:.9g}") if math.isfinite(value) else repr(value)
    if isinstance(value, list | tuple):
        return type(value)(_norm(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return {repr(_norm(k, depth + 1)): _norm(v, depth + 1) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return sorted(repr(_norm(v, depth + 1)) for v in value)
    return f"<{type(value).__name__}>"


def _same(got: object, want: object) -> bool:
    if (
        isinstance(got, float | int)
        and isinstance(want, float | int)
        and not isinstance(got, bool)
        and not isinstance(want, bool)
    ):
        return got == want or math.isclose(got, want, rel_tol=1e-6, abs_tol=1e-9)
    if isinstance(got, list | tuple) and type(got) is type(want):
        return len(got) == len(want) and all(_same(g, w) for g, w in zip(got, want, strict=True))
    try:
        return bool(got == want)
    except Exception:
        return False


def _say(payload: dict) -> None:  # type: ignore[type-arg]
    sys.stdout.flush()
    os.write(1, ("\n%s %s\n" % (_KEY[0], json.dumps(payload))).encode())
    os._exit(0)


def main() -> None:
    _KEY.append(globals().pop("NONCE"))
    namespace: dict[str, object] = {"__name__": "solution"}
    signal.signal(signal.SIGALRM, _alarm)
    try:
        signal.alarm(5)
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            exec(compile(SOLUTION, "<solution>", "exec"), namespace)
        signal.alarm(0)
    except BaseException as exc:  # a solution that does not load is an answer too: a broken one
        signal.alarm(0)
        _say({"error": ("%s: %s" % (type(exc).__name__, exc))[:200]})
    results = []
    for call, stated in CALLS:
        try:
            signal.alarm(1)
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                value = eval(call, namespace)
            signal.alarm(0)
            returned = repr(_norm(value))
            matches = None if stated is None else _same(value, ast.literal_eval(stated))
        except BaseException as exc:
            signal.alarm(0)
            returned = "raises " + ("timeout" if isinstance(exc, _Slow) else type(exc).__name__)
            matches = None if stated is None else False
        results.append([returned[:500], matches])
    _say({"results": results})


main()
