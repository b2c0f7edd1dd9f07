"""The echo kernel as a user meets it: a real process, a real connection file, driven by
jupyter_client's BlockingKernelClient (and by raw zmq for the malformed-message attacks)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import zmq
from jupyter_client import BlockingKernelClient

from jup.core.protocol.session import Session
from jup.core.testing import KernelProcess

WAIT = 10  # seconds any single expected message may take on a busy machine


def EchoProcess(tmp_path, env=None) -> KernelProcess:
    """An echo kernel process, its connection file and a connected jupyter_client client."""
    return KernelProcess([sys.executable, "-m", "jup.echo"], tmp_path, env, kernel_name="echo",
                         timeout=WAIT)


@pytest.fixture
def echo(tmp_path):
    k = EchoProcess(tmp_path)
    yield k
    k.stop()


def test_kernel_info_names_the_echo_kernel(echo):
    reply = echo.shell_reply(echo.kc.kernel_info())
    c = reply["content"]
    assert c["status"] == "ok" and c["implementation"] == "jup-echo"
    assert c["language_info"]["name"] == "echo" and c["protocol_version"].startswith("5.")
    assert c["jup"]["rejected_messages"] == 0
    assert {"cancel_request", "output_request"} <= set(c["jup"]["control_extensions"])


def test_execute_echoes_as_stream_and_result_then_idle(echo):
    mid = echo.kc.execute("hello world")
    reply = echo.shell_reply(mid)
    assert reply["content"]["status"] == "ok" and reply["content"]["execution_count"] == 1
    msgs = echo.iopub_until_idle(mid)
    kinds = [m["msg_type"] for m in msgs]
    assert kinds == ["status", "execute_input", "stream", "execute_result", "status"]
    assert msgs[2]["content"] == {"name": "stdout", "text": "hello world\n"}
    assert msgs[3]["content"]["data"] == {"text/plain": "hello world"}
    second = echo.shell_reply(echo.kc.execute("again"))
    assert second["content"]["execution_count"] == 2


def test_complete_inspect_is_complete_and_history(echo):
    mid = echo.kc.execute("hello helium world")
    echo.shell_reply(mid)
    comp = echo.shell_reply(echo.kc.complete("say hel", 7))["content"]
    assert comp["matches"] == ["helium", "hello"] and (comp["cursor_start"], comp["cursor_end"]) == (4, 7)
    insp = echo.shell_reply(echo.kc.inspect("world", 2))["content"]
    assert insp["found"] and "world" in insp["data"]["text/plain"]
    assert not echo.shell_reply(echo.kc.inspect("never", 2))["content"]["found"]
    assert echo.shell_reply(echo.kc.is_complete("a line \\"))["content"] == {"status": "incomplete",
                                                                          "indent": ""}
    assert echo.shell_reply(echo.kc.is_complete("a line"))["content"]["status"] == "complete"
    echo.shell_reply(echo.kc.execute("second cell"))
    hist = echo.shell_reply(echo.kc.history(hist_access_type="tail", n=10, output=True))["content"]
    assert [h[2][0] for h in hist["history"]] == ["hello helium world", "second cell"]
    found = echo.shell_reply(echo.kc.history(hist_access_type="search", pattern="sec*"))["content"]
    assert [h[2] for h in found["history"]] == ["second cell"]


def test_input_round_trip_through_stdin(echo):
    mid = echo.kc.execute("input: your name?", allow_stdin=True)
    req = echo.kc.get_stdin_msg(timeout=WAIT)
    assert req["msg_type"] == "input_request" and req["content"]["prompt"] == "your name? "
    assert req["parent_header"]["msg_id"] == mid
    echo.kc.input("Ada")
    assert echo.shell_reply(mid)["content"]["status"] == "ok"
    streams = [m for m in echo.iopub_until_idle(mid) if m["msg_type"] == "stream"]
    assert streams[0]["content"]["text"] == "Ada\n"


def test_input_refused_when_frontend_disallows_stdin(echo):
    reply = echo.shell_reply(echo.kc.execute("input: name?", allow_stdin=False))["content"]
    assert reply["status"] == "error" and reply["ename"] == "StdinNotImplementedError"
    assert "allow_stdin" in reply["evalue"]


def test_interrupt_while_waiting_for_input_ends_the_cell(echo):
    mid = echo.kc.execute("input: never answered", allow_stdin=True)
    assert echo.kc.get_stdin_msg(timeout=WAIT)["msg_type"] == "input_request"
    assert echo.control("interrupt_request")["content"]["status"] == "ok"
    assert echo.shell_reply(mid)["content"]["ename"] == "KeyboardInterrupt"


def test_without_stop_on_error_queued_cells_still_run(echo):
    first = echo.kc.execute("sleep 0.3")
    failing = echo.kc.execute("error: boom", stop_on_error=False)
    queued = echo.kc.execute("hello")
    assert echo.shell_reply(first)["content"]["status"] == "ok"
    assert echo.shell_reply(failing)["content"]["status"] == "error"
    assert echo.shell_reply(queued)["content"]["status"] == "ok"


def test_interrupt_stops_a_sleep_and_says_ok(echo):
    mid = echo.kc.execute("sleep 100")
    assert echo.kc.get_iopub_msg(timeout=WAIT)["content"]["execution_state"] == "busy"
    t0 = time.monotonic()
    reply = echo.control("interrupt_request")
    assert reply["content"]["status"] == "ok"
    assert time.monotonic() - t0 < 1.5
    ex = echo.shell_reply(mid)["content"]
    assert ex["status"] == "error" and ex["ename"] == "KeyboardInterrupt"
    assert echo.shell_reply(echo.kc.execute("still alive"))["content"]["status"] == "ok"


def test_requests_answered_within_200ms_while_a_cell_runs(echo):
    mid = echo.kc.execute("sleep 10")
    assert echo.kc.get_iopub_msg(timeout=WAIT)["content"]["execution_state"] == "busy"
    for request in (echo.kc.kernel_info, lambda: echo.kc.complete("sle", 3),
                    lambda: echo.kc.is_complete("x")):
        t0 = time.monotonic()
        reply = echo.shell_reply(request(), timeout=2)
        assert reply["content"]["status"] in ("ok", "complete")
        assert time.monotonic() - t0 < 0.2, reply["msg_type"]
    echo.control("interrupt_request")
    assert echo.shell_reply(mid)["content"]["ename"] == "KeyboardInterrupt"


def test_cancel_drops_one_queued_execute_without_touching_the_running_one(echo):
    running = echo.kc.execute("sleep 10")
    queued = echo.kc.execute("never runs")
    after = echo.kc.execute("runs later")
    assert echo.kc.get_iopub_msg(timeout=WAIT)["content"]["execution_state"] == "busy"
    reply = echo.control("cancel_request", {"msg_id": queued})
    assert reply["msg_type"] == "cancel_reply" and reply["content"]["cancelled"] is True
    assert echo.shell_reply(queued)["content"]["status"] == "aborted"
    again = echo.control("cancel_request", {"msg_id": queued})
    assert again["content"]["cancelled"] is False
    assert echo.proc.poll() is None
    echo.control("interrupt_request")  # end the sleep: it was still running
    assert echo.shell_reply(running)["content"]["ename"] == "KeyboardInterrupt"
    # the interrupted cell errored with stop_on_error, so the cell queued behind it is aborted too
    assert echo.shell_reply(after)["content"]["status"] == "aborted"
    hist = echo.shell_reply(echo.kc.history(hist_access_type="tail", n=10))["content"]["history"]
    assert all(h[2] != "never runs" for h in hist)


def test_error_with_stop_on_error_aborts_queued_cells(echo):
    first = echo.kc.execute("sleep 0.3")
    failing = echo.kc.execute("error: boom")
    queued = echo.kc.execute("hello")
    assert echo.shell_reply(first)["content"]["status"] == "ok"
    err = echo.shell_reply(failing)["content"]
    assert err["status"] == "error" and err["evalue"] == "boom"
    assert echo.shell_reply(queued)["content"]["status"] == "aborted"
    assert echo.shell_reply(echo.kc.execute("fine again"))["content"]["status"] == "ok"


def test_debug_request_is_refused_politely(echo):
    reply = echo.control("debug_request", {"type": "request", "seq": 3,
                                                              "command": "initialize", "arguments": {}})
    assert reply["content"]["success"] is False and reply["content"]["request_seq"] == 3


def test_bad_messages_are_dropped_counted_and_logged(echo):
    """Each kind of bad message is dropped with one log line; the kernel keeps answering."""
    ctx = zmq.Context.instance()
    sock = ctx.socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(echo.info.url("shell"))
    good = Session(key=echo.info.key)
    wrong_key = Session(key="not-the-key")
    try:
        def frames_of(session, msg_type="kernel_info_request"):
            return session.serialize(session.msg(msg_type, {}))

        bad_sig = frames_of(wrong_key)
        no_sig = frames_of(good)
        no_sig[1] = b""
        wrong_delim = frames_of(good)
        wrong_delim[0] = b"<IDS|MSX>"
        truncated = frames_of(good)[:3]
        non_json = frames_of(good)
        non_json[2] = b"{not json"
        non_json[1] = good.signer.sign(non_json[2:6])
        replayed = frames_of(good)
        for frames in (bad_sig, no_sig, wrong_delim, truncated, non_json, replayed, replayed):
            sock.send_multipart(frames)
        # the first `replayed` is valid: it gets a reply; the second copy is a replay and does not
        assert sock.poll(WAIT * 1000)
        _, first = good.deserialize(sock.recv_multipart())
        assert first["msg_type"] == "kernel_info_reply"
        probe = good.msg("kernel_info_request", {})
        sock.send_multipart(good.serialize(probe))
        deadline = time.monotonic() + WAIT
        reply = None
        while time.monotonic() < deadline and sock.poll(int(1000 * (deadline - time.monotonic()))):
            _, reply = good.deserialize(sock.recv_multipart())
            if reply["parent_header"]["msg_id"] == probe["header"]["msg_id"]:
                break
        assert reply is not None and reply["parent_header"]["msg_id"] == probe["header"]["msg_id"]
        assert reply["content"]["jup"]["rejected_messages"] == 6
    finally:
        sock.close()
    echo.stop()
    log = echo.stderr_path.read_text()
    assert log.count("dropped a bad message") == 6
    for reason in ("SignatureError", "MalformedMessage", "ReplayError"):
        assert reason in log


def test_shutdown_leaves_no_process(echo):
    assert echo.control("shutdown_request", {"restart": False})["content"]["status"] == "ok"
    assert echo.proc.wait(WAIT) == 0


def test_shutdown_sent_on_shell_by_an_old_client_is_answered_there(echo):
    msg = echo.kc.session.msg("shutdown_request", {"restart": False})
    echo.kc.shell_channel.send(msg)
    assert echo.shell_reply(msg["header"]["msg_id"])["msg_type"] == "shutdown_reply"
    assert echo.proc.wait(WAIT) == 0


def test_shutdown_while_a_cell_sleeps_exits_promptly(echo):
    echo.kc.execute("sleep 100")
    assert echo.kc.get_iopub_msg(timeout=WAIT)["content"]["execution_state"] == "busy"
    echo.send_control("shutdown_request", {"restart": False})
    assert echo.proc.wait(5) == 0


def test_kernel_exits_when_its_parent_dies(tmp_path):
    parent = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"],
                              stdin=subprocess.PIPE)
    k = EchoProcess(tmp_path, env={"JPY_PARENT_PID": str(parent.pid)})
    try:
        parent.stdin.close()
        parent.wait(WAIT)
        assert k.proc.wait(WAIT) == 0
    finally:
        k.stop()


# ---- `jup kernel` (run_kernel) --------------------------------------------------------------------

def _start_kernelrun(runtime):
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(runtime)}
    proc = subprocess.Popen([sys.executable, "-m", "jup.core.kernelrun", "--kernel", "echo"],
                            stdout=subprocess.PIPE, text=True, env=env)
    lines = [proc.stdout.readline() for _ in range(3)]
    attach = lines[1].split()
    assert attach[:4] == ["jup", "run", "terminal", "--existing"], lines
    path = runtime / attach[4]
    assert path.is_file() and (path.stat().st_mode & 0o777) == 0o600
    return proc, path


def _kernel_pid(kc):
    kc.kernel_info()
    return kc.get_shell_msg(timeout=WAIT)["content"]["jup"]["pid"]


def _gone(pid, timeout=WAIT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)  # polling a pid that is not our child: nothing to wait on
    return False


def test_jup_kernel_writes_a_private_connection_file_and_removes_it(tmp_path):
    proc, path = _start_kernelrun(tmp_path)
    kc = BlockingKernelClient()
    kc.load_connection_file(str(path))
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=WAIT)
        pid = _kernel_pid(kc)
        kc.shutdown()
        assert proc.wait(WAIT) == 0
    finally:
        kc.stop_channels()
        if proc.poll() is None:
            proc.kill()
    assert not path.exists() and _gone(pid)


def test_ctrl_c_on_jup_kernel_stops_the_kernel_and_cleans_up(tmp_path):
    proc, path = _start_kernelrun(tmp_path)
    kc = BlockingKernelClient()
    kc.load_connection_file(str(path))
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=WAIT)
        pid = _kernel_pid(kc)
        proc.send_signal(signal.SIGINT)
        proc.wait(WAIT)
    finally:
        kc.stop_channels()
        if proc.poll() is None:
            proc.kill()
    assert not path.exists() and _gone(pid)


def test_jup_kernel_with_an_unknown_name_lists_the_known_ones(tmp_path):
    out = subprocess.run([sys.executable, "-m", "jup.core.kernelrun", "--kernel", "no-such-kernel"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert "No kernel named 'no-such-kernel'" in out.stderr and "echo" in out.stderr


def test_plugin_declares_the_echo_kernel():
    from jup.echo.plugin import jup_kernels

    (spec,) = jup_kernels()
    assert spec.name == "echo" and spec.argv[-2:] == ["-f", "{connection_file}"]
    assert json.loads(json.dumps(spec.kernel_json()))["language"] == "echo"
