"""Runs one code block *inside* the sandbox container. Stdlib only, Python 3.9+.

The host sends this file's source to ``python3 -I -S -c`` with the block as base64
arguments, so runner and ecoagent can never drift apart and the image needs no
ecoagent code. One ``docker exec`` per block does everything:

1. writes the block to its file in the workspace;
2. runs it under ``timeout -k GRACE T`` (SIGTERM at T, SIGKILL GRACE later) in a
   new session, stdout and stderr merged, stdin closed;
3. streams at most CAP bytes of output to its own stdout and only *counts* the rest,
   so a program printing gigabytes neither blocks nor fills anyone's memory;
4. when the program ends (or its deadline passes) kills every remaining process of
   the sandbox user: background children, ``setsid`` escapees, fork-bomb leftovers.
   ``kill(-1, SIGKILL)`` reaches them all because the container's keeper process
   runs as another user and PID 1 (the init) is immune;
5. prints a trailer line ``\\n<MARKER>{json}`` with the exit code, whether it timed
   out, how many bytes were cut and whether the kernel OOM-killed something.

Usage: ``python3 -c SRC TIMEOUT GRACE CAP LANG FILENAME B64CHUNK...``
"""

import base64
import json
import os
import select
import signal
import subprocess
import sys
import time

MARKER = "\x00ECOAGENT-RESULT\x00"
INTERPRETERS = {"python": ["python3"], "sh": ["sh"], "bash": ["bash"]}


def _oom_kills():
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


def _others_alive():
    """Whether any live (non-zombie) process of our uid other than us remains.

    ``kill(-1)`` cannot tell us: processes of other users (the keeper) count as
    signalled-with-EPERM, so it never fails with ESRCH. /proc can.
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


def _kill_everything_else(child):
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


def main(argv):
    timeout, grace, cap = float(argv[1]), float(argv[2]), int(argv[3])
    lang, filename = argv[4], argv[5]
    code = base64.b64decode("".join(argv[6:]))
    out = sys.stdout.buffer
    tmpdir = os.environ.get("TMPDIR")
    try:
        if tmpdir:
            os.makedirs(tmpdir, exist_ok=True)
        parent = os.path.dirname(filename)
        if parent:
            os.makedirs(parent, exist_ok=True)
        with open(filename, "wb") as f:
            f.write(code)
    except OSError as exc:
        out.write(("could not write %s: %s\n" % (filename, exc)).encode())
        out.write((MARKER + json.dumps({"rc": 1, "timed_out": False, "cut": 0, "oom": False})).encode())
        return 0

    oom_before = _oom_kills()
    argv_child = ["timeout", "-k", "%gs" % grace, "%gs" % timeout] + INTERPRETERS[lang] + [filename]
    child = subprocess.Popen(
        argv_child,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    fd = child.stdout.fileno()
    started = time.monotonic()
    # Backstop in case `timeout` itself is starved (fork bomb): we act slightly later.
    backstop = started + timeout + grace + 1.0
    written = cut = 0
    swept = hit_backstop = False
    while True:
        now = time.monotonic()
        if now >= backstop and not hit_backstop:
            _kill_everything_else(child)
            swept = hit_backstop = True
        if child.poll() is not None and not swept:
            # The program is done; anything still holding the pipe is a leftover.
            _kill_everything_else(child)
            swept = True
        ready, _, _ = select.select([fd], [], [], 0.05)
        if not ready:
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        room = cap - written
        if room > 0:
            out.write(chunk[:room])
            out.flush()
            written += min(room, len(chunk))
        cut += max(0, len(chunk) - max(room, 0))
    if not swept:
        # EOF can come before `timeout` itself has exited; let it finish first, or
        # the sweep below would SIGKILL it and turn a clean exit into 137.
        try:
            child.wait(timeout=max(0.05, backstop - time.monotonic()))
        except subprocess.TimeoutExpired:
            hit_backstop = True
        _kill_everything_else(child)
    rc = child.wait()
    if rc < 0:
        rc = 128 - rc
    # 124: `timeout` stopped it with SIGTERM. 137 after the deadline: the `-k` SIGKILL
    # (a SIGKILL before the deadline is something else, usually the OOM killer).
    elapsed = time.monotonic() - started
    timed_out = hit_backstop or rc == 124 or (rc in (137, 143) and elapsed >= timeout)
    oom_after = _oom_kills()
    result = {
        "rc": rc,
        "timed_out": bool(timed_out),
        "cut": cut,
        "oom": oom_before >= 0 and oom_after > oom_before,
    }
    out.write(("\n" + MARKER + json.dumps(result)).encode())
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
