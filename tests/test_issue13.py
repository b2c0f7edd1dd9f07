"""Issue 13, as a user meets it: a real Python kernel process of ours, driven through real clients —
jup's own (`jup.core.manager` + `jup.core.client.BlockingKernelClient`) and jupyter_client's
BlockingKernelClient on the same kernel.

Responsive while a cell runs; output goes where it belongs and within its budget; interrupt says
whether it worked; a queued cell can be cancelled; a dead kernel is explained; a warm pool hands
over a kernel in milliseconds. Deadlines carry margin only where the issue allows it (a loaded
2-core machine), and each figure is printed so a slow run can be seen for what it is.
"""

from __future__ import annotations

import asyncio
import os
import re
import select
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from jupyter_client import BlockingKernelClient as JupyterClient

from jup.core.client import BlockingKernelClient
from jup.core.errors import KernelDied
from jup.core.manager import BlockingKernelManager, KernelManager, KernelPool
from jup.core.testing import leftover_processes

pytestmark = pytest.mark.timeout(120)

RESPONSIVE_S = 0.2   # the deadline for requests answered while a cell runs
FAST_S = 2.0         # inspect of an object whose __repr__ sleeps 30 s
WARM_TAKE_S = 0.02   # take + first kernel_info of a pooled kernel: the 5 ms, loaded-machine margin


def rss(pid: int) -> int:
    """Resident memory of a process, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for {pid}")


# ---- kernels and clients -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def kernel_env(tmp_path_factory) -> Iterator[Path]:
    """A private runtime dir and history file for every kernel of this module."""
    tmp = tmp_path_factory.mktemp("issue13")
    saved = {k: os.environ.get(k) for k in ("JUPYTER_RUNTIME_DIR", "JUP_HISTORY_FILE")}
    os.environ["JUPYTER_RUNTIME_DIR"] = str(tmp / "runtime")
    os.environ["JUP_HISTORY_FILE"] = str(tmp / "history.sqlite")
    yield tmp
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(scope="module")
def km(kernel_env) -> Iterator[BlockingKernelManager]:
    """One real `python` kernel shared by the read-mostly tests."""
    with BlockingKernelManager("python", heartbeat_interval=0) as manager:
        yield manager
    assert leftover_processes([manager.pid]) == []


def jupyter_client(km: BlockingKernelManager) -> JupyterClient:
    jc = JupyterClient(connection_file=km.connection_file)
    jc.load_connection_file()
    jc.start_channels()
    jc.wait_for_ready(timeout=30)
    return jc


@pytest.fixture(params=["jup", "jupyter_client"])
def client(request, km) -> Iterator:
    """The same kernel through each client."""
    if request.param == "jup":
        kc = km.client()
        kc.start_channels()
        kc.wait_for_ready(timeout=30)
    else:
        kc = jupyter_client(km)
    yield kc
    kc.stop_channels()


def wait_iopub(kc, pred: Callable[[dict], bool], timeout: float = 30.0) -> list[dict]:
    """Read iopub until `pred(msg)`; every message read. Bounded by `timeout`."""
    seen: list[dict] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:  # each get is bounded too
        try:
            msg = kc.get_iopub_msg(timeout=max(0.01, deadline - time.monotonic()))
        except Exception:  # queue.Empty (jupyter_client) or KernelTimeout (jup)
            break
        seen.append(msg)
        if pred(msg):
            return seen
    raise AssertionError(f"no matching iopub message within {timeout} s; saw "
                         f"{[(m['msg_type'], m['content']) for m in seen[-5:]]}")


def is_idle(msg_id: str) -> Callable[[dict], bool]:
    return lambda m: (m["msg_type"] == "status" and m["parent_header"].get("msg_id") == msg_id
                      and m["content"]["execution_state"] == "idle")


def prints(msg_id: str, text: str) -> Callable[[dict], bool]:
    return lambda m: (m["msg_type"] == "stream" and m["parent_header"].get("msg_id") == msg_id
                      and text in m["content"]["text"])


def shell_reply(kc, msg_id: str, timeout: float = 30.0) -> dict:
    """The shell reply to `msg_id` (other replies are skipped). Bounded by `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        msg = kc.get_shell_msg(timeout=max(0.01, deadline - time.monotonic()))
        if msg["parent_header"].get("msg_id") == msg_id:
            return msg
    raise AssertionError(f"no reply to {msg_id} within {timeout} s")


def ask(kc, request: str, *args, timeout: float = 5.0, **kwargs) -> dict:
    """Send a shell request and wait for its reply, the same way through either client."""
    if isinstance(kc, BlockingKernelClient):
        return getattr(kc, request)(*args, reply=True, timeout=timeout, **kwargs)
    return shell_reply(kc, getattr(kc, request)(*args, **kwargs), timeout)


def interrupt(kc, timeout: float = 10.0) -> dict:
    """interrupt_request on control; the interrupt_reply's content (both clients)."""
    if isinstance(kc, BlockingKernelClient):
        return kc.interrupt(reply=True, timeout=timeout)["content"]
    msg = kc.session.msg("interrupt_request", {})
    kc.control_channel.send(msg)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        reply = kc.get_control_msg(timeout=max(0.01, deadline - time.monotonic()))
        if reply["parent_header"].get("msg_id") == msg["header"]["msg_id"]:
            return reply["content"]
    raise AssertionError("no interrupt_reply")


def start_busy(kc, code: str, marker: str) -> str:
    """Send `code` (which prints `marker` once it runs) and return when it is running."""
    msg_id = kc.execute(code)
    wait_iopub(kc, prints(msg_id, marker))
    return msg_id


def run(kc, code: str, timeout: float = 30.0) -> tuple[dict, list[dict]]:
    """Execute and collect the cell's iopub messages (both clients have execute_interactive)."""
    msgs: list[dict] = []
    reply = kc.execute_interactive(code, timeout=timeout, output_hook=msgs.append)
    return reply, msgs


def text_of(msgs: list[dict], name: str = "stdout") -> str:
    return "".join(m["content"]["text"] for m in msgs if m["msg_type"] == "stream"
                   and m["content"]["name"] == name)


def result_of(msgs: list[dict]) -> str:
    return next(m["content"]["data"]["text/plain"] for m in msgs if m["msg_type"] == "execute_result")


# ---- responsive while a cell runs ----------------------------------------------------------------

def test_requests_are_answered_within_200ms_while_a_cell_sleeps(client):
    kc = client
    ask(kc, "complete", "import o", 8, timeout=30)  # first completion loads the completer
    busy = start_busy(kc, "import time\nprint('sleeping', flush=True)\ntime.sleep(10)", "sleeping")
    took = {}
    for name, call in [
        ("complete", lambda: ask(kc, "complete", "import o", 8)),
        ("inspect", lambda: ask(kc, "inspect", "len", 3)),
        ("is_complete", lambda: ask(kc, "is_complete", "for i in x:")),
        ("kernel_info", lambda: ask(kc, "kernel_info")),
        ("history", lambda: ask(kc, "history", hist_access_type="tail", n=5, raw=True, output=False)),
    ]:
        t0 = time.perf_counter()
        reply = call()
        took[name] = time.perf_counter() - t0
        want = "incomplete" if name == "is_complete" else "ok"
        assert reply["content"]["status"] == want, (name, reply["content"])
        if name == "complete":
            assert "os" in reply["content"]["matches"]
    print("answered while busy (ms):", {k: round(v * 1000, 1) for k, v in took.items()})
    assert max(took.values()) < RESPONSIVE_S, took
    assert interrupt(kc)["status"] == "ok"  # and the sleeping cell stops at once
    assert shell_reply(kc, busy)["content"]["status"] == "error"


def test_inspect_of_an_object_whose_repr_sleeps_30s_returns_in_under_2s(client):
    kc = client
    reply, _ = run(kc, "import time\nclass Sleepy:\n    def __repr__(self):\n        time.sleep(30)\n"
                       "        return 'never'\nsleepy = Sleepy()")
    assert reply["content"]["status"] == "ok"
    t0 = time.perf_counter()
    reply = ask(kc, "inspect", "sleepy", 6, detail_level=0, timeout=10)
    took = time.perf_counter() - t0
    print(f"inspect of a 30 s __repr__: {took * 1000:.0f} ms")
    assert took < FAST_S
    assert reply["content"]["status"] == "ok"
    # the reply says what was skipped, so a user can tell "nothing to show" from "gave up": the
    # Python kernel's inspector stops the repr at 0.5 s and says so; past the kernel's deadline the
    # reply's metadata carries `jup_skipped` instead (tested with a 0.3 s deadline below)
    content = reply["content"]
    note = content.get("metadata", {}).get("jup_skipped") or content["data"]["text/plain"]
    assert "repr took longer than 0.5 s; not shown" in note or note.startswith("skipped: "), note
    # and the kernel is not wedged: a cell runs at once
    t0 = time.perf_counter()
    reply, msgs = run(kc, "6 * 7", timeout=10)
    assert result_of(msgs) == "42" and time.perf_counter() - t0 < FAST_S


def test_completion_on_a_namespace_with_100k_names(client):
    kc = client
    reply, _ = run(kc, "g = globals()\nfor i in range(100_000):\n    g[f'big_name_{i:06d}'] = i")
    assert reply["content"]["status"] == "ok"
    try:
        t0 = time.perf_counter()
        reply = ask(kc, "complete", "big_name_01234", 14, timeout=10)
        took = time.perf_counter() - t0
        print(f"completion among 100k names: {took * 1000:.0f} ms")
        assert reply["content"]["status"] == "ok"
        matches = reply["content"]["matches"]
        assert "big_name_012345" in matches and len(matches) == 10
        assert took < FAST_S  # the deadline (1 s) plus margin, not a wedged kernel
    finally:
        run(kc, "for i in range(100_000):\n    del g[f'big_name_{i:06d}']")


# ---- output goes where it belongs ------------------------------------------------------------

def test_thread_output_stays_under_its_cell_while_a_later_cell_runs(km):
    jc = jupyter_client(km)
    try:
        first = jc.execute("import threading\ngo, done = threading.Event(), threading.Event()\n"
                           "def later():\n    go.wait(20)\n    print('from the thread', flush=True)\n"
                           "    done.set()\nthreading.Thread(target=later, daemon=True).start()")
        wait_iopub(jc, is_idle(first))
        second = jc.execute("print('second cell runs', flush=True)\ngo.set()\ndone.wait(20)\n"
                            "print('second cell ends')")
        msgs = wait_iopub(jc, is_idle(second))
        streams = [(m["parent_header"].get("msg_id"), m["content"]["text"]) for m in msgs
                   if m["msg_type"] == "stream"]
        thread_out = [pid for pid, text in streams if "from the thread" in text]
        assert thread_out == [first], streams  # under cell 1, not the running cell 2
        second_out = "".join(text for pid, text in streams if pid == second)
        assert "second cell runs" in second_out and "from the thread" not in second_out
    finally:
        jc.stop_channels()


def test_c_level_and_subprocess_output_is_shown_in_the_running_cell(client):
    reply, msgs = run(client, "import os, ctypes\nos.system('echo hi from a subprocess')\n"
                              "libc = ctypes.CDLL(None)\nlibc.printf(b'printf from C\\n')\n"
                              "libc.fflush(None)\nos.system('echo oops >&2')")
    assert reply["content"]["status"] == "ok"
    out = text_of(msgs)
    assert "hi from a subprocess" in out and "printf from C" in out
    assert "oops" in text_of(msgs, "stderr")


def test_ten_million_prints_finish_within_the_budget_and_say_where_the_rest_is(km):
    kc = km.client()
    kc.start_channels()
    got = {"chars": 0, "messages": 0, "last": ""}

    def count(msg: dict) -> None:
        if msg["msg_type"] == "stream":
            got["chars"] += len(msg["content"]["text"])
            got["messages"] += 1
            got["last"] = (got["last"] + msg["content"]["text"])[-200_000:]
    rss_before = rss(km.pid)
    try:
        kc.wait_for_ready(timeout=30)  # iopub joined: a SUB misses what is published before that
        t0 = time.perf_counter()
        reply = kc.execute_interactive("for i in range(10**7): print(i)", timeout=110, output_hook=count)
        took = time.perf_counter() - t0
    finally:
        kc.stop_channels()
    grew = rss(km.pid) - rss_before
    print(f"10**7 prints: {took:.1f} s, {got['chars'] / 1e6:.2f} MB in {got['messages']} messages; "
          f"kernel RSS grew {grew / 1e6:.1f} MB")
    assert grew < 50e6  # the held-back 74 MB went to a file, not into the kernel's memory
    assert reply["content"]["status"] == "ok"
    budget = 5_000_000
    assert got["chars"] <= budget * 1.05 + 1000, got["chars"]  # about the budget, not 78 MB
    marker = re.search(r"\[jup\] ([\d.]+) MB of (?:stdout|output) held back \(budget 5\.0 MB per cell\); "
                       r"full output: (\S+)", got["last"])
    assert marker, got["last"][-500:]
    assert float(marker.group(1)) > 60  # 78.9 MB printed, ~5 MB shown
    assert got["last"].rstrip().endswith("9999999")  # the tail arrives when the cell ends
    full = Path(marker.group(2))
    assert full.exists() and full.stat().st_size > 60_000_000
    assert str(full).startswith(os.environ["JUPYTER_RUNTIME_DIR"])  # removed with the kernel
    with open(full, "rb") as fh:
        fh.seek(-8, os.SEEK_END)
        assert fh.read().endswith(b"9999999\n")


# ---- interrupt, cancel, death ----------------------------------------------------------------

@pytest.fixture
def own_km(kernel_env) -> Iterator[BlockingKernelManager]:
    """A kernel a test may wedge, kill or restart."""
    manager = BlockingKernelManager("python", heartbeat_interval=0)
    manager.start()
    yield manager
    manager.shutdown(now=True)
    assert leftover_processes([manager.pid]) == []


def test_interrupt_reply_says_whether_the_cell_stopped(own_km, tmp_path):
    kc = own_km.client()
    kc.start_channels()
    jc = jupyter_client(own_km)
    try:
        kc.wait_for_ready(timeout=30)  # iopub joined: a SUB misses what is published before that
        busy = start_busy(kc, "print('spinning', flush=True)\nwhile True: pass", "spinning")
        t0 = time.perf_counter()
        assert interrupt(kc) == {"status": "ok"}
        print(f"interrupt of `while True: pass`: {(time.perf_counter() - t0) * 1000:.0f} ms")
        assert shell_reply(kc, busy)["content"]["ename"] == "KeyboardInterrupt"

        busy = start_busy(jc, "import time\nprint('sleeping', flush=True)\ntime.sleep(100)", "sleeping")
        assert interrupt(jc)["status"] == "ok"  # through jupyter_client too
        assert shell_reply(jc, busy)["content"]["ename"] == "KeyboardInterrupt"

        busy = start_busy(kc, "import time\nprint('sleeping', flush=True)\ntime.sleep(100)", "sleeping")
        assert own_km.interrupt() == {"status": "ok"}  # and through the manager a frontend uses
        assert shell_reply(kc, busy)["content"]["ename"] == "KeyboardInterrupt"

        # sum() of a range runs in C holding the interpreter lock: no thread of the kernel can answer,
        # so the manager says so (the kernel itself answers this way for C code that releases it)
        for attempt in range(3):  # bounded: the interrupt can land in the µs before sum() starts
            fifo = tmp_path / f"summing{attempt}"
            os.mkfifo(fifo)
            # one statement: no shell code runs between the signal to the test and sum() starting
            cell = kc.execute(f"import os\nfd = os.open({str(fifo)!r}, os.O_WRONLY)\n"
                              "os.write(fd, b'x') and sum(range(10**12))")
            fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
            try:
                assert select.select([fd], [], [], 30)[0], "the summing cell did not start"
            finally:
                os.close(fd)
            t0 = time.perf_counter()
            reply = own_km.interrupt()  # defaults: the kernel's 1 s grace + the manager's 0.5 s
            took = time.perf_counter() - t0
            print(f"interrupt of C code answered in {took * 1000:.0f} ms: {reply.get('evalue')}")
            if reply["status"] != "ok":
                break
            # it landed while the cell was still in Python (before sum): stopped, as it should be
            assert shell_reply(kc, cell)["content"]["ename"] == "KeyboardInterrupt"
        assert reply["status"] == "error"
        assert "C code" in reply["evalue"] and "Restart the kernel" in reply["evalue"]
        assert 0.9 < took < 2.5, took
        t0 = time.perf_counter()
        own_km.restart(now=True)  # what the message tells the user to do; it works on the stuck kernel
        print(f"restart of the stuck kernel: {time.perf_counter() - t0:.1f} s")
        kc.wait_for_ready(timeout=30)
        reply, msgs = run(kc, "6 * 7")
        assert result_of(msgs) == "42"
    finally:
        kc.stop_channels()
        jc.stop_channels()


def test_cancel_a_queued_cell_and_the_running_one_goes_on(own_km):
    kc = own_km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=30)  # iopub joined: a SUB misses what is published before that
        # A runs until the test answers its input(): B is queued behind it however slow the machine
        running = start_busy(kc, "print('A runs', flush=True)\ninput('go? ')\n'A finished'", "A runs")
        queued = kc.execute("'B ran'")
        after = kc.execute("'C ran'")
        t0 = time.perf_counter()
        reply = kc.cancel(queued, reply=True, timeout=5)
        print(f"cancel answered in {(time.perf_counter() - t0) * 1000:.0f} ms")
        assert reply["content"] == {"status": "ok", "cancelled": True}
        assert kc.cancel("no-such-msg-id", reply=True, timeout=5)["content"]["cancelled"] is False
        assert kc.get_stdin_msg(timeout=30)["content"]["prompt"] == "go? "
        kc.input("")  # A goes on only now
        assert shell_reply(kc, queued)["content"]["status"] == "aborted"
        msgs = wait_iopub(kc, is_idle(after))
        results = {m["parent_header"]["msg_id"]: m["content"]["data"]["text/plain"] for m in msgs
                   if m["msg_type"] == "execute_result"}
        assert results == {running: "'A finished'", after: "'C ran'"}  # A went on; B never ran; C did
    finally:
        kc.stop_channels()


@pytest.mark.parametrize("code,why", [
    ("import os; os._exit(3)", "exited with code 3"),
    ("import os; os.kill(os.getpid(), 9)", "killed by SIGKILL"),
    ("import ctypes; ctypes.string_at(0)", "killed by SIGSEGV"),
])
async def test_a_dead_kernel_is_explained_with_the_cell_that_ran(kernel_env, code, why):
    km = KernelManager("python", heartbeat_interval=0)
    seen: list = []
    restarted = asyncio.Event()

    def on_event(ev) -> None:
        seen.append(ev)
        if ev.name in ("restarted", "died"):
            restarted.set()
    km.on_event(on_event)
    await km.start()
    first = km.pid
    kc = km.client()
    try:
        await kc.execute(code)
        async with asyncio.timeout(30):
            await restarted.wait()
        ev = next(e for e in seen if e.name == "restarting")
        assert isinstance(ev.error, KernelDied)
        message = ev.message
        print(message)
        assert why in message and repr(code) in message, message  # why, and which cell
        assert "out of memory" not in message
        reply = await kc.execute("1 + 1", reply=True, timeout=30)  # restarted, same client
        assert reply["content"]["status"] == "ok"
    finally:
        kc.stop_channels()
        await km.shutdown(now=True)
    assert leftover_processes([first, km.pid]) == []


# ---- fast to get ----------------------------------------------------------------------------

async def test_warm_pool_hands_over_a_kernel_in_milliseconds_in_the_requested_dir(kernel_env, tmp_path):
    pool = KernelPool("python", size=2, heartbeat_interval=0)
    taken: list[KernelManager] = []
    pids: list[int] = []
    try:
        await pool.start(wait=True)
        assert pool.ready == 2
        neutral = pool.neutral_dir
        figures = []
        for n in range(2):
            where = tmp_path / f"notebook{n}"
            where.mkdir()
            (where / "mymod.py").write_text(f"WHERE = 'notebook{n}'\n")  # the notebook's own helper
            t0 = time.perf_counter()
            km = await pool.take(cwd=str(where))
            took = time.perf_counter() - t0
            taken.append(km)
            kc = km.client()
            kc.start_channels()
            t1 = time.perf_counter()
            info = await kc.kernel_info(reply=True, timeout=5)
            answered = time.perf_counter() - t1
            assert info["content"]["status"] == "ok"
            figures.append((took, answered))
            assert not pool._starting, "the refill must wait until the new owner has been served"
            # cwd, PWD and the module search path all moved: `import mymod` works as in a fresh kernel
            reply = await kc.execute("import mymod", silent=False, reply=True, timeout=10, user_expressions={
                "cwd": "__import__('os').getcwd()", "pwd": "__import__('os').environ['PWD']",
                "where": "mymod.WHERE", "path0": "__import__('sys').path[0]"})
            assert reply["content"]["status"] == "ok", reply["content"].get("evalue")
            ue = {k: v["data"]["text/plain"] for k, v in reply["content"]["user_expressions"].items()}
            assert ue == {"cwd": repr(str(where)), "pwd": repr(str(where)), "where": repr(f"notebook{n}"),
                          "path0": repr(str(where))}, ue
            assert str(where) != neutral
            kc.stop_channels()
        print("warm pool take / first kernel_info (ms):",
              [(round(a * 1000, 1), round(b * 1000, 1)) for a, b in figures])
        # every take of a pre-started kernel, not just the best: the 5 ms, with margin for
        # a loaded 2-core machine shared by other test runs
        assert all(a + b <= WARM_TAKE_S for a, b in figures), figures
        async with asyncio.timeout(60):
            while pool.ready < 2:  # refilled in the background (bounded by the timeout)
                await asyncio.sleep(0.05)
        pids = [k.pid for k in pool._ready]
    finally:
        await pool.shutdown()
        for km in taken:
            await km.shutdown(now=True)
    assert leftover_processes(pids + [k.pid for k in taken]) == []
    assert not os.path.exists(pool.neutral_dir)


def test_a_warm_pool_comes_from_config_for_long_running_frontends(kernel_env):
    from traitlets.config import Config

    assert KernelPool.from_config("python", long_running=False, config=Config()) is None
    assert KernelPool.from_config("python3", long_running=True, config=Config()) is None  # foreign
    pool = KernelPool.from_config("python", long_running=True, config=Config())
    assert pool is not None and pool.size == 1 and pool.refill_delay == 0.5
    cfg = Config({"WarmPool": {"sizes": {"python": 0, "echo": 2}, "refill_delay": 0.1}})
    assert KernelPool.from_config("python", long_running=True, config=cfg) is None  # turned off
    echo = KernelPool.from_config("echo", config=cfg)
    assert echo is not None and echo.size == 2 and echo.refill_delay == 0.1


# ---- the kernel's knobs, as a user sets them ----------------------------------------------------

@pytest.fixture
def knob_km(kernel_env, tmp_path) -> Iterator[BlockingKernelManager]:
    """A kernel with a small output budget, a short introspection deadline and kept output files."""
    manager = BlockingKernelManager("python", heartbeat_interval=0, env={
        "JUP_OUTPUT_BUDGET": "10000", "JUP_INTROSPECTION_DEADLINE": "0.3", "JUP_KEEP_OUTPUT_FILES": "1",
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "knob-runtime")})
    manager.start()
    yield manager
    manager.shutdown(now=True)
    assert leftover_processes([manager.pid]) == []


def test_budget_deadline_and_kept_files_follow_their_env_values(knob_km):
    kc = knob_km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=30)
        reply, msgs = run(kc, "for i in range(5000): print(i)")  # 23890 characters
        out = text_of(msgs)
        assert reply["content"]["status"] == "ok"
        marker = re.search(r"held back \(budget 10\.0 KB per cell\); full output: (\S+)", out)
        assert marker, out[-400:]
        assert len(out) < 15_000 and out.rstrip().endswith("4999")  # head, marker, tail
        held = Path(marker.group(1))
        assert held.read_text().splitlines()[-1] == "4999"

        run(kc, "import time\nclass Sleepy:\n    def __repr__(self):\n        time.sleep(30)\n"
                "        return 'never'\nsleepy = Sleepy()")
        t0 = time.perf_counter()
        reply = kc.inspect("sleepy", 6, reply=True, timeout=10)
        took = time.perf_counter() - t0
        print(f"inspect with a 0.3 s deadline: {took * 1000:.0f} ms")
        assert 0.25 < took < 0.8, took  # the configured 0.3 s, not the default 1 s
        assert reply["content"]["metadata"]["jup_skipped"] == "skipped: it took longer than 0.3 s"
    finally:
        kc.stop_channels()
    knob_km.shutdown()
    assert held.exists() and held.read_text().splitlines()[-1] == "4999"  # kept after the kernel exits


def test_a_zero_budget_means_unlimited(kernel_env):
    with BlockingKernelManager("python", heartbeat_interval=0, env={"JUP_OUTPUT_BUDGET": "0"}) as manager:
        kc = manager.client()
        kc.start_channels()
        try:
            kc.wait_for_ready(timeout=30)
            t0 = time.perf_counter()
            reply, msgs = run(kc, "for i in range(1_000_000): print(i)")  # 6.9 MB > the default 5 MB
            took = time.perf_counter() - t0
        finally:
            kc.stop_channels()
    out = text_of(msgs)
    print(f"1e6 lines with no budget: {len(out) / 1e6:.1f} MB in {took:.1f} s")
    assert reply["content"]["status"] == "ok" and "held back" not in out
    assert len(out) == sum(len(f"{i}\n") for i in range(1_000_000))  # whole
    assert out.endswith("999999\n") and took < 20


def test_cells_run_on_the_main_thread(km):
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=30)  # iopub joined: a SUB misses what is published before that
        reply, msgs = run(kc, "import threading\nthreading.current_thread() is threading.main_thread()")
    finally:
        kc.stop_channels()
    assert result_of(msgs) == "True"


def test_an_asyncio_task_prints_under_the_cell_that_created_it(km):
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=30)
        first = kc.execute("import asyncio\nev = asyncio.Event()\nasync def later():\n    await ev.wait()\n"
                           "    print('from the task', flush=True)\nasync def start():\n"
                           "    return asyncio.create_task(later())\ntask = await start()")
        wait_iopub(kc, is_idle(first))
        second = kc.execute("print('second cell runs', flush=True)\nev.set()\nawait task\n"
                            "print('second cell ends')")
        msgs = wait_iopub(kc, is_idle(second))
    finally:
        kc.stop_channels()
    streams = [(m["parent_header"].get("msg_id"), m["content"]["text"]) for m in msgs
               if m["msg_type"] == "stream"]
    assert [pid for pid, text in streams if "from the task" in text] == [first], streams
    second_out = "".join(text for pid, text in streams if pid == second)
    assert "second cell runs" in second_out and "second cell ends" in second_out
