"""Comms: a target registered in the kernel answers a frontend's comm_open, messages round-trip
both ways, and comm_info lists the open comms."""

from __future__ import annotations

import time

import pytest
from pykernel_helpers import outputs, run

SETUP = """
from jup.python import comm as jcomm
received = []
def on_open(c, msg):
    received.append(('open', msg['content']['data']))
    def on_msg(m):
        received.append(('msg', m['content']['data']))
        c.send({'echo': m['content']['data']})
    c.on_msg(on_msg)
    c.on_close(lambda m: received.append(('close', m['content']['data'])))
jcomm.register_target('echo', on_open)
"""


def iopub_until(kc, kind: str, timeout: float = 10) -> dict:
    """The next iopub message of one type (bounded by `timeout`)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        msg = kc.get_iopub_msg(timeout=max(deadline - time.monotonic(), 0.01))
        if msg["msg_type"] == kind:
            return msg
    raise AssertionError(f"no {kind} on iopub within {timeout} s")


def send(kc, msg_type: str, content: dict) -> None:
    kc.shell_channel.send(kc.session.msg(msg_type, content))


def test_frontend_opens_a_comm_and_messages_round_trip(kernel):
    assert run(kernel, SETUP)[0]["content"]["status"] == "ok"
    send(kernel, "comm_open", {"comm_id": "c1", "target_name": "echo", "data": {"hello": 1}})
    send(kernel, "comm_msg", {"comm_id": "c1", "data": {"n": 2}})
    echoed = iopub_until(kernel, "comm_msg")
    assert echoed["content"] == {"comm_id": "c1", "data": {"echo": {"n": 2}}}

    kernel.comm_info()
    info = kernel.get_shell_msg(timeout=10)["content"]
    assert info["comms"] == {"c1": {"target_name": "echo"}}

    send(kernel, "comm_close", {"comm_id": "c1", "data": {"bye": True}})
    _, msgs = run(kernel, "received")
    assert outputs(msgs, "execute_result")[0]["data"]["text/plain"] == \
        "[('open', {'hello': 1}), ('msg', {'n': 2}), ('close', {'bye': True})]"


def test_kernel_opens_a_comm_and_the_frontend_answers(kernel):
    code = ("from jup.python import comm as jcomm\n"
            "got = []\n"
            "c = jcomm.create_comm('from-kernel', data={'v': 1})\n"
            "c.on_msg(lambda m: got.append(m['content']['data']))\n"
            "c.send({'v': 2})\n"
            "c.comm_id")
    reply, msgs = run(kernel, code)
    comm_id = outputs(msgs, "execute_result")[0]["data"]["text/plain"].strip("'")
    kinds = [(m["msg_type"], m["content"].get("data")) for m in msgs if m["msg_type"].startswith("comm")]
    assert kinds == [("comm_open", {"v": 1}), ("comm_msg", {"v": 2})]
    send(kernel, "comm_msg", {"comm_id": comm_id, "data": {"from": "frontend"}})
    _, msgs = run(kernel, "got")  # comm messages run in order with executes
    assert outputs(msgs, "execute_result")[0]["data"]["text/plain"] == "[{'from': 'frontend'}]"


def test_opening_an_unknown_target_is_refused(kernel):
    send(kernel, "comm_open", {"comm_id": "c9", "target_name": "nobody", "data": {}})
    closed = iopub_until(kernel, "comm_close")
    assert closed["content"]["comm_id"] == "c9"


def test_comms_need_a_kernel():
    from jup.python import comm
    saved, comm._kernel = comm._kernel, None
    try:
        with pytest.raises(RuntimeError, match="need a running jup kernel"):
            comm.create_comm("x")
    finally:
        comm._kernel = saved
