"""The program the ``tests`` judge runs *inside* the sandbox. Stdlib only.

The host fills in the attempt's final code, the query's tests, the entry point and a
nonce (see :func:`ecoagent.judge.tests.harness_program`), and runs the result as one
block in a fresh container. It:

1. runs the solution as a script (``__name__ == "__main__"``, as it ran in the
   attempt), its standard output captured into ``OUTPUT`` for tests that check what
   a script printed;
2. runs the tests in the solution's namespace, so they call what it defined; with an
   entry point, HumanEval's shape: the tests define ``check(candidate)`` and the
   harness calls ``check(<entry point>)``;
3. prints one verdict line, ``NONCE {"ok": ..., "reason": ...}``, and exits 0 only
   when every test passed.

The nonce makes a solution that ends the process early (``os._exit(0)`` before the
tests ran) a failure instead of a pass: only the harness knows it, and only after
the last test passed does it print a passing line.

Where a test fails, the reason quotes the first failing assert from the tests' own
source, with its line, and for a comparison the value the left side had.
"""

from __future__ import annotations

import ast
import base64
import contextlib
import io
import json
import os
import sys
import traceback

SOLUTION = base64.b64decode("@SOLUTION@").decode()
TESTS = base64.b64decode("@TESTS@").decode()
ENTRY_POINT = json.loads("@ENTRY@")
NONCE = "@NONCE@"

SOLUTION_FILE, TESTS_FILE = "<solution>", "<tests>"


_VERDICT: list[str] = []  # the nonce, once main() has taken it out of the module's globals


def _say(ok: bool, reason: str, code: int) -> None:
    sys.stdout.flush()
    os.write(1, ("\n%s %s\n" % (_VERDICT[0], json.dumps({"ok": ok, "reason": reason}))).encode())
    os._exit(code)  # nothing the solution registered (atexit, threads) runs after the verdict


def _line(source: str, lineno: int) -> str:
    lines = source.splitlines()
    return lines[lineno - 1].strip() if 0 < lineno <= len(lines) else ""


def _short(value: object, limit: int = 200) -> str:
    try:
        text = repr(value)
    except Exception as exc:  # a repr that raises must not hide the verdict
        text = "<unprintable %s: %s>" % (type(value).__name__, exc)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _no(frame: traceback.FrameSummary) -> int:
    return frame.lineno or 0


def _frames(exc: BaseException) -> list[traceback.FrameSummary]:
    return list(traceback.extract_tb(exc.__traceback__))


def _last_in(frames: list[traceback.FrameSummary], filename: str) -> traceback.FrameSummary | None:
    found = [f for f in frames if f.filename == filename]
    return found[-1] if found else None


def _assert_node(lineno: int) -> ast.Assert | None:
    try:
        tree = ast.parse(TESTS, TESTS_FILE)
    except SyntaxError:
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.Assert) and node.lineno <= lineno <= (node.end_lineno or node.lineno):
            return node
    return None


def _left_side(exc: BaseException, lineno: int) -> str:
    """For a failing ``assert a == b``: what ``a`` was, evaluated again in the test's frame."""
    node = _assert_node(lineno)
    if node is None or not isinstance(node.test, ast.Compare) or len(node.test.ops) != 1:
        return ""
    tb = exc.__traceback__
    frame = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == TESTS_FILE:
            frame = tb.tb_frame
        tb = tb.tb_next
    if frame is None:
        return ""
    try:
        value = eval(compile(ast.Expression(node.test.left), TESTS_FILE, "eval"), frame.f_globals, dict(frame.f_locals))
    except Exception:
        return ""
    return "; the left side was %s" % _short(value)


def _failure(exc: BaseException, when: str) -> str:
    """Why the tests failed, in a sentence that points at the line to look at."""
    frames = _frames(exc)
    test = _last_in(frames, TESTS_FILE)
    solution = _last_in(frames, SOLUTION_FILE)
    kind = type(exc).__name__
    detail = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
    if isinstance(exc, AssertionError) and test is not None and (solution is None or frames[-1] is test):
        quoted = _line(TESTS, _no(test))
        message = " (%s)" % detail if detail else ""
        return "failed: %s (tests line %d)%s%s" % (quoted, _no(test), message, _left_side(exc, _no(test)))
    if isinstance(exc, NameError) and frames and frames[-1].filename == TESTS_FILE:
        name = getattr(exc, "name", None) or detail
        return "the tests use %s, which the solution does not define (tests line %d: %s)" % (
            name,
            _no(frames[-1]),
            _line(TESTS, _no(frames[-1])),
        )
    what = "%s: %s" % (kind, detail) if detail else kind
    if solution is not None and when == "tests":
        where = "solution line %d in %s" % (_no(solution), solution.name)
        called = " when tests line %d called it: %s" % (_no(test), _line(TESTS, _no(test))) if test else ""
        return "the solution raised %s (%s)%s" % (what, where, called)
    if when == "solution":
        line = " (solution line %d)" % _no(solution) if solution else ""
        return "the solution raised %s before the tests ran%s" % (what, line)
    line = " (tests line %d: %s)" % (_no(test), _line(TESTS, _no(test))) if test else ""
    return "the tests raised %s%s" % (what, line)


def main() -> None:
    # What an honest solution could stumble on is kept out of its reach: the nonce leaves the
    # module's globals and this file leaves the disk. (A solution written to defeat the judge
    # could still dig through the interpreter's frames: the judge checks honest attempts.)
    _VERDICT.append(globals().pop("NONCE"))
    with contextlib.suppress(OSError):
        os.unlink(os.path.abspath(sys.argv[0]))
    namespace = {"__name__": "__main__", "__builtins__": __builtins__}
    captured = io.StringIO()
    try:
        code = compile(SOLUTION, SOLUTION_FILE, "exec")
    except SyntaxError as exc:
        _say(False, "the solution does not compile: %s (solution line %s)" % (exc.msg, exc.lineno), 1)
    try:
        with contextlib.redirect_stdout(captured):
            exec(code, namespace)
    except SystemExit as exc:
        if exc.code not in (None, 0):
            _say(False, "the solution exited with %r before the tests ran" % (exc.code,), 1)
    except BaseException as exc:
        _say(False, _failure(exc, "solution"), 1)
    namespace["OUTPUT"] = captured.getvalue()
    try:
        tests = compile(TESTS, TESTS_FILE, "exec")
    except SyntaxError as exc:
        _say(False, "the tests do not compile: %s (tests line %s)" % (exc.msg, exc.lineno), 1)
    try:
        exec(tests, namespace)
        if ENTRY_POINT:
            if not callable(namespace.get("check")):
                _say(False, "the tests define no check(candidate) function to call with %s" % ENTRY_POINT, 1)
            if not callable(namespace.get(ENTRY_POINT)):
                _say(False, "the solution defines no function %s (the tests' entry point)" % ENTRY_POINT, 1)
            check = namespace["check"]
            assert callable(check)
            check(namespace[ENTRY_POINT])
    except SystemExit as exc:
        _say(False, "the tests stopped with SystemExit(%r) before they finished" % (exc.code,), 1)
    except BaseException as exc:
        _say(False, _failure(exc, "tests"), 1)
    asserts = sum(isinstance(n, ast.Assert) for n in ast.walk(ast.parse(TESTS)))
    called = "check(%s), " % ENTRY_POINT if ENTRY_POINT else ""
    _say(True, "tests passed: %s%d assert(s)" % (called, asserts), 0)


if __name__ == "__main__":
    main()
