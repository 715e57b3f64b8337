"""The supervisor that runs code blocks *inside* the sandbox container. Stdlib only.

The host starts it as the container's main process (under ``--init``), with this
file's source passed to ``python3 -I -S -c``, so supervisor and ecoagent never
drift apart and the image needs no ecoagent code. It then serves one block per
request over the container's attached stdin/stdout, so a warm block costs no
``docker exec`` (tens of milliseconds on most engines) and no interpreter start:

request   ``NONCE TIMEOUT GRACE CAP LANG FILENAME_B64 CODE_B64\\n``
response  ``NONCE RC TIMED_OUT CUT OOM NBYTES\\n`` followed by NBYTES of output

For each block it:

1. writes the block to its file in the workspace;
2. runs it under ``timeout -k GRACE T`` (SIGTERM at T, SIGKILL GRACE later) in a
   new session, stdout and stderr merged into a pipe, stdin from /dev/null;
3. keeps at most CAP bytes of output and only *counts* the rest, so a program
   printing gigabytes neither blocks nor fills anyone's memory;
4. when the program ends (or its deadline passes) kills every other process of the
   sandbox user — background children, ``setsid`` escapees, fork-bomb leftovers —
   with ``kill(-1, SIGKILL)``, which spares only the caller (this supervisor) and
   PID 1 (the init).

The supervisor marks itself non-dumpable, so code running as the same user cannot
open its ``/proc/PID/fd`` to write into the response stream; the host also checks
the nonce. Code *can* signal it (same uid): then the host sees the stream end or
stall, kills the container and starts a fresh one.
"""

from __future__ import annotations

import binascii
import os
import select
import signal
import sys
import time
from typing import BinaryIO


def _non_dumpable() -> None:
    try:
        import ctypes

        ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4
    except Exception:
        pass


INTERPRETERS = {"python": ["python3"], "sh": ["sh"], "bash": ["bash"]}


class _Child:
    """The spawned ``timeout`` process; remembers its exit code once reaped."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.rc: int | None = None

    def poll(self) -> int | None:
        if self.rc is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                return self.rc
            if pid:
                self.rc = os.waitstatus_to_exitcode(status)
        return self.rc

    def wait(self, timeout: float) -> int | None:
        end = time.monotonic() + timeout
        while self.poll() is None and time.monotonic() < end:
            time.sleep(0.001)
        return self.rc


def _oom_kills() -> int:
    """OOM kills so far in this container's memory cgroup (v2 or v1), or -1."""
    for path in ("/sys/fs/cgroup/memory.events", "/sys/fs/cgroup/memory/memory.oom_control"):
        try:
            with open(path) as f:
                for line in f:
                    key, _, value = line.partition(" ")
                    if key == "oom_kill":
                        return int(value)
        except (OSError, ValueError):
            continue
    return -1


def _others_alive() -> bool:
    """Whether any live (non-zombie) process of our uid other than us remains.

    ``kill(-1)`` cannot tell us: it succeeds while any process is merely *found*,
    including zombies not yet reaped by the init. /proc can.
    """
    me, uid = os.getpid(), str(os.getuid())
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) in (1, me):
            continue
        try:
            with open("/proc/%s/status" % name) as f:
                fields = dict(line.split(":", 1) for line in f if ":" in line)
        except OSError:
            continue  # it just went away
        if fields.get("Uid", "").split()[:1] == [uid] and not fields.get("State", "").strip().startswith("Z"):
            return True
    return False


def _kill_everything_else(child: _Child) -> None:
    """SIGKILL every process this user may signal, except this one; reap our child."""
    for _ in range(400):  # a fork bomb may respawn between sweeps: sweep until quiet
        try:
            os.kill(-1, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        child.poll()
        if not _others_alive():
            return
        time.sleep(0.005)


def run_block(
    timeout: float, grace: float, cap: int, lang: str, filename: str, code: bytes
) -> tuple[int, bool, int, bool, bytes]:
    """Run one block; return (rc, timed_out, cut, oom, output bytes)."""
    try:
        tmpdir = os.environ.get("TMPDIR")
        if tmpdir:
            os.makedirs(tmpdir, exist_ok=True)
        parent = os.path.dirname(filename)
        if parent:
            os.makedirs(parent, exist_ok=True)
        with open(filename, "wb") as f:
            f.write(code)
    except OSError as exc:
        return 1, False, 0, False, ("could not write %s: %s\n" % (filename, exc)).encode()

    oom_before = _oom_kills()
    argv = ["timeout", "-k", "%gs" % grace, "%gs" % timeout] + INTERPRETERS[lang] + [filename]
    read_end, write_end = os.pipe()  # both close-on-exec; dup2 makes the child's copies inheritable
    devnull = os.open(os.devnull, os.O_RDONLY)
    try:
        pid = os.posix_spawnp(
            "timeout",
            argv,
            os.environ,
            file_actions=[
                (os.POSIX_SPAWN_DUP2, devnull, 0),
                (os.POSIX_SPAWN_DUP2, write_end, 1),
                (os.POSIX_SPAWN_DUP2, write_end, 2),
            ],
            setsid=True,
        )
    except OSError as exc:
        for fd in (read_end, write_end, devnull):
            os.close(fd)
        return 126, False, 0, False, ("could not start %s: %s\n" % (argv[4], exc)).encode()
    os.close(write_end)
    os.close(devnull)
    child = _Child(pid)
    started = time.monotonic()
    # Backstop in case `timeout` itself is starved (fork bomb): we act slightly later.
    backstop = started + timeout + grace + 1.0
    output = bytearray()
    cut = 0
    swept = hit_backstop = False
    try:
        while True:
            if time.monotonic() >= backstop and not hit_backstop:
                _kill_everything_else(child)
                swept = hit_backstop = True
            if not swept and child.poll() is not None:
                # The program is done; anything still holding the pipe is a leftover.
                _kill_everything_else(child)
                swept = True
            ready, _, _ = select.select([read_end], [], [], 0.05)
            if not ready:
                continue
            chunk = os.read(read_end, 65536)
            if not chunk:
                break
            room = cap - len(output)
            if room > 0:
                output += chunk[:room]
            cut += max(0, len(chunk) - max(room, 0))
    finally:
        os.close(read_end)
    if not swept:
        # EOF can come before `timeout` itself has exited; let it finish first, or
        # the sweep below would SIGKILL it and turn a clean exit into 137.
        if child.wait(max(0.05, backstop - time.monotonic())) is None:
            hit_backstop = True
        _kill_everything_else(child)
    rc = child.wait(5.0)
    rc = 137 if rc is None else (128 - rc if rc < 0 else rc)
    # 124: `timeout` stopped it with SIGTERM. 137 after the deadline: the `-k` SIGKILL
    # (a SIGKILL before the deadline is something else, usually the OOM killer).
    elapsed = time.monotonic() - started
    timed_out = hit_backstop or rc == 124 or (rc in (137, 143) and elapsed >= timeout)
    oom = oom_before >= 0 and _oom_kills() > oom_before
    return rc, timed_out, cut, oom, bytes(output)


def serve(stdin: BinaryIO, stdout: BinaryIO) -> None:
    """Answer requests until the host closes stdin."""
    while True:
        line = stdin.readline()
        if not line:
            return
        fields = line.split()
        nonce = fields[0] if fields else b"-"
        try:
            _, timeout, grace, cap, lang, name_b64, code_b64 = fields
            filename = binascii.a2b_base64(name_b64).decode()
            code = binascii.a2b_base64(code_b64)
            rc, timed_out, cut, oom, output = run_block(
                float(timeout), float(grace), int(cap), lang.decode(), filename, code
            )
        except Exception as exc:  # a malformed request must not kill the supervisor
            rc, timed_out, cut, oom, output = 125, False, 0, False, ("supervisor: %r\n" % (exc,)).encode()
        header = "%s %d %d %d %d %d\n" % (nonce.decode(), rc, timed_out, cut, oom, len(output))
        stdout.write(header.encode() + output)
        stdout.flush()


if __name__ == "__main__":
    _non_dumpable()
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    serve(sys.stdin.buffer, sys.stdout.buffer)
