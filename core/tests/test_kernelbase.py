"""jup.core.kernelbase as kernel authors and users meet it: a tiny kernel that `exec`s its cells,
run as a real process (or in this process for in-process mode), driven over real zmq sockets."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import textwrap
import threading
import time

import pytest
import zmq

from jup.core.protocol.connection import ConnectionInfo
from jup.core.protocol.session import Session
from jup.core.testing import KernelProcess, first_port_taken

WAIT = 10

#: The test kernel: cells are Python run with exec; inspect shows repr(); complete lists names.
EXEC_KERNEL = textwrap.dedent('''
    from jup.core.kernelbase import Kernel

    class ExecKernel(Kernel):
        implementation = "exec-test"

        def kernel_ready(self):
            self.ns = {"kernel": self, "__name__": "__main__"}

        def do_execute(self, code, silent, store_history=True, user_expressions=None, allow_stdin=False):
            exec(compile(code, "<cell>", "exec"), self.ns)
            return {"status": "ok"}

        def do_inspect(self, code, cursor_pos, detail_level=0):
            obj = eval(code, self.ns)
            self.partial_reply({"found": True, "data": {"text/plain": f"<{type(obj).__name__} object>"}})
            return {"found": True, "data": {"text/plain": repr(obj)}, "metadata": {}}

        def do_complete(self, code, cursor_pos):
            prefix = code[:cursor_pos].split()[-1] if code[:cursor_pos].split() else ""
            names = sorted(n for n in list(self.ns) if n.startswith(prefix))
            return {"matches": names, "cursor_start": cursor_pos - len(prefix), "cursor_end": cursor_pos}

    if __name__ == "__main__":
        raise SystemExit(ExecKernel.main())
''')


class ExecProcess(KernelProcess):
    """The exec kernel as a process with a jupyter_client client."""

    def __init__(self, tmp_path, env=None):
        self.runtime = tmp_path / "runtime"
        super().__init__([sys.executable, "-c", EXEC_KERNEL], tmp_path,
                         {"JUPYTER_RUNTIME_DIR": str(self.runtime), **(env or {})}, timeout=WAIT)

    def wait_busy(self, msg_id):
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            msg = self.kc.get_iopub_msg(timeout=WAIT)
            if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "execute_input":
                return
        raise AssertionError("the cell did not start")


@pytest.fixture
def kernel(tmp_path):
    k = ExecProcess(tmp_path)
    yield k
    k.stop()


def _text(msgs, name="stdout"):
    return "".join(m["content"]["text"] for m in msgs if m["msg_type"] == "stream"
                   and m["content"]["name"] == name)


def test_print_goes_to_the_cell_as_batched_stream(kernel):
    reply, msgs = kernel.run("for i in range(1000): print(i)")
    assert reply["status"] == "ok"
    assert _text(msgs) == "".join(f"{i}\n" for i in range(1000))
    assert sum(m["msg_type"] == "stream" for m in msgs) < 10  # batched, not one message per print


def test_exceptions_become_error_replies_and_error_messages(kernel):
    reply, msgs = kernel.run("1/0")
    assert reply["status"] == "error" and reply["ename"] == "ZeroDivisionError"
    errors = [m for m in msgs if m["msg_type"] == "error"]
    assert errors and errors[0]["content"]["ename"] == "ZeroDivisionError"


def test_fd_level_output_of_subprocesses_and_c_code_shows_in_the_cell(kernel):
    reply, msgs = kernel.run(textwrap.dedent('''
        import os, ctypes
        os.system("echo hi-from-a-subprocess")
        ctypes.CDLL(None).printf(b"hi-from-printf\\n")
        os.write(2, b"hi-on-fd2\\n")
    '''))
    assert reply["status"] == "ok"
    assert "hi-from-a-subprocess\n" in _text(msgs) and "hi-from-printf\n" in _text(msgs)
    assert "hi-on-fd2\n" in _text(msgs, "stderr")


def test_fd_output_comes_before_a_display_published_after_it(kernel):
    reply, msgs = kernel.run("import os\nos.system('echo first')\nkernel.display({'text/plain': 'second'})")
    shown = [m["content"].get("text") or m["content"]["data"]["text/plain"] for m in msgs
             if m["msg_type"] in ("stream", "display_data")]
    assert shown == ["first\n", "second"]


#: a cell that starts background work printing "from-the-later" once `finish` runs; the
#: second cell's code to finish it
LATER = {
    "thread": ("""
        import threading
        go = threading.Event()
        def later():
            go.wait(10)
            print("from-the-later")
        t = threading.Thread(target=later)
        t.start()
        """, "go.set(); t.join(10)"),
    "asyncio task": ("""
        import asyncio
        loop = asyncio.new_event_loop()
        async def later():
            await asyncio.sleep(0)
            print("from-the-later")
        task = loop.create_task(later())
        """, "loop.run_until_complete(task)"),
}


@pytest.mark.parametrize("how", list(LATER))
def test_background_output_goes_to_the_cell_that_started_it(kernel, how):
    start, finish = LATER[how]
    first_id = kernel.kc.execute(textwrap.dedent(start))
    kernel.reply(kernel.kc.get_shell_msg, first_id)
    second_id = kernel.kc.execute(f"{finish}; print('from-the-second-cell')")
    kernel.reply(kernel.kc.get_shell_msg, second_id)
    seen = {}
    deadline = time.monotonic() + WAIT
    while len(seen) < 2 and time.monotonic() < deadline:
        msg = kernel.kc.get_iopub_msg(timeout=WAIT)
        if msg["msg_type"] == "stream":
            for line in msg["content"]["text"].splitlines():
                seen[line] = msg["parent_header"]["msg_id"]
    assert seen == {"from-the-later": first_id, "from-the-second-cell": second_id}


def test_output_budget_sends_head_marker_and_tail_and_keeps_the_full_file(tmp_path):
    k = ExecProcess(tmp_path, env={"JUP_OUTPUT_BUDGET": "100000"})
    try:
        reply, msgs = k.run("for i in range(100000): print(f'line {i}')", timeout=60)
        assert reply["status"] == "ok"
        text = _text(msgs)
        assert len(text) < 100000 + 1000  # what the frontend received stays near the budget
        assert text.startswith("line 0\nline 1\n")
        assert text.endswith("line 99999\n")  # the tail arrives when the cell ends
        marker = [line for line in text.splitlines() if line.startswith("[jup]") and "held back" in line]
        assert len(marker) == 1
        path = marker[0].rsplit("full output: ", 1)[1].split(" (output id ")[0]
        with open(path) as f:
            full = f.read()
        assert full == "".join(f"line {i}\n" for i in range(100000))
        # the next cell has a fresh budget
        reply, msgs = k.run("print('small')")
        assert _text(msgs) == "small\n"
        # stdout and stderr share the cell's budget
        reply, msgs = k.run("import sys\nfor i in range(6000):\n    print('o' * 9)\n    print('e' * 9, file=sys.stderr)")
        out, err = _text(msgs), _text(msgs, "stderr")
        assert len(out) + len(err) < 100000 + 2000
        assert out.endswith("o" * 9 + "\n") and err.endswith("e" * 9 + "\n")
    finally:
        k.stop()
    assert not os.path.exists(path), "the held-back output is removed with the kernel"


def test_inspect_of_an_object_with_a_slow_repr_answers_within_the_deadline(kernel):
    kernel.run(textwrap.dedent('''
        import time
        class Slow:
            def __repr__(self):
                time.sleep(30)
                return "slow"
        slow = Slow()
    '''))
    t0 = time.monotonic()
    reply = kernel.reply(kernel.kc.get_shell_msg, kernel.kc.inspect("slow", 4), timeout=5)
    assert time.monotonic() - t0 < 2
    # what the kernel had before the slow repr (its partial reply), and a note saying what was skipped
    assert reply["content"]["found"] is True
    assert reply["content"]["data"] == {"text/plain": "<Slow object>"}
    assert "longer than 1 s" in reply["content"]["metadata"]["jup_skipped"]
    # a stuck worker does not block the next request
    t0 = time.monotonic()
    comp = kernel.reply(kernel.kc.get_shell_msg, kernel.kc.complete("sl", 2), timeout=5)
    assert comp["content"]["matches"] == ["slow"] and time.monotonic() - t0 < 1
    reply, _ = kernel.run("print('still executing')")
    assert reply["status"] == "ok"


def test_completion_over_100k_names_answers_in_time(kernel):
    kernel.run("globals().update({f'name_{i}': i for i in range(100_000)})")
    t0 = time.monotonic()
    comp = kernel.reply(kernel.kc.get_shell_msg, kernel.kc.complete("name_9999", 9), timeout=5)
    assert time.monotonic() - t0 < 1.5
    assert "name_99999" in comp["content"]["matches"] and "jup_skipped" not in comp["content"]["metadata"]


def test_completion_works_while_a_cell_sleeps(kernel):
    mid = kernel.kc.execute("import time; time.sleep(10)")
    kernel.wait_busy(mid)
    t0 = time.monotonic()
    comp = kernel.reply(kernel.kc.get_shell_msg, kernel.kc.complete("ti", 2), timeout=2)
    assert "time" in comp["content"]["matches"] and time.monotonic() - t0 < 0.2
    assert kernel.control("interrupt_request")["content"]["status"] == "ok"


def test_interrupt_of_a_busy_python_loop_says_ok(kernel):
    mid = kernel.kc.execute("while True: pass")
    kernel.wait_busy(mid)
    t0 = time.monotonic()
    assert kernel.control("interrupt_request")["content"]["status"] == "ok"
    assert time.monotonic() - t0 < 1
    assert kernel.reply(kernel.kc.get_shell_msg, mid)["content"]["ename"] == "KeyboardInterrupt"


def test_interrupt_of_code_that_ignores_signals_says_it_failed_and_to_restart(tmp_path):
    """C code that releases the GIL but never looks at signals (simulated by blocking SIGINT)."""
    k = ExecProcess(tmp_path, env={"JUP_INTERRUPT_GRACE": "0.5"})
    try:
        mid = k.kc.execute("import signal, time\n"
                           "signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})\n"
                           "time.sleep(100)")
        k.wait_busy(mid)
        t0 = time.monotonic()
        reply = k.control("interrupt_request")["content"]
        assert 0.4 < time.monotonic() - t0 < 3
        assert reply["status"] == "error" and "Restart the kernel" in reply["evalue"]
        info = k.reply(k.kc.get_shell_msg, k.kc.kernel_info(), timeout=2)  # still answering
        assert info["content"]["status"] == "ok"
    finally:
        k.proc.kill()
        k.proc.wait(5)
        k.kc.stop_channels()


def test_shutdown_exits_even_when_the_cell_cannot_be_stopped(tmp_path):
    k = ExecProcess(tmp_path, env={"JUP_INTERRUPT_GRACE": "0.5"})
    try:
        mid = k.kc.execute("import signal, time\n"
                           "signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})\n"
                           "time.sleep(100)")
        k.wait_busy(mid)
        assert k.control("shutdown_request", {"restart": False})["content"]["status"] == "ok"
        assert k.proc.wait(5) == 0
        assert not (k.runtime.exists() and any(k.runtime.iterdir()))  # nothing left behind
    finally:
        if k.proc.poll() is None:
            k.proc.kill()
            k.proc.wait(5)
        k.kc.stop_channels()


def test_heartbeat_answers_even_while_c_code_holds_the_gil(tmp_path):
    """sum(range(10**12)) never releases the GIL, so no Python thread can answer; the heartbeat
    (echoed in C) still does, which tells a manager the kernel is alive but stuck."""
    k = ExecProcess(tmp_path)
    ctx = zmq.Context.instance()
    hb = ctx.socket(zmq.REQ)
    hb.setsockopt(zmq.LINGER, 0)
    fifo = tmp_path / "started"
    os.mkfifo(fifo)
    try:
        k.kc.execute(f"with open({str(fifo)!r}, 'w') as f: f.write('x')\nsum(range(10**12))")
        fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
        try:
            assert select.select([fd], [], [], WAIT)[0], "the cell did not start"
        finally:
            os.close(fd)
        hb.connect(k.info.url("hb"))
        hb.send(b"ping")
        assert hb.poll(2000) and hb.recv() == b"ping"
    finally:
        hb.close()
        k.proc.kill()
        k.proc.wait(5)
        k.kc.stop_channels()


def test_comms_open_message_and_close(kernel):
    kernel.run(textwrap.dedent('''
        def opened(comm, msg):
            comm.on_msg(lambda m: comm.send({"echo": m["content"]["data"]["x"]}))
        kernel.comm_manager.register_target("echo-target", opened)
    '''))
    s = kernel.kc.session
    kernel.kc.shell_channel.send(s.msg("comm_open", {"comm_id": "c1", "target_name": "echo-target",
                                                     "data": {}}))
    kernel.kc.shell_channel.send(s.msg("comm_msg", {"comm_id": "c1", "data": {"x": 42}}))
    deadline = time.monotonic() + WAIT
    echoed = None
    while echoed is None and time.monotonic() < deadline:
        msg = kernel.kc.get_iopub_msg(timeout=WAIT)
        if msg["msg_type"] == "comm_msg":
            echoed = msg["content"]
    assert echoed == {"comm_id": "c1", "data": {"echo": 42}}
    info = kernel.reply(kernel.kc.get_shell_msg, kernel.kc.comm_info())
    assert info["content"]["comms"] == {"c1": {"target_name": "echo-target"}}
    kernel.kc.shell_channel.send(s.msg("comm_open", {"comm_id": "c2", "target_name": "nobody",
                                                     "data": {}}))
    closed = None
    while closed is None and time.monotonic() < deadline:
        msg = kernel.kc.get_iopub_msg(timeout=WAIT)
        if msg["msg_type"] == "comm_close":
            closed = msg["content"]["comm_id"]
    assert closed == "c2"  # an unknown target is refused by closing the comm


def test_exit_in_a_cell_is_an_error_not_the_end_of_the_kernel(kernel):
    reply, _ = kernel.run("raise SystemExit(3)")
    assert reply["status"] == "error" and reply["ename"] == "SystemExit"
    assert kernel.run("print('alive')")[0]["status"] == "ok" and kernel.proc.poll() is None


def test_a_test_kernel_whose_port_was_taken_first_starts_again_on_fresh_ports(tmp_path):
    """Ports are picked free but bound by the kernel only later: another process that binds one in
    between (here a listening socket of this test) must not fail the test that starts the kernel;
    a kernel that dies for another reason is not started again."""
    with first_port_taken("iopub") as handed:
        k = ExecProcess(tmp_path)
        try:
            assert len(handed) == 2 and k.info is handed[1]
            assert k.run("print('on fresh ports')")[0]["status"] == "ok"
        finally:
            k.stop()
        t0 = time.monotonic()
        with pytest.raises(RuntimeError, match="exited: .*broken on purpose"):
            KernelProcess([sys.executable, "-c", "raise SystemExit('broken on purpose')"], tmp_path,
                          timeout=WAIT)
        assert len(handed) == 3 and time.monotonic() - t0 < WAIT  # one start, not three


def test_connection_file_errors_are_explained(tmp_path):
    missing = subprocess.run([sys.executable, "-c", EXEC_KERNEL, "-f", str(tmp_path / "nope.json")],
                             capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    (tmp_path / "bad.json").write_text("{not json")
    bad = subprocess.run([sys.executable, "-c", EXEC_KERNEL, "-f", str(tmp_path / "bad.json")],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "could not be read" in bad.stderr
    usage = subprocess.run([sys.executable, "-c", EXEC_KERNEL], capture_output=True, text=True, timeout=60)
    assert usage.returncode == 2 and "CONNECTION_FILE" in usage.stderr


# ---- in-process mode ------------------------------------------------------------------------------

def _exec_kernel_class():
    ns: dict = {"__name__": "exec_kernel"}
    exec(EXEC_KERNEL, ns)
    return ns["ExecKernel"]


def test_an_idle_in_process_kernel_uses_no_cpu():
    """Its I/O thread sleeps in poll. It used to spin once its first housekeeping deadline (1 s)
    had passed, because an in-process kernel has no housekeeping to move the deadline on: a core
    at 100 % under every idle `jup run terminal`."""
    kernel = _exec_kernel_class().in_process()
    try:
        window = threading.Event()
        window.wait(1.2)  # past the first deadline
        t0, w0 = os.times(), time.monotonic()
        window.wait(1.5)  # the window measured: nothing to do in it
        t1, w1 = os.times(), time.monotonic()
        used = (t1.user - t0.user) + (t1.system - t0.system)
        assert used < 0.2 * (w1 - w0), f"{used:.2f} s of CPU in {w1 - w0:.2f} s idle"
    finally:
        kernel.close()


def test_in_process_kernel_runs_cells_on_the_pumping_thread_without_stealing_stdout():
    kernel = _exec_kernel_class().in_process()
    host_stdout = sys.stdout
    session = Session(key=kernel.connection_info["key"])
    ip = kernel.connection_info["ip"]
    shell = kernel.context.socket(zmq.DEALER)
    iopub = kernel.context.socket(zmq.SUB)
    try:
        shell.connect(f"inproc://{ip}-{kernel.connection_info['shell_port']}")
        iopub.connect(f"inproc://{ip}-{kernel.connection_info['iopub_port']}")
        iopub.setsockopt(zmq.SUBSCRIBE, b"")
        # kernel_info is answered by the kernel's I/O thread, without pumping
        session.send(shell, "kernel_info_request", {})
        assert shell.poll(WAIT * 1000)
        _, info = session.recv(shell)
        assert info["content"]["implementation"] == "exec-test"
        import io
        import threading
        host_thread_may_print, host_printed = threading.Event(), threading.Event()

        def host_thread():  # the host's own thread, printing while a cell runs
            if host_thread_may_print.wait(WAIT):
                print("from-the-host")
                host_printed.set()

        threading.Thread(target=host_thread, daemon=True).start()
        kernel.host_hook = (host_thread_may_print, host_printed)
        req = session.send(shell, "execute_request", {"code": (
            "import threading\n"
            "print('in-process', threading.current_thread().name)\n"
            "may, done = kernel.host_hook\n"
            "may.set(); done.wait(10)\n"), "silent": False})
        sys.stdout = captured_host = io.StringIO()
        deadline, handled = time.monotonic() + WAIT, 0
        while not shell.poll(0) and time.monotonic() < deadline:
            handled += kernel.pump(0.05)
        assert handled == 1 and sys.stdout is captured_host
        sys.stdout = host_stdout
        assert captured_host.getvalue() == "from-the-host\n"  # the host's thread wrote to the host
        _, reply = session.recv(shell)
        assert reply["content"]["status"] == "ok"
        texts = []
        while iopub.poll(1000):
            _, msg = session.recv(iopub)
            if msg["parent_header"].get("msg_id") != req["header"]["msg_id"]:
                continue
            if msg["msg_type"] == "stream":
                texts.append(msg["content"]["text"])
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                break
        assert "".join(texts) == "in-process MainThread\n"
        assert kernel.pump(0) == 0  # nothing left to do
    finally:
        sys.stdout = host_stdout
        shell.close(0)
        iopub.close(0)
        kernel.close()


def test_replies_are_not_dropped_when_the_client_reads_late():
    """A ROUTER drops at its high-water mark (1000 by default); the kernel lifts it for replies."""
    kernel = _exec_kernel_class().in_process()
    session = Session(key="")
    shell = kernel.context.socket(zmq.DEALER)
    try:
        shell.connect(f"inproc://{kernel.connection_info['ip']}-{kernel.connection_info['shell_port']}")
        n = 2500
        for _ in range(n):
            session.send(shell, "execute_request", {"code": "pass", "silent": True})
        handled, deadline = 0, time.monotonic() + 60
        while handled < n and time.monotonic() < deadline:
            handled += kernel.pump(0.05)  # every reply is produced before the client reads any
        got = 0
        while got < n and shell.poll(2000):
            shell.recv_multipart()
            got += 1
        assert (handled, got) == (n, n)
    finally:
        shell.close(0)
        kernel.close()


def test_a_flood_of_output_reaches_a_subscriber_that_reads_late(kernel):
    """iopub never drops at its high-water mark: 6000 displays of 2 KB (12 MB, beyond the socket
    buffers and both 1000-message queues) all arrive, in order, though the client reads none until
    the cell's reply is in."""
    n = 6000
    mid = kernel.kc.execute(f"for i in range({n}):\n    kernel.display({{'text/plain': f'{{i:06d}}' + 'x' * 2000}})")
    reply = kernel.reply(kernel.kc.get_shell_msg, mid, timeout=30)
    assert reply["content"]["status"] == "ok"
    msgs = kernel.iopub_until_idle(mid, timeout=20)
    shown = [m["content"]["data"]["text/plain"][:6] for m in msgs if m["msg_type"] == "display_data"]
    assert shown == [f"{i:06d}" for i in range(n)]


def test_a_cell_sent_after_an_errors_idle_runs_and_earlier_queued_cells_are_aborted(kernel):
    """stop_on_error aborts only the executes received before the error's reply: here the erroring
    cell waits for the next one to be queued before it fails, and after its idle it waits until the
    cell the client sends on seeing that idle is queued: the old order (idle, then abort everything
    queued) aborted that cell too."""
    kernel.run(textwrap.dedent('''
        def _wait_queued(text):  # until an execute with `text` in its code is queued (at most 5 s)
            q = kernel._queue
            with q._cond:
                q._cond.wait_for(lambda: any(text in m[1]["content"].get("code", "")
                                             for m in q._items if m[0] is not None), 5)
        _publish = kernel.publish
        def _held_idle(msg_type, content, parent=None, **kw):
            _publish(msg_type, content, parent=parent, **kw)
            code = ((parent or {}).get("content") or {}).get("code", "")
            if msg_type == "status" and content["execution_state"] == "idle" and code.endswith("#hold"):
                _wait_queued("ran_after")
        kernel.publish = _held_idle
    '''))
    first = kernel.kc.execute("_wait_queued('ran_early'); raise ValueError('boom') #hold")
    early = kernel.kc.execute("ran_early = True")  # received before the error reply: aborted
    assert kernel.reply(kernel.kc.get_shell_msg, first)["content"]["status"] == "error"
    kernel.iopub_until_idle(first)
    # a client sends its next cell once it saw the error's idle: that cell must run
    after = kernel.kc.execute("ran_after = True")
    replies = {}
    deadline = time.monotonic() + WAIT
    while len(replies) < 2 and time.monotonic() < deadline:
        msg = kernel.kc.get_shell_msg(timeout=WAIT)
        replies[msg["parent_header"].get("msg_id")] = msg["content"]["status"]
    assert (replies.get(early), replies.get(after)) == ("aborted", "ok")
    content, msgs = kernel.run("print('ran_early' in globals(), ran_after)")
    assert _text(msgs) == "False True\n"


def test_sigint_while_a_cell_is_starting_interrupts_it(kernel):
    """A SIGINT after execute_input but before the cell's code runs stops that cell (it used to be
    ignored there, so the cell ran to its end): the signal is sent while execute_input is published."""
    kernel.run(textwrap.dedent('''
        import os, signal
        _publish = kernel.publish
        def _signal_on_input(msg_type, content, parent=None, **kw):
            _publish(msg_type, content, parent=parent, **kw)
            if msg_type == "execute_input" and content["code"].startswith("#sigint"):
                os.kill(os.getpid(), signal.SIGINT)
        kernel.publish = _signal_on_input
    '''))
    content, _ = kernel.run("#sigint\nstarted = True")
    assert content["status"] == "error" and content["ename"] == "KeyboardInterrupt"
    content, msgs = kernel.run("print('started' in globals())")
    assert content["status"] == "ok" and _text(msgs) == "False\n"


def test_a_print_flood_comes_in_few_large_messages_and_loses_no_line(kernel):
    """200k printed lines: every line arrives, in order, in a handful of stream messages (the flush
    interval grows while output floods; 3 on a quiet machine, ipykernel sends 6), not one per 50 ms
    (the bound leaves room for a loaded machine, where the loop takes longer)."""
    content, msgs = kernel.run("for i in range(200_000):\n    print(i)", timeout=60)
    assert content["status"] == "ok"
    streams = [m for m in msgs if m["msg_type"] == "stream"]
    assert "".join(m["content"]["text"] for m in streams) == "".join(f"{i}\n" for i in range(200_000))
    assert 1 <= len(streams) <= 12


def test_the_first_subscriber_gets_what_iopub_published_before_it_came(tmp_path):
    """A client's iopub socket often connects after its shell socket (ZeroMQ reconnects every
    100 ms): the first cell's status and output, published before any subscriber, are kept and
    arrive after the iopub_welcome instead of being lost."""
    info = ConnectionInfo.allocate()
    path = str(info.write(tmp_path / "kernel-late.json"))
    proc = subprocess.Popen([sys.executable, "-c", EXEC_KERNEL, "-f", path], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL,
                            env={**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")})
    session = Session(key=info.key, signature_scheme=info.signature_scheme)
    ctx = zmq.Context()
    shell = ctx.socket(zmq.DEALER)
    sub = ctx.socket(zmq.SUB)
    try:
        shell.connect(f"tcp://{info.ip}:{info.shell_port}")
        sent = session.send(shell, "execute_request", {"code": "print('early')", "silent": False})
        assert shell.poll(WAIT * 1000), "no execute_reply"
        _, reply = session.recv(shell)
        assert reply["content"]["status"] == "ok"
        sub.setsockopt(zmq.SUBSCRIBE, b"")
        sub.connect(f"tcp://{info.ip}:{info.iopub_port}")  # only now, after the cell ended
        got, deadline = [], time.monotonic() + WAIT
        while time.monotonic() < deadline and sub.poll(int(WAIT * 1000)):
            _, msg = session.recv(sub)
            got.append((msg["msg_type"], msg["parent_header"].get("msg_id"), msg["content"]))
            if msg["msg_type"] == "status" and got[-1][1] == sent["msg_id"] and \
                    msg["content"]["execution_state"] == "idle":
                break
        assert got[0][0] == "iopub_welcome"
        mine = [(t, c) for t, m, c in got if m == sent["msg_id"]]
        assert mine[0] == ("status", {"execution_state": "busy"})
        assert ("stream", {"name": "stdout", "text": "early\n"}) in mine
        assert mine[-1] == ("status", {"execution_state": "idle"})
    finally:
        session.send(shell, "shutdown_request", {"restart": False})  # on shell: the kernel accepts it
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        shell.close(0)
        sub.close(0)
        ctx.term()


def test_the_io_thread_wakes_for_every_send_even_after_bursts_from_other_threads():
    """Sends from other threads wake the I/O thread through a pipe and a flag; a flag left set
    with the pipe empty (a wake-up racing with the I/O thread emptying the pipe) made every later
    message wait for the poll timeout (up to 1 s in a kernel: slow replies after some minutes of
    use). After each of 1500 small bursts from two threads, a probe still arrives at once (the poll
    timeout here is 30 s; the old order failed within a few hundred bursts)."""
    import threading

    from jup.core.kernelbase.io_thread import SHELL, IOThread

    ctx = zmq.Context()
    name = f"inproc://wake-{os.getpid()}"
    idents: list = []
    seen = threading.Event()

    def handler(channel, frames):
        idents.append(frames[0].bytes)
        seen.set()

    io = IOThread(ctx, {c: f"{name}-{c}" for c in ("shell", "control", "stdin", "iopub")}, handler,
                  housekeeping=None, housekeeping_interval=30.0)
    io.start()
    client = ctx.socket(zmq.DEALER)
    try:
        client.connect(f"{name}-shell")
        client.send(b"hello")
        assert seen.wait(5)
        ident = idents[0]

        def burst(n):
            for _ in range(n):
                io.send(SHELL, [ident, b"burst"])

        slowest = 0.0
        for _ in range(1500):
            helper = threading.Thread(target=burst, args=(3,))
            helper.start()
            burst(3)
            helper.join(5)
            for _ in range(6):  # every burst message arrives
                assert client.poll(5000)
                client.recv()
            t0 = time.monotonic()
            io.send(SHELL, [ident, b"probe"])
            assert client.poll(5000), "a message waited for the I/O thread's poll timeout"
            assert client.recv() == b"probe"
            slowest = max(slowest, time.monotonic() - t0)
        assert slowest < 1.0
    finally:
        client.close(0)
        io.stop()
        ctx.term()
