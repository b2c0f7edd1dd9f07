"""A minimal signed kernel: answers kernel_info and execute at once (reply + busy/idle), nothing else.

It measures clients, not kernels: against it a round trip is almost all client and wire, which is
what `bench_protocol` compares. Independent of jup and of jupyter_client on purpose (zmq, json, hmac).
Run: python benchmarks/_minikernel.py CONNECTION_FILE
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sys
import uuid
from datetime import UTC, datetime

import zmq

DELIM = b"<IDS|MSG>"


def main(path: str) -> None:
    with open(path) as f:
        cfg = json.load(f)
    key = cfg["key"].encode()
    ctx = zmq.Context()
    url = f"{cfg['transport']}://{cfg['ip']}:"
    shell = ctx.socket(zmq.ROUTER)
    shell.bind(url + str(cfg["shell_port"]))
    control = ctx.socket(zmq.ROUTER)
    control.bind(url + str(cfg["control_port"]))
    iopub = ctx.socket(zmq.PUB)
    iopub.bind(url + str(cfg["iopub_port"]))
    session = uuid.uuid4().hex
    count = 0

    def sign(parts: list[bytes]) -> bytes:
        h = hmac.new(key, digestmod=hashlib.sha256)
        for p in parts:
            h.update(p)
        return h.hexdigest().encode()

    def send(sock, idents, msg_type: str, content: dict, parent: bytes) -> None:
        header = {"msg_id": uuid.uuid4().hex, "msg_type": msg_type, "username": "mini", "session": session,
                  "date": datetime.now(UTC).isoformat(), "version": "5.4"}
        parts = [json.dumps(header).encode(), parent, b"{}", json.dumps(content).encode()]
        sock.send_multipart([*idents, DELIM, sign(parts), *parts])

    poller = zmq.Poller()
    poller.register(shell, zmq.POLLIN)
    poller.register(control, zmq.POLLIN)
    while True:
        for sock, _ in poller.poll():
            frames = sock.recv_multipart()
            i = frames.index(DELIM)
            idents, sig, parts = frames[:i], frames[i + 1], frames[i + 2:i + 6]
            if not hmac.compare_digest(sig, sign(parts)):
                continue
            header = json.loads(parts[0])
            t = header["msg_type"]
            parent = parts[0]
            send(iopub, [b"status"], "status", {"execution_state": "busy"}, parent)
            if t == "kernel_info_request":
                send(sock, idents, "kernel_info_reply", {
                    "status": "ok", "protocol_version": "5.4", "implementation": "mini",
                    "implementation_version": "0", "banner": "", "help_links": [],
                    "language_info": {"name": "python", "version": "3", "mimetype": "text/x-python",
                                      "file_extension": ".py"}}, parent)
            elif t == "execute_request":
                count += 1
                send(sock, idents, "execute_reply", {"status": "ok", "execution_count": count,
                                                     "user_expressions": {}, "payload": []}, parent)
            elif t == "shutdown_request":
                send(sock, idents, "shutdown_reply", {"status": "ok", "restart": False}, parent)
                send(iopub, [b"status"], "status", {"execution_state": "idle"}, parent)
                return
            send(iopub, [b"status"], "status", {"execution_state": "idle"}, parent)


if __name__ == "__main__":
    main(sys.argv[1])
