"""A protocol session: one key, one session id, a replay guard, and send/receive on zmq sockets.

The codec (`wire`) and the signer stay pure; this module only composes them with a socket, so the
same `Session` serves blocking sockets, `zmq.asyncio` sockets and the kernel's I/O thread.
"""

from __future__ import annotations

import itertools
import json
import os
import sys
import time
from typing import Any

from jup.core.errors import ProtocolError
from jup.core.protocol.messages import PROTOCOL_VERSION, new_id
from jup.core.protocol.wire import (
    MAX_FRAME_BYTES,
    RAW_HEADER,
    RAW_PARENT,
    ReplayGuard,
    Signer,
    deserialize,
    enable_fast_json,
    frames_of,
    pack,
    serialize,
)

_pid = [os.getpid()]  # kept current across fork without a system call per message
os.register_at_fork(after_in_child=lambda: _pid.__setitem__(0, os.getpid()))
_date_cache: list = [-1, ""]  # [whole second, "YYYY-MM-DDTHH:MM:SS"] of the last header


def _now_iso() -> str:
    """The header date (UTC, microseconds, "Z"): the seconds part is formatted once per second."""
    t = time.time()
    sec = int(t)
    cache = _date_cache
    if cache[0] != sec:
        cache[1] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec))
        cache[0] = sec
    return f"{cache[1]}.{int((t - sec) * 1e6):06d}Z"


def _log_rejection(e: Exception) -> None:
    # logging (and re) are imported only when a bad message arrives: kernels start ~10 ms sooner
    import logging
    logging.getLogger("jup.protocol").warning("dropped a bad message (%s): %s", type(e).__name__, e)


class Session:
    """Signs, sends, receives and verifies messages for one connection."""

    def __init__(self, key: bytes | str = b"", signature_scheme: str = "hmac-sha256",
                 session_id: str | None = None, username: str = "jup",
                 check_replay: bool = True, max_bytes: int = MAX_FRAME_BYTES):
        self.signer = Signer(key, signature_scheme)
        self.session_id = session_id or new_id()
        self.username = username
        self.replay = ReplayGuard() if check_replay else None
        self.max_bytes = max_bytes
        self.rejected = 0  #: how many incoming messages were dropped as bad
        if "orjson" in sys.modules:  # already paid for by someone: use it
            enable_fast_json()
        # message ids: this session's id, the pid (a forked child never repeats its parent's ids) and
        # a counter; unique like a uuid4 but ~10x cheaper, which matters at ~5 messages per execute
        self._counter = itertools.count(1)
        self._id_pid = -1
        self._id_prefix = ""
        self._head_cache: dict[str, str] = {}  # msg_type -> header JSON with %s for id and date

    @property
    def key(self) -> bytes:
        return self.signer.key

    def msg(self, msg_type: str, content: dict | None = None, parent: dict | None = None,
            metadata: dict | None = None, buffers: list | None = None) -> dict:
        """Build a message of this session; a parent received by `deserialize` lends its header's
        original bytes, so replies do not encode it again."""
        if _pid[0] != self._id_pid:
            self._id_pid, self._id_prefix = _pid[0], f"{self.session_id[:16]}_{_pid[0]}_"
        msg_id = f"{self._id_prefix}{next(self._counter)}"
        header = {"msg_id": msg_id, "msg_type": msg_type, "username": self.username,
                  "session": self.session_id, "date": _now_iso(), "version": PROTOCOL_VERSION}
        msg = {"header": header, "msg_id": msg_id, "msg_type": msg_type,
               "parent_header": parent.get("header", {}) if parent else {},
               "metadata": metadata or {}, "content": content if content is not None else {},
               "buffers": buffers or []}
        if parent:
            raw = parent.get(RAW_HEADER)
            if raw is not None:
                msg[RAW_PARENT] = raw
        return msg

    def frames(self, msg_type: str, content: dict, parent: dict | None = None,
               idents: list[bytes] | None = None, metadata: dict | None = None,
               buffers: list | None = None) -> list:
        """The frames of a new message, without building its dict: the kernel's hot path (the header
        is formatted as text, a received parent's header bytes are reused)."""
        if _pid[0] != self._id_pid:
            self._id_pid, self._id_prefix = _pid[0], f"{self.session_id[:16]}_{_pid[0]}_"
        head = self._head_cache.get(msg_type)
        if head is None:
            head = self._head_cache[msg_type] = (
                '{"msg_id":"%s","msg_type":' + json.dumps(msg_type) + ',"username":'
                + json.dumps(self.username) + ',"session":' + json.dumps(self.session_id)
                + ',"date":"%s","version":"' + PROTOCOL_VERSION + '"}')
        header = (head % (f"{self._id_prefix}{next(self._counter)}", _now_iso())).encode()
        if parent:
            raw = parent.get(RAW_HEADER)
            if raw is None:
                raw = pack(parent.get("header") or {})
        else:
            raw = b"{}"
        return frames_of(header, raw, metadata, content, self.signer, idents, buffers)

    def serialize(self, msg: dict, idents: list[bytes] | None = None) -> list[bytes]:
        """Frames for `msg`, signed with this session's key."""
        return serialize(msg, self.signer, idents)

    def deserialize(self, frames: list) -> tuple[list[bytes], dict]:
        """(identities, message) from frames; raises ProtocolError for bad input."""
        return deserialize(frames, self.signer, self.replay, self.max_bytes)

    def feed(self, frames: list) -> tuple[list[bytes], dict] | None:
        """Like deserialize, but a bad message is logged once and counted, and None is returned."""
        try:
            return deserialize(frames, self.signer, self.replay, self.max_bytes)
        except ProtocolError as e:
            self.rejected += 1
            _log_rejection(e)
            return None

    def send(self, socket: Any, msg_or_type: dict | str, content: dict | None = None,
             parent: dict | None = None, idents: list[bytes] | None = None,
             metadata: dict | None = None, buffers: list | None = None) -> dict:
        """Send a message (built here from a type and content, or given whole) on a blocking socket."""
        msg = msg_or_type if isinstance(msg_or_type, dict) else self.msg(
            msg_or_type, content, parent, metadata, buffers)
        frames = serialize(msg, self.signer, idents)
        socket.send_multipart(frames, copy=len(frames) < 8 and not msg.get("buffers"))
        return msg

    def recv(self, socket: Any, flags: int = 0) -> tuple[list[bytes], dict] | None:
        """Receive one message from a blocking socket; None if it was bad (logged and counted)."""
        frames = socket.recv_multipart(flags, copy=False)
        return self.feed(frames)
