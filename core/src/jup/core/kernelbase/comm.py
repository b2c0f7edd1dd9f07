"""Comms: two-way channels between kernel objects and frontend widgets (comm_open/msg/close/info).

Frontends open a comm on a *target* the kernel registered; the kernel can open comms too. Incoming
comm messages are handled on the main thread, in order with executes, so callbacks may touch the
user's objects safely.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

from jup.core.kernelbase.io_thread import kernel_log

Handler = Callable[[dict], Any]


class Comm:
    """One end of a comm. `send` and `close` publish on iopub; `on_msg`/`on_close` register callbacks."""

    def __init__(self, manager: CommManager, target_name: str, comm_id: str | None = None,
                 data: dict | None = None, metadata: dict | None = None, buffers: list | None = None,
                 primary: bool = True):
        self.manager = manager
        self.target_name = target_name
        self.comm_id = comm_id or uuid.uuid4().hex
        self._msg_callbacks: list[Handler] = []
        self._close_callbacks: list[Handler] = []
        self.closed = False
        manager._register(self)
        if primary:  # opened from the kernel side: tell the frontend
            manager._publish("comm_open", {"comm_id": self.comm_id, "target_name": target_name,
                                           "data": data or {}}, metadata, buffers)

    def send(self, data: dict | None = None, metadata: dict | None = None,
             buffers: list | None = None) -> None:
        """Send a comm_msg to the frontend."""
        if self.closed:
            raise RuntimeError(f"comm {self.comm_id} is closed; open a new one to send more.")
        self.manager._publish("comm_msg", {"comm_id": self.comm_id, "data": data or {}}, metadata, buffers)

    def close(self, data: dict | None = None, metadata: dict | None = None, buffers: list | None = None,
              deleting: bool = False) -> None:
        """Close the comm and tell the frontend (unless it closed it)."""
        if self.closed:
            return
        self.closed = True
        if not deleting:
            self.manager._publish("comm_close", {"comm_id": self.comm_id, "data": data or {}},
                                  metadata, buffers)
        self.manager._unregister(self)

    def on_msg(self, callback: Handler) -> None:
        """Call `callback(msg)` for each comm_msg from the frontend."""
        self._msg_callbacks.append(callback)

    def on_close(self, callback: Handler) -> None:
        """Call `callback(msg)` when the frontend closes the comm."""
        self._close_callbacks.append(callback)

    def handle_msg(self, msg: dict) -> None:
        for cb in list(self._msg_callbacks):
            cb(msg)

    def handle_close(self, msg: dict) -> None:
        for cb in list(self._close_callbacks):
            cb(msg)


class CommManager:
    """Targets and open comms of one kernel; `publish(msg_type, content, metadata, buffers)` sends."""

    def __init__(self, publish: Callable[..., None]):
        self._publish_fn = publish
        self.targets: dict[str, Callable[[Comm, dict], Any]] = {}
        self.comms: dict[str, Comm] = {}
        self._lock = threading.Lock()

    def _publish(self, msg_type: str, content: dict, metadata: dict | None, buffers: list | None) -> None:
        self._publish_fn(msg_type, content, metadata=metadata, buffers=buffers)

    def register_target(self, target_name: str, callback: Callable[[Comm, dict], Any]) -> None:
        """When a frontend opens a comm on `target_name`, call `callback(comm, open_msg)`."""
        self.targets[target_name] = callback

    def unregister_target(self, target_name: str) -> None:
        self.targets.pop(target_name, None)

    def open(self, target_name: str, data: dict | None = None, **kw: Any) -> Comm:
        """Open a comm from the kernel side."""
        return Comm(self, target_name, data=data, **kw)

    def _register(self, comm: Comm) -> None:
        with self._lock:
            self.comms[comm.comm_id] = comm

    def _unregister(self, comm: Comm) -> None:
        with self._lock:
            self.comms.pop(comm.comm_id, None)

    def info(self, target_name: str | None = None) -> dict:
        """{comm_id: {"target_name": ...}} for comm_info_reply, optionally for one target."""
        with self._lock:
            return {cid: {"target_name": c.target_name} for cid, c in self.comms.items()
                    if not target_name or c.target_name == target_name}

    # ---- messages from the frontend (main thread) ---------------------------------------------

    def comm_open(self, msg: dict) -> None:
        content = msg["content"]
        comm_id, target = content.get("comm_id"), content.get("target_name", "")
        callback = self.targets.get(target)
        if not comm_id:
            kernel_log().warning("comm_open without a comm_id ignored")
            return
        if callback is None:
            kernel_log().warning("no comm target %r is registered; closing comm %s", target, comm_id)
            self._publish("comm_close", {"comm_id": comm_id, "data": {}}, None, None)
            return
        comm = Comm(self, target, comm_id=comm_id, primary=False)
        try:
            callback(comm, msg)
        except Exception:
            kernel_log().exception("comm target %r failed while opening comm %s", target, comm_id)
            comm.close()

    def comm_msg(self, msg: dict) -> None:
        comm = self.comms.get(msg["content"].get("comm_id", ""))
        if comm is None:
            kernel_log().warning("comm_msg for an unknown comm %r ignored", msg["content"].get("comm_id"))
            return
        try:
            comm.handle_msg(msg)
        except Exception:
            kernel_log().exception("comm %s failed to handle a message", comm.comm_id)

    def comm_close(self, msg: dict) -> None:
        comm = self.comms.get(msg["content"].get("comm_id", ""))
        if comm is None:
            return
        comm.closed = True
        self._unregister(comm)
        try:
            comm.handle_close(msg)
        except Exception:
            kernel_log().exception("comm %s failed while closing", comm.comm_id)
