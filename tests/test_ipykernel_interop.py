"""Our client and manager drive ipykernel, the reference Jupyter kernel, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest

from jup.core.errors import NoSuchKernel
from jup.core.kernelspec import get_kernel_spec
from jup.core.manager import BlockingKernelManager
from jup.core.testing import leftover_processes

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def ipykernel_spec(tmp_path_factory):
    """ipykernel's kernelspec: the venv's `python3`, else installed into a temporary prefix."""
    mp = pytest.MonkeyPatch()
    mp.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path_factory.mktemp("runtime")))
    try:
        spec = get_kernel_spec("python3")
    except NoSuchKernel:
        prefix = tmp_path_factory.mktemp("ipyk")
        subprocess.run([sys.executable, "-m", "ipykernel", "install", "--prefix", str(prefix)], check=True,
                       capture_output=True)
        mp.setenv("JUPYTER_PATH", str(prefix / "share" / "jupyter"))
        spec = get_kernel_spec("python3")
    yield spec
    mp.undo()


@pytest.fixture(scope="module")
def km(ipykernel_spec):
    manager = BlockingKernelManager(ipykernel_spec)
    manager.start(timeout=60)
    yield manager
    pid = manager.pid
    manager.shutdown()
    assert leftover_processes([pid]) == []
    assert not os.path.exists(manager.connection_file)


@pytest.fixture
def kc(km):
    c = km.client()
    c.wait_for_ready(timeout=30)
    yield c
    c.stop_channels()


def run(kc, code, **kw):
    seen = []
    reply = kc.execute_interactive(code, output_hook=seen.append, timeout=30, **kw)
    return reply["content"], seen


def test_execute_stream_result_and_error(kc):
    content, seen = run(kc, "print('hello from ipykernel'); 6 * 7")
    assert content["status"] == "ok"
    assert any(x["msg_type"] == "stream" and x["content"]["text"] == "hello from ipykernel\n" for x in seen)
    result = [x for x in seen if x["msg_type"] == "execute_result"][0]
    assert result["content"]["data"]["text/plain"] == "42"
    content, seen = run(kc, "raise ValueError('bad value')")
    assert content["status"] == "error" and content["ename"] == "ValueError"
    assert [x["content"]["evalue"] for x in seen if x["msg_type"] == "error"] == ["bad value"]


def test_complete_inspect_is_complete_history(kc):
    run(kc, "jup_interop_value = [1, 2, 3]")
    matches = kc.complete("jup_interop_v", reply=True, timeout=30)["content"]["matches"]
    assert "jup_interop_value" in matches
    insp = kc.inspect("jup_interop_value", reply=True, timeout=30)["content"]
    assert insp["found"] and "list" in insp["data"]["text/plain"]
    assert kc.is_complete("def f():", reply=True, timeout=30)["content"]["status"] == "incomplete"
    hist = kc.history(hist_access_type="tail", n=5, reply=True, timeout=30)["content"]["history"]
    assert any("jup_interop_value" in h[2] for h in hist)


def test_input_through_stdin(kc):
    content, _ = run(kc, "answer = input('Your name: ')", stdin_hook=lambda msg: "Grace")
    assert content["status"] == "ok"
    ue = kc.execute("", user_expressions={"a": "answer"}, reply=True, timeout=30)["content"]["user_expressions"]
    assert ue["a"]["data"]["text/plain"] == "'Grace'"


def test_interrupt_stops_a_sleeping_cell(km, kc):
    msg_id = kc.execute("import time\nprint('sleeping', flush=True)\ntime.sleep(60)")
    # until the cell's own output: execute_input comes before ipykernel is ready for SIGINT, and an
    # interrupt in between is lost (under load, 1 run in ~5)
    wait_running(kc, msg_id, "stream")
    t0 = time.monotonic()
    km.interrupt()
    reply = kc.get_shell_msg(timeout=30)
    assert reply["parent_header"]["msg_id"] == msg_id
    assert reply["content"]["status"] == "error" and reply["content"]["ename"] == "KeyboardInterrupt"
    assert time.monotonic() - t0 < 10


def test_restart_and_shutdown_leave_nothing(ipykernel_spec):
    km = BlockingKernelManager(ipykernel_spec)
    km.start(timeout=60)
    restarted = threading.Event()
    km.on_event(lambda ev: restarted.set() if ev.name == "restarted" else None)
    kc = km.client()
    kc.wait_for_ready(timeout=30)
    run(kc, "before_restart = 1")
    first = km.pid
    km.restart()
    assert restarted.is_set() and km.pid != first
    kc.wait_for_ready(timeout=30)
    content, _ = run(kc, "before_restart")
    assert content["ename"] == "NameError"
    kc.stop_channels()
    km.shutdown()
    assert leftover_processes([first, km.pid]) == []
    assert not os.path.exists(km.connection_file)


def wait_running(kc, msg_id: str, kind: str = "execute_input") -> None:
    """Until ipykernel says the cell runs (its execute_input, or its first `stream` output);
    bounded in count and time."""
    for _ in range(200):
        msg = kc.get_iopub_msg(timeout=10)
        if msg["msg_type"] == kind and msg["parent_header"].get("msg_id") == msg_id:
            return
    raise AssertionError("the cell did not start")


def replies_to(kc, *msg_ids: str) -> dict:
    """{msg_id: reply content} for each of `msg_ids` (other shell replies skipped; bounded)."""
    got: dict = {}
    for _ in range(20):
        if len(got) == len(msg_ids):
            break
        r = kc.get_shell_msg(timeout=20)
        if r["parent_header"].get("msg_id") in msg_ids:
            got[r["parent_header"]["msg_id"]] = r["content"]
    return got


SPIN = "import time\nprint('spinning', flush=True)\ntime.sleep(30)"


@pytest.mark.parametrize("through", ["manager's client (SIGINT)", "plain client (interrupt_request)"])
def test_cancel_falls_back_to_the_usual_abort_on_ipykernel(km, through):
    # ipykernel does not know jup's cancel_request: the cell to cancel is aborted the Jupyter way,
    # by interrupting the running cell, and the answer says that is what happened
    if through.startswith("manager"):
        kc = km.client()
    else:
        from jup.core.client import BlockingKernelClient
        kc = BlockingKernelClient(km.connection_file)
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=30)
        # interrupted once its code runs (its output is seen): execute_input alone comes before
        # ipykernel's cell is ready for SIGINT, and what is tested here is the cancel fallback
        running = kc.execute(SPIN)
        wait_running(kc, running, "stream")
        queued = kc.execute("cancelled_cell_ran = True")
        t0 = time.monotonic()
        answer = kc.cancel(queued, reply=True, timeout=10)["content"]
        took = time.monotonic() - t0
        print(f"cancel on ipykernel via {through}: {took * 1000:.0f} ms, {answer}")
        assert answer["cancelled"] is False and answer["fallback"] == "interrupt"
        assert answer["interrupt"] == ("signal" if through.startswith("manager") else "ok")
        assert "does not support jup's cancel_request" in answer["note"]
        # wait_for_ready read ipykernel's kernel_info (no jup control extensions listed), so the
        # client does not wait 1 s for a cancel_reply that never comes: it interrupts at once
        assert took < 1.0
        got = replies_to(kc, running, queued)
        assert got[running]["ename"] == "KeyboardInterrupt" and got[queued]["status"] == "aborted", got
        ue = kc.execute("", user_expressions={"r": "'cancelled_cell_ran' in globals()"}, reply=True,
                        timeout=30)["content"]["user_expressions"]
        assert ue["r"]["data"]["text/plain"] == "False"  # the queued cell never ran
        # the client remembers: the next cancel does not wait for an answer that never comes
        running = kc.execute(SPIN)
        wait_running(kc, running, "stream")
        queued = kc.execute("cancelled_cell_ran = True")
        t0 = time.monotonic()
        assert kc.cancel(queued, reply=True, timeout=10)["content"]["fallback"] == "interrupt"
        assert time.monotonic() - t0 < 0.5
        got = replies_to(kc, running, queued)
        assert got[running]["ename"] == "KeyboardInterrupt" and got[queued]["status"] == "aborted", got
    finally:
        kc.stop_channels()
