"""A protocol session: one key, one session id, a replay guard, and send/receive on zmq sockets.

The codec (`wire`) and the signer stay pure; this module only composes them with a socket, so the
same `Session` serves blocking sockets, `zmq.asyncio` sockets and the kernel's I/O thread.
"""

from __future__ import annotations

from typing import Any

from jup.core.errors import ProtocolError
from jup.core.protocol.messages import make_message, new_id
from jup.core.protocol.wire import MAX_FRAME_BYTES, ReplayGuard, Signer, deserialize, serialize


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

    @property
    def key(self) -> bytes:
        return self.signer.key

    def msg(self, msg_type: str, content: dict | None = None, parent: dict | None = None,
            metadata: dict | None = None, buffers: list | None = None) -> dict:
        """Build a message of this session."""
        return make_message(msg_type, content, parent, self.session_id, metadata, buffers, self.username)

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
