"""A user's kernel process is started, watched, restarted after a crash and stopped, and nothing of it
(process, zombie, connection file) remains afterwards, whichever way it ended."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time

import pytest

from jup.core.errors import KernelDied, KernelError, KernelTimeout, NoSuchKernel
from jup.core.kernelspec import KernelSpec
from jup.core.manager import BlockingKernelManager, KernelManager, KernelPool, KernelState, RestartPolicy
from jup.core.testing import fake_kernel_spec, first_port_taken, leftover_processes

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(autouse=True)
def runtime_dir(tmp_path, monkeypatch):
    rd = tmp_path / "runtime"
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(rd))
    return rd


def conn_files(rd) -> list:
    return sorted(rd.glob("kernel-*.json")) if rd.exists() else []


class Events:
    """Collects KernelEvents and lets a test wait for one by name, with a deadline."""

    def __init__(self, km: KernelManager):
        self.seen: list = []
        self._cond = asyncio.Condition()
        self._loop = asyncio.get_running_loop()
        km.on_event(self._on)

    def _on(self, ev) -> None:
        self.seen.append(ev)

        async def notify():
            async with self._cond:
                self._cond.notify_all()
        self._loop.create_task(notify())

    async def wait(self, name: str, count: int = 1, timeout: float = 20.0):
        async with asyncio.timeout(timeout):
            async with self._cond:
                await self._cond.wait_for(lambda: sum(e.name == name for e in self.seen) >= count)
        return [e for e in self.seen if e.name == name][count - 1]


async def start_sleeping(kc) -> str:
    """Send a cell that sleeps 30 s; return its msg_id once it runs (it says so on iopub).

    An interrupt that lands before the cell starts finds an idle kernel and stops nothing."""
    await kc.wait_for_ready(timeout=20)  # iopub joined, so the cell's print is not missed
    msg_id = await kc.execute("print('sleeping'); import time; time.sleep(30)")
    async with asyncio.timeout(20):
        for _ in range(1000):  # the cell's busy, execute_input, then its print; bounded
            msg = await kc.get_iopub_msg()
            if msg["msg_type"] == "stream" and msg["parent_header"].get("msg_id") == msg_id:
                return msg_id
    raise AssertionError("the sleeping cell did not start")


async def test_start_execute_shutdown_leaves_nothing(runtime_dir):
    km = KernelManager(fake_kernel_spec())
    await km.start()
    pid = km.pid
    assert km.state is KernelState.RUNNING and km.is_alive()
    cf = conn_files(runtime_dir)
    assert len(cf) == 1 and (cf[0].stat().st_mode & 0o777) == 0o600
    kc = km.client()
    reply = await kc.execute("6*7", reply=True, timeout=10)
    assert reply["content"]["status"] == "ok"
    kc.stop_channels()
    t0 = time.monotonic()
    await km.shutdown()
    assert time.monotonic() - t0 < 3, "a polite shutdown must not wait for the SIGTERM fallback"
    assert km.state is KernelState.SHUTDOWN and not km.is_alive()
    assert conn_files(runtime_dir) == []
    assert leftover_processes([pid]) == []


async def test_crash_exit_code_is_reported_and_kernel_restarts(runtime_dir):
    km = KernelManager(fake_kernel_spec())
    events = Events(km)
    await km.start()
    first = km.pid
    kc = km.client()
    await kc.execute("import os; os._exit(3)")
    ev = await events.wait("restarting")
    assert isinstance(ev.error, KernelDied) and ev.error.returncode == 3
    assert "exited with code 3" in str(ev.error)
    assert "os._exit(3)" in str(ev.error), "the user is told which cell was running"
    await events.wait("restarted")
    assert km.pid != first and km.is_alive()
    reply = await kc.execute("1+1", reply=True, timeout=10)  # same client, same ports
    assert reply["content"]["status"] == "ok"
    kc.stop_channels()
    await km.shutdown()
    assert conn_files(runtime_dir) == [] and leftover_processes([first, km.pid]) == []


async def test_kill_9_is_reported_as_sigkill(runtime_dir):
    km = KernelManager(fake_kernel_spec())
    events = Events(km)
    await km.start()
    first = km.pid
    os.kill(first, signal.SIGKILL)
    ev = await events.wait("restarting")
    assert ev.error.signal == signal.SIGKILL and "SIGKILL" in str(ev.error)
    assert "out of memory" not in str(ev.error)
    await events.wait("restarted")
    assert leftover_processes([first]) == [], "the killed kernel was reaped (no zombie)"
    await km.shutdown(now=True)
    assert conn_files(runtime_dir) == [] and leftover_processes([km.pid]) == []


async def test_gives_up_after_too_many_crashes(runtime_dir):
    km = KernelManager(fake_kernel_spec(), restart_policy=RestartPolicy(max_restarts=2, window=60,
                                                                        backoff=0.01))
    events = Events(km)
    await km.start()
    pids = []
    for i in range(3):
        pids.append(km.pid)
        kc = km.client()
        await kc.execute("import os; os._exit(5)")
        kc.stop_channels()
        if i < 2:
            await events.wait("restarted", i + 1)
    died = await events.wait("died")
    assert "exited with code 5" in died.message and "not restarted" in died.message
    assert km.state is KernelState.DEAD
    assert conn_files(runtime_dir) == [], "a dead kernel leaves no connection file"
    assert leftover_processes(pids) == []
    await km.shutdown()


async def test_children_of_a_killed_kernel_are_cleaned_up(runtime_dir):
    km = KernelManager(fake_kernel_spec())
    events = Events(km)
    await km.start()
    kc = km.client()
    reply = await kc.execute("import subprocess, sys; p = subprocess.Popen([sys.executable, '-c', "
                             "'import time; time.sleep(60)']); p.pid", reply=True, timeout=10)
    assert reply["content"]["status"] == "ok"
    pid = km.pid
    os.kill(pid, signal.SIGKILL)
    await events.wait("restarted")
    assert leftover_processes([pid]) == [], "the kernel's own children die with it"
    kc.stop_channels()
    await km.shutdown()


async def test_interrupt_by_signal_stops_a_running_cell():
    km = KernelManager(fake_kernel_spec("signal"))
    await km.start()
    kc = km.client()
    msg_id = await start_sleeping(kc)
    assert await km.interrupt() is None  # SIGINT has no reply to report
    reply = await kc.get_shell_msg(timeout=10)
    assert reply["parent_header"]["msg_id"] == msg_id
    assert reply["content"]["status"] == "error" and reply["content"]["ename"] == "KeyboardInterrupt"
    kc.stop_channels()
    await km.shutdown()


async def test_interrupt_by_message_returns_the_kernels_answer():
    km = KernelManager(fake_kernel_spec("message"))
    await km.start()
    kc = km.client()
    await start_sleeping(kc)
    answer = await km.interrupt()
    assert answer["status"] == "ok"
    reply = await kc.get_shell_msg(timeout=10)
    assert reply["content"]["ename"] == "KeyboardInterrupt"
    kc.stop_channels()
    await km.shutdown()


async def test_restart_keeps_connection_and_forgets_state(runtime_dir):
    km = KernelManager(fake_kernel_spec())
    events = Events(km)
    await km.start()
    old = km.pid
    kc = km.client()
    await kc.execute("x = 1", reply=True, timeout=10)
    await km.restart()
    await events.wait("restarted")
    assert km.pid != old and leftover_processes([old]) == []
    reply = await kc.execute("x", reply=True, timeout=10)
    assert reply["content"]["ename"] == "NameError"
    assert len(conn_files(runtime_dir)) == 1
    kc.stop_channels()
    await km.shutdown()
    assert conn_files(runtime_dir) == []


async def test_shutdown_of_a_kernel_that_ignores_the_request(runtime_dir, tmp_path):
    script = tmp_path / "deaf.py"  # binds nothing, ignores SIGTERM: only SIGKILL stops it
    script.write_text("import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
                      "print('ready', flush=True)\ntime.sleep(120)\n")
    spec = KernelSpec(name="deaf", argv=[sys.executable, str(script), "{connection_file}"])
    km = KernelManager(spec, shutdown_wait=0.3)
    await km.start(wait=False)
    pid = km.pid
    t0 = time.monotonic()
    await km.shutdown()
    assert time.monotonic() - t0 < 10
    assert leftover_processes([pid]) == [] and conn_files(runtime_dir) == []


async def test_kernel_that_dies_during_start_says_so(runtime_dir):
    spec = KernelSpec(name="broken", argv=[sys.executable, "-c", "import sys; sys.exit(7)", "{connection_file}"])
    km = KernelManager(spec)
    with pytest.raises(KernelDied, match="exited with code 7"):
        await km.start(timeout=20)
    assert km.state is KernelState.DEAD and conn_files(runtime_dir) == []


async def test_a_port_taken_before_the_kernel_binds_it_gets_the_kernel_started_on_fresh_ports(
        runtime_dir, tmp_path):
    """Ports are picked free but bound only by the kernel; another process that binds one in between
    (here: this test's own listening socket) must not fail the start."""
    from jup.core.protocol.connection import ConnectionInfo

    with first_port_taken("shell") as handed:
        km = KernelManager(fake_kernel_spec(), heartbeat_interval=0)
        try:
            await km.start(timeout=20)
            taken, handed_port = handed[0].shell_port, km.connection_info.shell_port
            assert len(handed) == 2 and km.connection_info is handed[1] and handed_port != taken
            assert ConnectionInfo.read(km.connection_file).shell_port == handed_port
            kc = km.client()
            reply = await kc.execute("6*7", reply=True, timeout=10)  # the manager's clients use the new ports
            kc.stop_channels()
            assert reply["content"]["status"] == "ok"
        finally:
            await km.shutdown(now=True)
        assert leftover_processes([km.pid]) == [] and conn_files(runtime_dir) == []

        # a kernel that dies at start while its ports are free is broken, not unlucky: started once
        runs = tmp_path / "runs"
        spec = KernelSpec(name="broken", argv=[sys.executable, "-c", f"open({str(runs)!r}, 'a').write('x'); exit(7)",
                                               "{connection_file}"])
        before = len(handed)
        with pytest.raises(KernelDied, match="exited with code 7"):
            await KernelManager(spec).start(timeout=20)
        assert runs.read_text() == "x" and len(handed) == before + 1


async def test_kernel_that_never_answers_times_out(runtime_dir, tmp_path):
    spec = KernelSpec(name="mute", argv=[sys.executable, "-c", "import time; time.sleep(60)", "{connection_file}"])
    km = KernelManager(spec)
    with pytest.raises(KernelTimeout, match="did not answer within"):
        await km.start(timeout=1.0)
    assert leftover_processes([km.pid]) == [] and conn_files(runtime_dir) == []


async def test_bad_names_and_commands_say_what_to_do():
    with pytest.raises(NoSuchKernel, match="Available:"):
        KernelManager("no-such-kernel-xyz")
    km = KernelManager(KernelSpec(name="nothing", argv=["/nonexistent/kernel-binary", "{connection_file}"]))
    with pytest.raises(FileNotFoundError, match="kernelspec's argv"):
        await km.start()
    with pytest.raises(KernelError, match="not running"):
        await km.interrupt()


def test_blocking_manager_full_cycle(runtime_dir):
    import threading
    with BlockingKernelManager(fake_kernel_spec()) as km:
        restarted = threading.Event()
        km.on_event(lambda ev: restarted.set() if ev.name == "restarted" else None)
        kc = km.client()
        assert kc.execute("2**10", reply=True, timeout=10)["content"]["status"] == "ok"
        first = km.pid
        os.kill(first, signal.SIGKILL)
        assert restarted.wait(20), "the blocking manager restarts in the background"
        assert km.last_death.signal == signal.SIGKILL
        assert kc.execute("1", reply=True, timeout=10)["content"]["status"] == "ok"
        kc.stop_channels()
    assert conn_files(runtime_dir) == [] and leftover_processes([first, km.pid]) == []


async def test_warm_pool_hands_over_a_ready_kernel_fast(runtime_dir, tmp_path):
    pool = KernelPool(fake_kernel_spec(), size=1)
    await pool.start(wait=True)
    assert pool.ready == 1
    t0 = time.perf_counter()
    km = await pool.take(cwd=str(tmp_path))
    took = time.perf_counter() - t0
    kc = km.client()
    t1 = time.perf_counter()
    # wait_for_ready: kernel_info answered AND our iopub subscription live (a SUB that has not
    # joined yet would miss the cell's output below)
    info = await kc.wait_for_ready(timeout=5)
    first_reply = time.perf_counter() - t1
    assert info["content"]["status"] == "ok"
    assert took < 0.05 and first_reply < 0.05, (took, first_reply)
    reply = await kc.execute("", user_expressions={"cwd": "__import__('os').getcwd()"}, reply=True, timeout=5)
    assert reply["content"]["user_expressions"]["cwd"]["data"]["text/plain"] == repr(str(tmp_path))
    async with asyncio.timeout(20):
        while pool.ready < 1:  # refilled in the background
            await asyncio.sleep(0.05)
    pooled_pids = [k.pid for k in pool._ready]
    kc.stop_channels()
    await pool.shutdown()
    await km.shutdown()
    assert leftover_processes(pooled_pids + [km.pid]) == [] and conn_files(runtime_dir) == []
    assert not os.path.exists(pool.neutral_dir)


async def test_a_segfault_is_named(runtime_dir):
    km = KernelManager(fake_kernel_spec(), autorestart=False)
    events = Events(km)
    await km.start()
    kc = km.client()
    await kc.execute("import ctypes; ctypes.string_at(0)")
    died = await events.wait("died")
    assert "SIGSEGV" in str(died.error) and "ctypes.string_at(0)" in str(died.error)
    kc.stop_channels()
    await km.shutdown()
    assert conn_files(runtime_dir) == []


def test_out_of_memory_evidence():
    from jup.core.manager import death
    assert isinstance(death.oom_kill_count(), int | type(None))
    limit = death.memory_limit()
    assert limit is None or limit > 0
    assert death.rss(os.getpid()) > 0
    assert death.likely_oom(-9, 0, 1, None, None), "the cgroup's oom_kill counter rose"
    assert death.likely_oom(-9, 0, 0, 950, 1000), "SIGKILL with RSS at 95 % of the limit"
    assert not death.likely_oom(-9, 0, 0, 100, 1000), "a plain kill -9 is not an OOM"
    assert not death.likely_oom(3, 0, 0, 990, 1000), "an exit code is not an OOM"
    err = KernelDied(-9, cell="x = [0] * 10**10", oom=True, kernel_name="kernel 'py'")
    assert "killed by SIGKILL (likely out of memory)" in str(err) and "x = [0] * 10**10" in str(err)


def test_the_fake_kernel_exits_when_the_process_that_started_it_dies(tmp_path):
    """A test that dies before its teardown must not leave fake kernels behind."""
    import subprocess
    import sys

    from jup.core.protocol.connection import ConnectionInfo

    cf = ConnectionInfo.allocate().write(tmp_path / "kernel-fake.json")
    starter = ("import os, subprocess, sys\n"
               "p = subprocess.Popen([sys.executable, '-m', 'jup.core.testing', '-f', sys.argv[1]],"
               " env={**os.environ, 'JPY_PARENT_PID': str(os.getpid())})\n"
               "print(p.pid, flush=True)\n")
    out = subprocess.run([sys.executable, "-c", starter, str(cf)], capture_output=True, text=True,
                         timeout=30)
    pid = int(out.stdout.split()[0])
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and leftover_processes([pid]):  # bounded by the deadline
        time.sleep(0.05)  # polling a process table, not synchronising with it
    assert leftover_processes([pid]) == [], "the orphaned fake kernel is still running"


# ---- heartbeat, backoff, a manager killed -9 ------------------------------------------------------

async def test_a_frozen_kernel_is_reported_unresponsive_then_responsive_and_not_restarted(runtime_dir):
    """SIGSTOP freezes the kernel (as C code that never returns would): after two missed heartbeats
    the frontend hears `unresponsive`; when it runs again, `responsive`. A stuck kernel is not dead:
    it keeps its pid and its state."""
    interval = 0.5
    km = KernelManager(fake_kernel_spec(), heartbeat_interval=interval)
    events = Events(km)
    await km.start()
    pid = km.pid
    try:
        t0 = time.monotonic()
        os.kill(pid, signal.SIGSTOP)
        ev = await events.wait("unresponsive", timeout=10)
        frozen_for = time.monotonic() - t0
        # a beat waits one interval and pings with half an interval's timeout; after a miss the
        # next ping goes at once; two misses make it: within two intervals (+ a loaded machine)
        assert frozen_for <= 2 * interval + 0.5, frozen_for
        assert "does not answer its heartbeat" in ev.message
        t1 = time.monotonic()
        os.kill(pid, signal.SIGCONT)
        back = await events.wait("responsive", timeout=10)
        assert time.monotonic() - t1 <= 2 * interval + 1.0
        assert back.message == "The kernel answers its heartbeat again."
    finally:
        os.kill(pid, signal.SIGCONT)
    assert km.pid == pid and km.state is KernelState.RUNNING
    assert not [e for e in events.seen if e.name in ("restarting", "died")]
    kc = km.client()
    assert (await kc.execute("1+1", reply=True, timeout=10))["content"]["status"] == "ok"
    kc.stop_channels()
    await km.shutdown()
    assert conn_files(runtime_dir) == [] and leftover_processes([pid]) == []


#: A kernel that starts once and then fails at every start: it appends when it was started (the
#: monotonic clock is system-wide on Linux) to a file, so the test sees the real delays.
CRASH_LOOP = """\
import os, sys, time
marker, stamps, connection_file = sys.argv[1:4]
with open(stamps, "a") as f:
    f.write(f"{time.monotonic()}\\n")
if os.path.exists(marker):
    sys.exit(4)
open(marker, "w").close()
os.execv(sys.executable, [sys.executable, "-m", "jup.core.testing", "-f", connection_file])
"""


async def test_restarts_of_a_kernel_that_keeps_dying_back_off_then_give_up(runtime_dir, tmp_path):
    script, marker, stamps = tmp_path / "crashloop.py", tmp_path / "started-once", tmp_path / "starts"
    script.write_text(CRASH_LOOP)
    spec = KernelSpec(name="crashloop", argv=[sys.executable, str(script), str(marker), str(stamps),
                                              "{connection_file}"])
    policy = RestartPolicy(max_restarts=4, window=60, backoff=0.2, max_backoff=5)
    km = KernelManager(spec, restart_policy=policy)
    events = Events(km)
    when: list[tuple[str, float]] = []
    km.on_event(lambda ev: when.append((ev.name, time.monotonic())))
    await km.start()
    first = km.pid
    os.kill(first, signal.SIGKILL)
    died = await events.wait("died", timeout=30)
    restarting = [e for e in events.seen if e.name == "restarting"]
    assert [e.restarts for e in restarting] == [1, 2, 3, 4], "gives up after the configured attempts"
    assert "SIGKILL" in str(restarting[0].error) and "exited with code 4" in str(restarting[1].error)
    assert "Restarting it (attempt 4)" in restarting[-1].message
    assert "exited with code 4" in died.message and "not restarted again" in died.message
    assert not [e for e in events.seen if e.name == "restarted"]
    started = [float(x) for x in stamps.read_text().split()]
    assert len(started) == 1 + 4, "one start, then exactly four restarts"
    asked = [t for name, t in when if name == "restarting"]
    delays = [s - r for r, s in zip(asked, started[1:], strict=True)]
    expected = [0.2, 0.4, 0.8, 1.6]
    for got, want in zip(delays, expected, strict=True):
        assert want <= got < want + 1.0, (delays, expected)
    assert all(a < b for a, b in zip(delays, delays[1:], strict=False)), f"the delays must grow: {delays}"
    assert km.state is KernelState.DEAD and conn_files(runtime_dir) == []
    assert leftover_processes([first]) == []
    await km.shutdown()


#: A manager in its own process: starts a jup kernel (kernelbase) with BlockingKernelManager, and
#: beside it a kernel on a connection file the user wrote (no JUP_OWN_CONNECTION_FILE), then waits.
ORPHANING_MANAGER = """\
import os, subprocess, sys
from jup.core.kernelspec import KernelSpec
from jup.core.manager import BlockingKernelManager
from jup.core.protocol.connection import ConnectionInfo
kernel = [sys.executable, "-c", "from jup.core.kernelbase import Kernel; raise SystemExit(Kernel.main())"]
km = BlockingKernelManager(KernelSpec(name="base", argv=kernel + ["-f", "{connection_file}"]))
km.start()
users = ConnectionInfo.allocate().write(sys.argv[1])
other = subprocess.Popen(kernel + ["-f", str(users)], env={**os.environ, "JPY_PARENT_PID": str(os.getpid())})
print(km.pid, km.connection_file, other.pid, flush=True)
sys.stdin.read()
"""


def test_a_kernel_orphaned_by_kill_9_of_its_manager_exits_and_removes_its_connection_file(runtime_dir,
                                                                                           tmp_path):
    import select
    import subprocess

    users_file = tmp_path / "my-kernel.json"
    mgr = subprocess.Popen([sys.executable, "-c", ORPHANING_MANAGER, str(users_file)], stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE, text=True)
    try:
        ready, _, _ = select.select([mgr.stdout], [], [], 60)
        assert ready, "the manager did not start its kernel within 60 s"
        kpid, cfile, other = mgr.stdout.readline().split()
        kpid, other = int(kpid), int(other)
        assert os.path.exists(cfile) and os.path.dirname(cfile) == str(runtime_dir)
        assert leftover_processes([kpid, other])
    finally:
        mgr.kill()  # SIGKILL: no atexit, no cleanup by the manager
        mgr.wait(timeout=10)
        mgr.stdout.close()
        mgr.stdin.close()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and (leftover_processes([kpid, other]) or os.path.exists(cfile)):
        time.sleep(0.05)  # polling the process table and the directory, not synchronising with them
    assert leftover_processes([kpid, other]) == [], "the orphaned kernels must exit"
    assert not os.path.exists(cfile), "the kernel removes the connection file its dead manager wrote"
    assert conn_files(runtime_dir) == []
    assert users_file.exists(), "a connection file the user wrote is the user's: it stays"


# ---- warm pool: refill timing and configuration (issue 13) ------------------------------------

async def test_warm_pool_refills_only_after_the_new_owner_is_served(runtime_dir, tmp_path):
    pool = KernelPool(fake_kernel_spec(), size=2, refill_delay=0.3)
    await pool.start(wait=True)
    taken = []
    try:
        loop = asyncio.get_running_loop()
        for _ in range(2):  # two takes in a row: the refill waits for the last one
            before = loop.time()
            km = await pool.take(cwd=str(tmp_path))
            after = loop.time()
            taken.append(km)
            assert not pool._starting, "no kernel may start while one is being handed over"
            # the refill is due refill_delay after this take ended (not after an earlier one)
            assert pool._refill_handle is not None and not pool._refill_handle.cancelled()
            assert before + 0.3 <= pool._refill_handle.when() <= after + 0.3
        async with asyncio.timeout(30):
            while pool.ready < 2:  # refilled in the background (bounded by the timeout)
                await asyncio.sleep(0.05)
        pooled = [k.pid for k in pool._ready]
    finally:
        await pool.shutdown()
        for km in taken:
            await km.shutdown(now=True)
    assert leftover_processes(pooled + [k.pid for k in taken]) == [] and conn_files(runtime_dir) == []


async def test_a_slow_handover_is_not_slowed_further_by_an_earlier_takes_refill(runtime_dir, tmp_path):
    """A handover that outlasts refill_delay (a busy machine) must not see the previous take's refill
    start a kernel beside it: the refill waits until the handover is done."""
    pool = KernelPool(fake_kernel_spec(), size=2, refill_delay=0.05)
    await pool.start(wait=True)
    taken = []
    try:
        loop = asyncio.get_running_loop()
        taken.append(await pool.take(cwd=str(tmp_path)))
        earlier = pool._refill_handle
        assert earlier is not None
        slow = pool._ready[0]
        os.kill(slow.pid, signal.SIGSTOP)  # its change_dir round trip now waits for SIGCONT
        try:
            second = asyncio.ensure_future(pool.take(cwd=str(tmp_path)))
            # the earlier take's refill was due now; let the loop run past that moment
            await asyncio.sleep(max(0.0, earlier.when() - loop.time()) + 0.05)
            assert not second.done() and not pool._starting, "a refill started during a handover"
        finally:
            os.kill(slow.pid, signal.SIGCONT)
        async with asyncio.timeout(20):
            taken.append(await second)
        assert taken[1] is slow and pool._refill_handle is not earlier  # rescheduled after it
        async with asyncio.timeout(30):
            while pool.ready < 2:  # and the refill still comes (bounded by the timeout)
                await asyncio.sleep(0.05)
        pooled = [k.pid for k in pool._ready]
    finally:
        await pool.shutdown()
        for km in taken:
            await km.shutdown(now=True)
    assert leftover_processes(pooled + [k.pid for k in taken]) == [] and conn_files(runtime_dir) == []


def test_warm_pool_size_comes_from_the_users_config(tmp_path, monkeypatch):
    from jup.core import config as jup_config
    from jup.core.config import load_config
    from jup.core.errors import ConfigError
    from jup.core.manager.pool import configured_pool_size

    monkeypatch.setattr(jup_config, "_CURRENT", jup_config._CURRENT)  # this process's config, restored after
    cfg_dir = tmp_path / "config"
    cfg_dir.mkdir()
    cfg, _ = load_config(config_dir=str(cfg_dir))  # nothing set: the defaults
    assert configured_pool_size("python", long_running=True, config=cfg) == 1   # the web server
    assert configured_pool_size("python", long_running=False, config=cfg) == 0  # a terminal
    assert configured_pool_size("python3", long_running=True, config=cfg) == 0  # a foreign kernel
    (cfg_dir / "jup_config.json").write_text('{"WarmPool": {"sizes": {"python3": 2, "python": 0}}}')
    cfg, sources = load_config(config_dir=str(cfg_dir))
    assert configured_pool_size("python3", config=cfg) == 2
    assert configured_pool_size("python", long_running=True, config=cfg) == 0
    assert sources.source("WarmPool.sizes").endswith("jup_config.json")
    (cfg_dir / "jup_config.json").write_text('{"WarmPool": {"sizes": {"python": -1}}}')
    with pytest.raises(ConfigError) as err:
        load_config(config_dir=str(cfg_dir))
    assert "jup_config.json" in str(err.value) and "WarmPool.sizes" in str(err.value)
    with pytest.raises(ValueError, match="0 or more"):
        KernelPool(fake_kernel_spec(), size=-1)


def test_the_manager_waits_for_an_interrupt_reply_as_long_as_the_kernels_grace(monkeypatch):
    # the grace the kernel will use comes from the environment it is started with, the manager's
    # own env winning over the spec's and this process's, as at launch
    monkeypatch.delenv("JUP_INTERRUPT_GRACE", raising=False)
    assert KernelManager(fake_kernel_spec("message")).interrupt_grace() == 1.0
    monkeypatch.setenv("JUP_INTERRUPT_GRACE", "2.5")
    assert KernelManager(fake_kernel_spec("message")).interrupt_grace() == 2.5
    km = KernelManager(fake_kernel_spec("message"), env={"JUP_INTERRUPT_GRACE": "0.2"})
    assert km.interrupt_grace() == 0.2
    bad = KernelManager(fake_kernel_spec("message"), env={"JUP_INTERRUPT_GRACE": "soon"})
    assert bad.interrupt_grace() == 1.0  # the kernel ignores a bad value and keeps its default too
