"""A frontend author's view of the kernel client: jupyter_client's method names, replies routed to
whoever asked, each cell's output to its own hook, and a client that survives garbage on the wire."""

from __future__ import annotations

import asyncio
import time

import pytest
import zmq

from jup.core.client import AsyncKernelClient, BlockingKernelClient
from jup.core.errors import ConfigError, KernelTimeout
from jup.core.manager import BlockingKernelManager
from jup.core.protocol import messages as m
from jup.core.protocol.connection import ConnectionInfo
from jup.core.protocol.session import Session
from jup.core.protocol.wire import DELIM
from jup.core.testing import fake_kernel_spec

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def km(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path_factory.mktemp("runtime")))
    manager = BlockingKernelManager(fake_kernel_spec())
    manager.start()
    yield manager
    manager.shutdown()
    mp.undo()


@pytest.fixture
def kc(km):
    c = km.client()
    c.wait_for_ready(timeout=10)
    yield c
    c.stop_channels()


def test_execute_interactive_routes_this_cells_output(kc):
    seen = []
    reply = kc.execute_interactive("print('hello'); import sys; print('oops', file=sys.stderr); 40 + 2",
                                   output_hook=seen.append, timeout=10)
    assert reply["content"]["status"] == "ok"
    kinds = [(x["msg_type"], x["content"].get("name")) for x in seen]
    assert ("stream", "stdout") in kinds and ("stream", "stderr") in kinds
    result = [x for x in seen if x["msg_type"] == "execute_result"][0]
    assert result["content"]["data"]["text/plain"] == "42"
    assert kinds[0] == ("execute_input", None), "execute_input comes first, as the protocol says"


def test_errors_come_back_as_error_output_and_reply(kc):
    seen = []
    reply = kc.execute_interactive("1/0", output_hook=seen.append, timeout=10)
    assert reply["content"]["status"] == "error" and reply["content"]["ename"] == "ZeroDivisionError"
    assert [x["content"]["ename"] for x in seen if x["msg_type"] == "error"] == ["ZeroDivisionError"]


def test_input_is_answered_by_the_stdin_hook(kc):
    prompts = []

    def answer(msg):
        prompts.append(msg["content"]["prompt"])
        return "Ada"
    reply = kc.execute_interactive("name = input('who? ')", stdin_hook=answer, output_hook=lambda _: None,
                                   timeout=10)
    assert reply["content"]["status"] == "ok" and prompts == ["who? "]
    ue = kc.execute("", user_expressions={"n": "name"}, reply=True, timeout=10)["content"]["user_expressions"]
    assert ue["n"]["data"]["text/plain"] == "'Ada'"


def test_a_jupyter_client_style_stdin_hook_calling_input_itself_works(kc):
    reply = kc.execute_interactive("v = input()", stdin_hook=lambda msg: kc.input("typed"),
                                   output_hook=lambda _: None, timeout=10)
    assert reply["content"]["status"] == "ok"
    ue = kc.execute("", user_expressions={"v": "v"}, reply=True, timeout=10)["content"]["user_expressions"]
    assert ue["v"]["data"]["text/plain"] == "'typed'"


def test_every_request_method_gets_its_reply(kc):
    kc.execute("alpha_beta = 3", reply=True, timeout=10)
    assert "alpha_beta" in kc.complete("alpha_b", reply=True, timeout=10)["content"]["matches"]
    insp = kc.inspect("alpha_beta", reply=True, timeout=10)["content"]
    assert insp["found"] and insp["data"]["text/plain"] == "3"
    assert kc.is_complete("for i in x:", reply=True, timeout=10)["content"]["status"] == "incomplete"
    assert kc.is_complete("x = 1", reply=True, timeout=10)["content"]["status"] == "complete"
    assert kc.history(reply=True, timeout=10)["msg_type"] == "history_reply"
    assert kc.comm_info(reply=True, timeout=10)["content"]["comms"] == {}
    assert kc.kernel_info(reply=True, timeout=10)["content"]["implementation"] == "jup-fake"
    # without reply=True: the msg_id, and the reply waits in get_shell_msg like jupyter_client
    msg_id = kc.kernel_info()
    assert kc.get_shell_msg(timeout=10)["parent_header"]["msg_id"] == msg_id


async def test_concurrent_requests_never_steal_each_others_replies(km):
    kc = AsyncKernelClient(km.connection_info)
    await kc.wait_for_ready(timeout=10)
    codes = [f"{i} * 2" for i in range(30)] + ["pri"] * 10
    calls = [kc.execute(c, reply=True, timeout=10) if c != "pri" else kc.complete(c, reply=True, timeout=10)
             for c in codes]
    replies = await asyncio.gather(*calls)
    assert [r["msg_type"] for r in replies] == ["execute_reply"] * 30 + ["complete_reply"] * 10
    assert all("print" in r["content"]["matches"] for r in replies[30:])
    kc.stop_channels()


def test_timeouts_say_what_happened(kc):
    with pytest.raises(KernelTimeout, match="shell channel within 0.2 s"):
        kc.get_shell_msg(timeout=0.2)
    t0 = time.monotonic()
    with pytest.raises(KernelTimeout, match="did not answer execute_request within 0.3 s"):
        kc.execute("import time; time.sleep(1.5)", reply=True, timeout=0.3)
    assert time.monotonic() - t0 < 1.2
    assert kc.execute("1", reply=True, timeout=10)["content"]["status"] == "ok", "still usable afterwards"


def test_heartbeat_and_connection_file_input(km):
    c = BlockingKernelClient(km.connection_file)  # a path works as in jupyter_client
    assert c.heartbeat(timeout=5) is True
    c.stop_channels()
    with pytest.raises(ConfigError, match="does not exist"):
        BlockingKernelClient("/nonexistent/kernel-x.json")


def test_nothing_listening_means_a_fast_clear_timeout():
    c = BlockingKernelClient(ConnectionInfo.allocate())
    t0 = time.monotonic()
    with pytest.raises(KernelTimeout, match="not ready within 0.5 s"):
        c.wait_for_ready(timeout=0.5)
    assert c.heartbeat(timeout=0.2) is False
    assert time.monotonic() - t0 < 3
    c.stop_channels()


async def test_blocking_client_works_inside_a_running_event_loop(km):
    c = km.client()  # e.g. called from a notebook cell, where a loop already runs
    assert c.execute("3", reply=True, timeout=10)["content"]["status"] == "ok"
    c.stop_channels()


class RawKernel:
    """Sockets bound by the test, to send the client exactly the frames a test wants."""

    def __init__(self):
        self.info = ConnectionInfo.allocate()
        self.ctx = zmq.Context()
        self.session = Session(self.info.key)
        self.shell = self.ctx.socket(zmq.ROUTER)
        self.iopub = self.ctx.socket(zmq.PUB)
        # bound to ports zmq picks, not the allocated ones: another process may take those first
        self.info.shell_port = self.shell.bind_to_random_port(f"tcp://{self.info.ip}")
        self.info.iopub_port = self.iopub.bind_to_random_port(f"tcp://{self.info.ip}")

    def close(self):
        self.shell.close(0)
        self.iopub.close(0)
        self.ctx.term()


def garbage(session: Session) -> list[list[bytes]]:
    good = session.serialize(session.msg("stream", m.stream("stdout", "x")))
    bad_sig = list(good)
    bad_sig[1] = b"0" * 64
    no_delim = [f for f in good if f != DELIM]
    not_json = list(good[:2]) + [b"{not json", b"{}", b"{}", b"{}"]
    not_json[1] = session.signer.sign(not_json[2:6])
    return [bad_sig, no_delim, good[:3], not_json, good, good]  # the last is a replay of the one before


async def test_garbage_on_iopub_and_shell_is_dropped_and_the_client_keeps_working(caplog):
    k = RawKernel()
    kc = AsyncKernelClient(k.info)
    kc.start_channels()
    try:
        # wait until the SUB is connected: publish until one message gets through (bounded)
        async with asyncio.timeout(10):
            for _ in range(1000):
                k.session.send(k.iopub, "status", m.status("idle"))
                try:
                    await kc.get_iopub_msg(timeout=0.05)
                    break
                except KernelTimeout:
                    continue
        before = kc.session.rejected
        bad = garbage(k.session)
        for frames in bad:
            k.iopub.send_multipart(frames)
        k.session.send(k.iopub, "stream", m.stream("stdout", "after the garbage"))
        msgs = [await kc.get_iopub_msg(timeout=5), await kc.get_iopub_msg(timeout=5)]
        assert [x["content"]["text"] for x in msgs] == ["x", "after the garbage"]
        assert kc.session.rejected - before == 5, "each bad message counted once"
        assert "dropped a bad message" in caplog.text
        # shell: the reply arrives after garbage that claims the same parent
        req = asyncio.ensure_future(kc.kernel_info(reply=True, timeout=5))
        idents, msg = await asyncio.to_thread(k.session.recv, k.shell)
        junk = k.session.serialize(k.session.msg("kernel_info_reply", {}, msg), idents)
        junk[len(idents) + 1] = b"f" * 64
        k.shell.send_multipart(junk)
        k.session.send(k.shell, "kernel_info_reply", {"status": "ok", "implementation": "raw"}, msg, idents)
        reply = await req
        assert reply["content"]["implementation"] == "raw"
    finally:
        kc.stop_channels()
        k.close()


def test_cancel_drops_a_queued_cell_without_stopping_the_running_one(tmp_path, monkeypatch):
    from jup.core.errors import NoSuchKernel
    from jup.core.kernelspec import get_kernel_spec
    try:
        spec = get_kernel_spec("python")
    except NoSuchKernel:
        pytest.skip("cancel_request needs a jup kernel; the jup-python plugin is not installed")
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path))
    with BlockingKernelManager(spec) as manager:
        c = manager.client()
        c.wait_for_ready(timeout=30)
        # the running cell waits for the test's answer to input(): `queued` is still queued when
        # the cancel arrives, however slow the machine
        running = c.execute("ran = input('go? ')")
        queued = c.execute("ran = 'second'")
        answer = c.cancel(queued, reply=True, timeout=10)["content"]
        assert answer == {"status": "ok", "cancelled": True}
        assert c.get_stdin_msg(timeout=20)["content"]["prompt"] == "go? "
        c.input("first")
        replies = {}
        for _ in range(2):
            r = c.get_shell_msg(timeout=20)
            replies[r["parent_header"]["msg_id"]] = r["content"]["status"]
        assert replies == {running: "ok", queued: "aborted"}
        ue = c.execute("", user_expressions={"r": "ran"}, reply=True, timeout=10)["content"]["user_expressions"]
        assert ue["r"]["data"]["text/plain"] == "'first'"
        assert c.cancel("no-such-id", reply=True, timeout=10)["content"]["cancelled"] is False
        c.stop_channels()
