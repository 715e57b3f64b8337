"""One test per sandbox guarantee, on the real engine and the real image."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
import time

import pytest
from autogen_core import CancellationToken
from autogen_core.code_executor import CodeBlock

from ecoagent.config import SandboxSettings
from ecoagent.sandbox import DockerSandboxExecutor, SandboxResult

pytestmark = pytest.mark.docker


def run(settings: SandboxSettings, code: str, lang: str = "python", **kw: object) -> SandboxResult:
    async def go() -> SandboxResult:
        async with DockerSandboxExecutor(settings) as ex:
            return await ex.run(code, lang, **kw)  # type: ignore[arg-type]

    return asyncio.run(go())


def _processes(container_attrs_id: str, docker_client) -> list[str]:  # type: ignore[no-untyped-def]
    top = docker_client.api.top(container_attrs_id, ps_args="-eo pid,user,args")
    return [" ".join(p) for p in top.get("Processes") or []]


# ---- network ------------------------------------------------------------------
@pytest.mark.parametrize(
    "target",
    [
        "socket.create_connection(('1.1.1.1', 53), timeout=3)",
        "socket.create_connection(('169.254.169.254', 80), timeout=3)",
        "socket.getaddrinfo('example.com', 80)",
    ],
    ids=["outbound-connect", "metadata-address", "dns"],
)
def test_network_is_unreachable(sandbox_settings: SandboxSettings, target: str) -> None:
    code = f"import socket\ntry:\n    {target}\n    print('REACHED')\nexcept OSError as e:\n    print('BLOCKED', e)\n"
    result = run(sandbox_settings, code)
    assert result.exit_code == 0, result.output
    assert "BLOCKED" in result.output and "REACHED" not in result.output


# ---- identity and filesystem ----------------------------------------------------
def test_non_root_no_caps_no_new_privs_readonly_usr(sandbox_settings: SandboxSettings) -> None:
    code = textwrap.dedent(
        """
        id -u
        grep -E '^(CapEff|NoNewPrivs)' /proc/self/status
        if touch /usr/ecoagent-x 2>/dev/null; then echo USR-WRITABLE; else echo usr-readonly; fi
        """
    )
    result = run(sandbox_settings, code, "sh")
    lines = result.output.split()
    assert lines[0] != "0"
    assert "CapEff:" in lines and lines[lines.index("CapEff:") + 1] == "0000000000000000"
    assert lines[lines.index("NoNewPrivs:") + 1] == "1"
    assert "usr-readonly" in lines and "USR-WRITABLE" not in lines


def test_secret_host_env_is_absent(sandbox_settings: SandboxSettings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECOAGENT_TEST_SECRET", "hunter2")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-should-not-leak")
    result = run(sandbox_settings, "env", "sh")
    assert "hunter2" not in result.output and "sk-should-not-leak" not in result.output
    allowed = sandbox_settings.model_copy(update={"env_allowlist": ["ECOAGENT_TEST_SECRET"]})
    assert "ECOAGENT_TEST_SECRET=hunter2" in run(allowed, "env", "sh").output


def test_only_the_scratch_workspace_is_mounted(sandbox_settings: SandboxSettings) -> None:
    async def go() -> dict:  # type: ignore[type-arg]
        async with DockerSandboxExecutor(sandbox_settings) as ex:
            return await asyncio.to_thread(ex.inspect)

    attrs = asyncio.run(go())
    assert attrs["Mounts"] == []
    host = attrs["HostConfig"]
    assert list((host.get("Tmpfs") or {}).keys()) == ["/workspace"]
    assert host["Binds"] in (None, [])
    assert host["NetworkMode"] == "none" and host["ReadonlyRootfs"] is True
    assert host["CapDrop"] == ["ALL"] and host["Init"] is True
    assert host["PidsLimit"] == sandbox_settings.pids_limit
    assert host["Memory"] == host["MemorySwap"] > 0


def test_workspace_is_size_limited(sandbox_settings: SandboxSettings) -> None:
    code = "f = open('big', 'wb')\nfor _ in range(200):\n    f.write(b'x' * (1 << 20))\n"
    result = run(sandbox_settings, code)
    assert result.exit_code != 0
    assert "No space left on device" in result.output


def test_dotdot_filename_is_rejected(sandbox_settings: SandboxSettings) -> None:
    async def go() -> SandboxResult:
        async with DockerSandboxExecutor(sandbox_settings) as ex:
            return await ex.execute_code_blocks(
                [CodeBlock(code="# filename: ../escape.py\nprint('ran')", language="python")],
                CancellationToken(),
            )

    result = asyncio.run(go())
    assert result.exit_code == 1
    assert "outside the sandbox workspace" in result.output and "ran" not in result.output


# ---- time, processes, memory, output ---------------------------------------------
def test_sigterm_ignoring_process_and_background_child_leave_nothing(
    sandbox_settings: SandboxSettings,
    docker_client,  # type: ignore[no-untyped-def]
) -> None:
    code = textwrap.dedent(
        """
        import signal, subprocess, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        subprocess.Popen(["sh", "-c", "trap '' TERM; sleep 1000"], start_new_session=True)
        print("started", flush=True)
        while True:
            time.sleep(1)
        """
    )

    async def go() -> tuple[SandboxResult, list[str]]:
        async with DockerSandboxExecutor(sandbox_settings) as ex:
            result = await ex.run(code, timeout_s=1.5)
            return result, _processes(ex.container_id, docker_client)  # type: ignore[arg-type]

    started = time.monotonic()
    result, procs = asyncio.run(go())
    assert result.timed_out and result.exit_code == 124
    assert "started" in result.output and "timed out" in result.output
    assert time.monotonic() - started < 1.5 + sandbox_settings.kill_grace_s + 5
    # Only the init and the supervisor may remain: nothing of the block survives.
    assert len(procs) == 2, procs
    assert any("docker-init" in p for p in procs) and any("The supervisor" in p for p in procs)
    assert not any("sleep 1000" in p or "tmp_code" in p for p in procs), procs


def test_hung_exec_returns_by_host_deadline(sandbox_settings: SandboxSettings) -> None:
    # The code freezes its own supervisor (same uid), so the in-container timeout
    # never reports back; only the host deadline can end this.
    code = textwrap.dedent(
        """
        import os, signal, time
        runner = int(open(f"/proc/{os.getppid()}/status").read().split("PPid:")[1].split()[0])
        print("freezing", runner, flush=True)
        os.kill(runner, signal.SIGSTOP)
        time.sleep(1000)
        """
    )
    settings = sandbox_settings.model_copy(update={"kill_grace_s": 0.5, "host_grace_s": 2.0})
    started = time.monotonic()
    result = run(settings, code, timeout_s=1.0)
    elapsed = time.monotonic() - started
    assert result.timed_out and result.exit_code == 124
    assert "host killed the container" in result.output
    assert elapsed < 1.0 + 0.5 + 2.0 + 5, elapsed


def test_fork_bomb_ends_and_next_block_runs(sandbox_settings: SandboxSettings) -> None:
    bomb = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"

    async def go() -> tuple[SandboxResult, SandboxResult, float]:
        async with DockerSandboxExecutor(sandbox_settings) as ex:
            t0 = time.monotonic()
            first = await ex.run(bomb, timeout_s=2)
            took = time.monotonic() - t0
            second = await ex.run("print('alive', 6 * 7)")
            return first, second, took

    first, second, took = asyncio.run(go())
    assert first.exit_code != 0
    assert took < 2 + sandbox_settings.kill_grace_s + sandbox_settings.host_grace_s + 2
    assert second.exit_code == 0 and "alive 42" in second.output


def test_memory_limit_is_reported_as_killed(sandbox_settings: SandboxSettings) -> None:
    async def go() -> tuple[SandboxResult, SandboxResult]:
        async with DockerSandboxExecutor(sandbox_settings.model_copy(update={"memory": "128m"})) as ex:
            hog = await ex.run("b = bytearray(600 * 1024 * 1024)\nprint('allocated')")
            after = await ex.run("print('still here')")
            return hog, after

    hog, after = asyncio.run(go())
    assert hog.exit_code == 137 and hog.oom_killed
    assert "out of memory" in hog.output and "allocated" not in hog.output
    assert after.exit_code == 0 and "still here" in after.output


def test_gigabyte_of_output_is_capped(sandbox_settings: SandboxSettings) -> None:
    code = "import sys\nchunk = 'x' * (1 << 20)\nfor _ in range(1024):\n    sys.stdout.write(chunk)\nprint('done')\n"
    result = run(sandbox_settings, code, timeout_s=60)
    marker_len = len(result.output) - result.output.index("\n[output truncated")
    assert result.truncated and result.exit_code == 0
    assert len(result.output) <= sandbox_settings.output_cap_bytes + marker_len
    assert marker_len < 200
    assert "more bytes not shown" in result.output


# ---- lifecycle ---------------------------------------------------------------------
def test_files_do_not_leak_between_queries(sandbox_settings: SandboxSettings) -> None:
    first = run(sandbox_settings, "open('secret.txt', 'w').write('q1')\nprint('written')")
    assert "written" in first.output
    second = run(sandbox_settings, "import os\nprint(sorted(os.listdir('.')))")
    assert "secret.txt" not in second.output


def test_blocks_of_one_query_share_the_workspace(sandbox_settings: SandboxSettings) -> None:
    async def go() -> SandboxResult:
        async with DockerSandboxExecutor(sandbox_settings) as ex:
            return await ex.execute_code_blocks(
                [CodeBlock("open('data.txt', 'w').write('42')", "python"), CodeBlock("cat data.txt", "sh")],
                CancellationToken(),
            )

    result = asyncio.run(go())
    assert result.exit_code == 0 and result.output.strip().endswith("42")


def test_crashed_runs_container_is_reaped_at_next_start(
    sandbox_settings: SandboxSettings,
    docker_client,  # type: ignore[no-untyped-def]
) -> None:
    script = textwrap.dedent(
        f"""
        import asyncio, os, signal
        from ecoagent.config import SandboxSettings
        from ecoagent.sandbox import DockerSandboxExecutor
        async def main():
            ex = DockerSandboxExecutor(SandboxSettings(image={sandbox_settings.image!r}))
            await ex.start()
            print(ex.container_id, flush=True)
            os.kill(os.getpid(), signal.SIGKILL)
        asyncio.run(main())
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == -9, proc.stderr
    orphan = proc.stdout.strip()
    # left behind: still running, or exited once its supervisor saw the dead owner's stream close
    assert docker_client.containers.get(orphan).status in ("running", "exited")

    async def go() -> None:
        async with DockerSandboxExecutor(sandbox_settings):
            pass

    asyncio.run(go())
    ids = [c.id for c in docker_client.containers.list(all=True)]
    assert orphan not in ids


def test_stop_removes_the_container(sandbox_settings: SandboxSettings, docker_client) -> None:  # type: ignore[no-untyped-def]
    async def go() -> str:
        async with DockerSandboxExecutor(sandbox_settings) as ex:
            await ex.run("print(1)")
            return ex.container_id  # type: ignore[return-value]

    cid = asyncio.run(go())
    assert cid not in [c.id for c in docker_client.containers.list(all=True)]


def test_cancellation_stops_the_container(sandbox_settings: SandboxSettings, docker_client) -> None:  # type: ignore[no-untyped-def]
    async def go() -> str:
        ex = DockerSandboxExecutor(sandbox_settings)
        await ex.start()
        cid = ex.container_id
        token = CancellationToken()
        task = asyncio.ensure_future(ex.run("import time\ntime.sleep(30)", token=token))
        while not any("timeout" in " ".join(p) for p in ex._container.top()["Processes"]):  # until the block runs
            await asyncio.sleep(0.05)
        token.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await ex.stop()
        return cid  # type: ignore[return-value]

    started = time.monotonic()
    cid = asyncio.run(go())
    assert time.monotonic() - started < 15
    assert cid not in [c.id for c in docker_client.containers.list(all=True)]


def test_timing_and_json_fields(sandbox_settings: SandboxSettings) -> None:
    result = run(sandbox_settings, "print('hello')")
    data = result.to_json()
    assert set(data) == {"exit_code", "output", "timed_out", "truncated", "duration_s"}
    assert data["exit_code"] == 0 and data["output"] == "hello\n" and data["duration_s"] > 0
    json.dumps(data)
    assert os.environ.get("ECOAGENT_HOME")  # the isolation fixture is active


# ---- the in-container supervisor -----------------------------------------------------
_FIND_SUPERVISOR = textwrap.dedent(
    """
    import os, signal
    def ppid(pid):
        return int(open(f"/proc/{pid}/status").read().split("PPid:")[1].split()[0])
    supervisor = ppid(os.getppid())  # code -> timeout -> supervisor
    """
)


def test_code_cannot_write_into_the_reply_stream(sandbox_settings: SandboxSettings) -> None:
    code = _FIND_SUPERVISOR + textwrap.dedent(
        """
        try:
            with open(f"/proc/{supervisor}/fd/1", "wb") as f:
                f.write(b"forged 0 0 0 0 0\\n")
            print("WROTE")
        except OSError as e:
            print("DENIED", e.errno)
        """
    )
    result = run(sandbox_settings, code)
    assert "DENIED" in result.output and "WROTE" not in result.output


def test_killing_the_supervisor_gets_a_fresh_container(sandbox_settings: SandboxSettings) -> None:
    async def go() -> tuple[SandboxResult, SandboxResult, str | None, str | None]:
        async with DockerSandboxExecutor(sandbox_settings) as ex:
            before = ex.container_id
            killed = await ex.run(_FIND_SUPERVISOR + "os.kill(supervisor, signal.SIGKILL)\n")
            after = await ex.run("print('fresh', 1 + 1)")
            return killed, after, before, ex.container_id

    killed, after, before, now = asyncio.run(go())
    assert killed.exit_code != 0 and "supervisor was killed" in killed.output
    assert after.exit_code == 0 and "fresh 2" in after.output
    assert before != now


def test_reaping_leftovers_while_other_containers_come_and_go_never_fails(docker_client, sandbox_image: str) -> None:  # type: ignore[no-untyped-def]
    """Queries on a server start and remove containers all the time; the reaper that runs
    before each start must not fail on one that went between listing and looking at it."""
    import socket
    import threading

    from ecoagent.sandbox.engine import LABEL, LABEL_OWNER, reap_leftovers

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    labels = {LABEL: "1", LABEL_OWNER: f"{socket.gethostname()}:{dead.pid}"}
    made = [
        docker_client.containers.create(sandbox_image, command=["true"], labels=labels, network_disabled=True)
        for _ in range(24)
    ]
    errors: list[BaseException] = []
    start = threading.Barrier(5)

    def reap() -> None:
        try:
            start.wait()
            for _ in range(3):
                reap_leftovers(docker_client)
        except BaseException as exc:
            errors.append(exc)

    def others_finish() -> None:  # other queries' containers going, newest first, as the reapers look
        start.wait()
        for container in reversed(made):
            try:
                container.remove(force=True)
            except Exception:
                pass

    threads = [threading.Thread(target=reap) for _ in range(4)] + [threading.Thread(target=others_finish)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert docker_client.containers.list(all=True, filters={"label": f"{LABEL_OWNER}={labels[LABEL_OWNER]}"}) == []
