"""Median `pass` round trip (execute_reply + idle): jup BlockingKernelClient, jupyter_client's
BlockingKernelClient and a bare synchronous zmq loop (the kernel-bound floor), same kernel, interleaved."""

import statistics
import sys
import time

import jupyter_client
import zmq

from jup.core.client import BlockingKernelClient
from jup.core.protocol.connection import ConnectionInfo
from jup.core.protocol.session import Session


def noop(msg):
    pass


def floor_client(cf):
    info = ConnectionInfo.read(cf)
    s = Session(info.key)
    ctx = zmq.Context()
    sh = ctx.socket(zmq.DEALER)
    sh.connect(info.url("shell"))
    io = ctx.socket(zmq.SUB)
    io.setsockopt(zmq.SUBSCRIBE, b"")
    io.connect(info.url("iopub"))
    poller = zmq.Poller()
    poller.register(sh, zmq.POLLIN)
    poller.register(io, zmq.POLLIN)

    def rt():
        msg = s.msg(
            "execute_request",
            {
                "code": "pass",
                "silent": False,
                "store_history": True,
                "user_expressions": {},
                "allow_stdin": False,
                "stop_on_error": True,
            },
        )
        mid = msg["header"]["msg_id"]
        sh.send_multipart(s.serialize(msg))
        reply = idle = False
        for _ in range(1000):
            if reply and idle:
                return
            for sock, _ in poller.poll(10000):
                _, m = s.deserialize(sock.recv_multipart())
                if m["parent_header"].get("msg_id") != mid:
                    continue
                if sock is sh:
                    reply = True
                elif m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
                    idle = True

    return rt


def bench(fn, n):
    ts = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return ts


def main(kernel="python3", n=200, rounds=5):
    km = jupyter_client.KernelManager(kernel_name=kernel)
    km.start_kernel()
    try:
        ours = BlockingKernelClient(km.connection_file)
        ours.start_channels()
        ours.wait_for_ready(30)
        jc = km.client()
        jc.start_channels()
        jc.wait_for_ready(30)
        fl = floor_client(km.connection_file)
        for _ in range(50):
            fl()
        a, b, c = [], [], []
        for _ in range(rounds):
            b += bench(lambda: jc.execute_interactive("pass", output_hook=noop, timeout=10), n)
            a += bench(lambda: ours.execute_interactive("pass", output_hook=noop, timeout=10), n)
            c += bench(fl, n)
        ma, mb, mc = (statistics.median(x) * 1e3 for x in (a, b, c))
        print(
            f"{kernel}: jup {ma:.3f} ms, jupyter_client {mb:.3f} ms, ratio {ma / mb:.2f}; "
            f"floor {mc:.3f} ms (floor/jupyter_client {mc / mb:.2f})"
        )
        ours.stop_channels()
        jc.stop_channels()
    finally:
        km.shutdown_kernel(now=True)


if __name__ == "__main__":
    main(*(sys.argv[1:2] or ["python3"]))
