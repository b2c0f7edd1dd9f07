"""asyncio as ipykernel users know it: once a cell uses asyncio, cells run as tasks of the kernel's
event loop (`create_task` at top level works) and that loop runs while the kernel is idle, so
background tasks keep going between cells. Real kernel processes, real sockets, real signals."""

from __future__ import annotations

import os
import queue
import signal
import time

import psutil
import pytest
from pykernel_helpers import outputs, run, start_kernel, stdout_of

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def kp(tmp_path_factory):
    """One kernel process for the module (its tests leave no task running behind them)."""
    proc = start_kernel(tmp_path_factory.mktemp("asyncio"), {"JUP_COMPLETER_WARMUP": "off"})
    yield proc
    proc.stop()


def ok(kc, code: str, timeout: float = 20) -> list[dict]:
    reply, msgs = run(kc, code, timeout=timeout)
    assert reply["content"]["status"] == "ok", (code, reply["content"])
    return msgs


def result_of(msgs: list[dict]) -> str | None:
    res = outputs(msgs, "execute_result")
    return res[-1]["data"]["text/plain"] if res else None


def stream_of_parent(kc, msg_id: str, name: str, needle: str, timeout: float = 10) -> str:
    """The text of `name` streams under `msg_id` read from iopub until it contains `needle` (or the
    deadline passes): output that comes after the cell went idle."""
    text = ""
    deadline = time.monotonic() + timeout
    while needle not in text and time.monotonic() < deadline:
        try:
            msg = kc.get_iopub_msg(timeout=max(deadline - time.monotonic(), 0.01))
        except queue.Empty:
            break
        if msg["msg_type"] == "stream" and msg["content"]["name"] == name and \
                msg["parent_header"].get("msg_id") == msg_id:
            text += msg["content"]["text"]
    return text


def test_create_task_and_running_loop_at_top_level_without_await(kp):
    msgs = ok(kp.kc, "import asyncio\nasync def seven():\n    return 7\n"
                     "t = asyncio.create_task(seven())\nf = asyncio.ensure_future(seven())\n"
                     "asyncio.get_running_loop().is_running()")
    assert result_of(msgs) == "True"
    assert result_of(ok(kp.kc, "t.result() + f.result()  # both ran while the kernel was idle")) == "14"
    assert result_of(ok(kp.kc, "await asyncio.sleep(0.01, result='slept')")) == "'slept'"


def test_first_cell_that_imports_asyncio_already_runs_on_the_loop(tmp_path):
    proc = start_kernel(tmp_path, {"JUP_COMPLETER_WARMUP": "off"})
    try:
        msgs = ok(proc.kc, "import asyncio\nloop = asyncio.get_running_loop()\nloop.is_running()")
        assert result_of(msgs) == "True"
    finally:
        proc.stop()


def test_background_task_runs_while_idle_and_prints_under_its_cell(kp):
    kc = kp.kc
    ok(kc, "import asyncio")
    msg_id = kc.execute("ticks = 0\nasync def tick():\n    global ticks\n    while True:\n"
                        "        await asyncio.sleep(0.02)\n        ticks += 1\n"
                        "        if ticks in (3, 30):\n            print('tick', ticks)\n"
                        "ticker = asyncio.create_task(tick())")
    assert kp.shell_reply(msg_id)["content"]["status"] == "ok"
    # no cell runs now: the ticks come from the idle kernel, under the cell that made the task
    text = stream_of_parent(kc, msg_id, "stdout", "tick 30", timeout=20)
    assert "tick 3\n" in text and "tick 30\n" in text, text
    first = int(result_of(ok(kc, "ticks")))
    assert first >= 30
    advanced = False
    for _ in range(50):  # bounded: up to ~5 s for the counter to move between two cells
        try:
            kc.get_iopub_msg(timeout=0.1)
        except queue.Empty:
            pass
        if int(result_of(ok(kc, "ticks"))) > first:
            advanced = True
            break
    assert advanced, "the background task did not progress between cells"
    ok(kc, "ticker.cancel()")
    assert result_of(ok(kc, "await asyncio.sleep(0.05); ticker.cancelled()")) == "True"


def test_task_exception_is_reported_under_its_cell_and_kernel_carries_on(kp):
    kc = kp.kc
    ok(kc, "import asyncio")
    msg_id = kc.execute("async def boom():\n    await asyncio.sleep(0.01)\n"
                        "    raise ValueError('the task broke')\nasyncio.create_task(boom())\npass")
    assert kp.shell_reply(msg_id)["content"]["status"] == "ok"
    text = stream_of_parent(kc, msg_id, "stderr", "the task broke")
    assert "Task exception was never retrieved" in text, text
    assert "ValueError: the task broke" in text and "in boom" in text, text
    assert result_of(ok(kc, "40 + 2")) == "42"


def test_background_system_exit_does_not_end_the_kernel(kp):
    kc = kp.kc
    ok(kc, "import asyncio, sys\nasync def leave():\n    sys.exit(3)\nasyncio.create_task(leave())\n"
           "await asyncio.sleep(0.05)  # the task runs now, while this cell awaits")
    assert kp.proc.poll() is None
    assert result_of(ok(kc, "'alive'")) == "'alive'"


def _interrupt_cell(kp, code: str, how: str) -> dict:
    """Start `code`, interrupt it once it runs (SIGINT or interrupt_request); its reply."""
    kc = kp.kc
    msg_id = kc.execute(code)
    started = stream_of_parent(kc, msg_id, "stdout", "started")
    assert "started" in started
    if how == "signal":
        os.kill(kp.proc.pid, signal.SIGINT)
    else:
        assert kp.control("interrupt_request")["content"]["status"] == "ok"
    return kp.shell_reply(msg_id, timeout=10)["content"]


@pytest.mark.parametrize("how", ["signal", "request"])
def test_interrupting_a_cell_that_awaits_forever(kp, how):
    kc = kp.kc
    ok(kc, "import asyncio\nside = []\nasync def side_task():\n    while True:\n"
           "        await asyncio.sleep(0.01)\n        side.append(1)\nst = asyncio.create_task(side_task())")
    t0 = time.monotonic()
    # 'started' is printed by the loop once the cell waits at its await: the interrupt finds it there
    reply = _interrupt_cell(kp, "asyncio.get_running_loop().call_later(0.05, print, 'started')\n"
                                "try:\n    await asyncio.sleep(100)\nfinally:\n    cleaned = True", how)
    assert reply["status"] == "error" and reply["ename"] == "KeyboardInterrupt", reply
    assert time.monotonic() - t0 < 10
    shown = "\n".join(reply["traceback"])
    assert "await asyncio.sleep(100)" in shown, shown  # the line the cell was waiting at
    assert "on_sigint" not in shown and "tasks.py" not in shown, shown
    # the cell's own finally ran, the background task survived, the loop still serves cells
    assert result_of(ok(kc, "cleaned, st.done()")) == "(True, False)"
    assert result_of(ok(kc, "n = len(side); await asyncio.sleep(0.1); len(side) > n")) == "True"
    ok(kc, "st.cancel()")


@pytest.mark.parametrize("how", ["signal", "request"])
def test_interrupting_a_tight_loop_on_the_loop(kp, how):
    kc = kp.kc
    ok(kc, "import asyncio")
    reply = _interrupt_cell(kp, "print('started', flush=True)\nwhile True:\n    pass", how)
    assert reply["status"] == "error" and reply["ename"] == "KeyboardInterrupt", reply
    shown = "\n".join(reply["traceback"])
    assert "Cell In[" in shown and "on_sigint" not in shown, shown
    assert result_of(ok(kc, "asyncio.get_running_loop().is_running()")) == "True"


def test_idle_kernel_with_a_loop_and_no_tasks_uses_no_cpu(kp):
    kc = kp.kc
    ok(kc, "import asyncio\n[t for t in asyncio.all_tasks() if t is not asyncio.current_task() "
           "and not t.done()]")
    assert result_of(ok(kc, "get_ipython().kernel.idle_waiter is not None")) == "True"
    proc = psutil.Process(kp.proc.pid)
    before = proc.cpu_times()
    t0 = time.monotonic()
    try:  # idle for ~1 s, bounded by the iopub wait (nothing is sent to an idle kernel)
        kc.get_iopub_msg(timeout=1.0)
    except queue.Empty:
        pass
    elapsed = time.monotonic() - t0
    after = proc.cpu_times()
    used = (after.user - before.user) + (after.system - before.system)
    assert used < 0.05, f"an idle kernel with a loop used {used:.3f} s of CPU in {elapsed:.2f} s"


def test_autoawait_off_keeps_create_task_and_refuses_await(kp):
    kc = kp.kc
    ok(kc, "%autoawait off")
    try:
        msgs = ok(kc, "import asyncio\nasync def one():\n    return 1\nt1 = asyncio.create_task(one())\n"
                      "asyncio.get_running_loop().is_running()")
        assert result_of(msgs) == "True"
        reply, _ = run(kc, "await t1")
        assert reply["content"]["ename"] == "SyntaxError"
    finally:
        ok(kc, "%autoawait on")
    assert result_of(ok(kc, "await t1")) == "1"


def test_time_and_timeit_of_async_code(kp):
    kc = kp.kc
    msgs = ok(kc, "import asyncio\n%time await asyncio.sleep(0.01)")
    assert "Wall time" in stdout_of(msgs)
    msgs = ok(kc, "%timeit -n 2 -r 2 await asyncio.sleep(0)")
    assert "per loop" in stdout_of(msgs)


def test_asyncio_run_and_a_closed_loop_are_errors_the_kernel_survives(kp):
    kc = kp.kc
    reply, _ = run(kc, "import asyncio\nasync def two():\n    return 2\nasyncio.run(two())")
    assert reply["content"]["ename"] == "RuntimeError"  # as in ipykernel: a loop is running
    assert "running event loop" in reply["content"]["evalue"]
    reply, _ = run(kc, "asyncio.get_running_loop().stop()\nawait asyncio.sleep(0.05)")
    assert reply["content"]["ename"] == "RuntimeError"
    assert result_of(ok(kc, "await two()")) == "2"


def test_gui_events_and_asyncio_tasks_both_run_while_idle(tmp_path):
    pytest.importorskip("tkinter", reason="Python was built without tkinter")
    proc = start_kernel(tmp_path, {"JUP_COMPLETER_WARMUP": "off"})
    kc = proc.kc
    try:
        msg_id = kc.execute("import asyncio, tkinter\n%gui tk\ntcl = tkinter.Tcl()\n"
                            "tcl.after(50, lambda: print('tk fired'))\n"
                            "async def later():\n    await asyncio.sleep(0.05)\n    print('task fired')\n"
                            "t = asyncio.create_task(later())")
        assert proc.shell_reply(msg_id)["content"]["status"] == "ok"
        text = ""
        deadline = time.monotonic() + 10
        while not ("tk fired" in text and "task fired" in text) and time.monotonic() < deadline:
            text += stream_of_parent(kc, msg_id, "stdout", "fired", timeout=deadline - time.monotonic())
        assert "tk fired" in text and "task fired" in text, text
        ok(kc, "%gui")
    finally:
        proc.stop()


def test_a_kernel_that_never_imports_asyncio_has_no_loop(tmp_path):
    proc = start_kernel(tmp_path, {"JUP_COMPLETER_WARMUP": "off"})
    try:
        # (the module's name is spelled in two halves: a cell that names it opts in to the loop)
        msgs = ok(proc.kc, "import sys\nk = get_ipython().kernel\n"
                           "('asyn' + 'cio' in sys.modules, k.idle_waiter, k.idle_hook)")
        assert result_of(msgs) == "(False, None, None)"
    finally:
        proc.stop()


def test_comm_handler_can_start_a_task_as_widget_callbacks_do(kp):
    kc = kp.kc
    ok(kc, "import asyncio\nfrom jup.python import comm as jcomm\n"
           "def on_open(c, msg):\n"
           "    async def answer(data):\n        await asyncio.sleep(0.01)\n        c.send({'late': data})\n"
           "    c.on_msg(lambda m: asyncio.create_task(answer(m['content']['data'])))\n"
           "jcomm.register_target('h3p-async', on_open)")
    for msg_type, content in (("comm_open", {"comm_id": "a1", "target_name": "h3p-async", "data": {}}),
                              ("comm_msg", {"comm_id": "a1", "data": {"n": 5}})):
        kc.shell_channel.send(kc.session.msg(msg_type, content))
    deadline = time.monotonic() + 10
    answer = None
    while answer is None and time.monotonic() < deadline:
        try:
            msg = kc.get_iopub_msg(timeout=max(deadline - time.monotonic(), 0.01))
        except queue.Empty:
            break
        if msg["msg_type"] == "comm_msg":
            answer = msg["content"]
        assert msg["msg_type"] != "stream" or "Traceback" not in msg["content"]["text"], msg["content"]
    assert answer == {"comm_id": "a1", "data": {"late": {"n": 5}}}


def test_a_cell_that_ignores_its_cancellation_yields_to_a_second_interrupt(kp):
    kc = kp.kc
    ok(kc, "import asyncio")
    msg_id = kc.execute("asyncio.get_running_loop().call_later(0.05, print, 'started')\n"
                        "for _ in range(1000):\n    try:\n"
                        "        await asyncio.sleep(100)\n    except asyncio.CancelledError:\n"
                        "        print('ignored', flush=True)")
    assert "started" in stream_of_parent(kc, msg_id, "stdout", "started")
    os.kill(kp.proc.pid, signal.SIGINT)
    assert "ignored" in stream_of_parent(kc, msg_id, "stdout", "ignored")
    os.kill(kp.proc.pid, signal.SIGINT)
    reply = kp.shell_reply(msg_id, timeout=10)["content"]
    assert reply["status"] == "error" and reply["ename"] == "KeyboardInterrupt", reply
    assert result_of(ok(kc, "await asyncio.sleep(0, result='usable')")) == "'usable'"


def test_shutdown_with_a_task_still_running_is_prompt(tmp_path):
    proc = start_kernel(tmp_path, {"JUP_COMPLETER_WARMUP": "off"})
    try:
        ok(proc.kc, "import asyncio\nasync def forever():\n    while True:\n        await asyncio.sleep(0.01)\n"
                    "t = asyncio.create_task(forever())")
        t0 = time.monotonic()
        assert proc.control("shutdown_request", {"restart": False})["content"]["status"] == "ok"
        assert proc.proc.wait(10) == 0
        assert time.monotonic() - t0 < 3
    finally:
        proc.stop()
