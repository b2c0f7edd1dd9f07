"""Pure codec between message dicts and ZeroMQ frames; signing lives in `Signer`.

Frames: [identities..., b"<IDS|MSG>", signature, header, parent_header, metadata, content, buffers...].
Nothing here touches a socket, so the hot path is a few dict lookups, json and one HMAC.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from jup.core.errors import MalformedMessage, ReplayError, SignatureError

_modules = sys.modules

DELIM = b"<IDS|MSG>"
MAX_FRAME_BYTES = 1 << 30  # a JSON part larger than this is refused as malformed

#: signature_scheme -> hashlib algorithm name
_SCHEMES = {"hmac-sha256": "sha256", "hmac-sha512": "sha512", "hmac-sha1": "sha1", "hmac-md5": "md5",
            "hmac-sha384": "sha384", "hmac-sha224": "sha224"}

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str).encode
_loads = json.loads

#: Keys of private entries in message dicts: the received header's bytes (set by `deserialize`) and a
#: reply's copy of its parent's (set by `Session.msg`), so a reply reuses them instead of re-encoding.
RAW_HEADER = "_jup_raw_header"
RAW_PARENT = "_jup_raw_parent"

BIG_TEXT = 1 << 16  # content holding a string longer than this is encoded with orjson, when installed
_orjson: Any = None  # the orjson module once enabled; False when it is not installed


def enable_fast_json() -> bool:
    """Encode and decode every part with orjson (~10x faster than json) from now on; True if it
    is installed. Clients call it at once; a kernel calls it after start-up, since importing orjson
    pulls in datetime, uuid, dataclasses and inspect (~20 ms) that a cold kernel does without.
    A `Session` made when orjson is already imported enables it for free."""
    global _orjson, _pack_fast, _loads
    if _orjson is None:
        try:
            import orjson
        except ImportError:
            _orjson = False
            return False
        _orjson = orjson
        opts = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY
        odumps, oloads = orjson.dumps, orjson.loads

        def pack_fast(obj: Any) -> bytes:
            try:
                return odumps(obj, default=str, option=opts)
            except (TypeError, ValueError):  # e.g. an int beyond 64 bits: json encodes what orjson cannot
                return _dumps(obj).encode()

        def loads_fast(data: bytes) -> Any:
            try:
                return oloads(data)
            except ValueError:  # NaN/Infinity and other liberties some kernels take: json accepts them
                return json.loads(data)
        _pack_fast, _loads = pack_fast, loads_fast
    return bool(_orjson)


def _pack_std(obj: Any) -> bytes:
    return _dumps(obj).encode()


_pack_fast = _pack_std  # replaced by enable_fast_json()


def _has_big_text(obj: Any, depth: int = 3) -> bool:
    """Whether a dict holds a long string within `depth` levels (display data, stream text)."""
    for v in obj.values():
        if v.__class__ is str:
            if len(v) > BIG_TEXT:
                return True
        elif v.__class__ is dict and depth > 1 and v and _has_big_text(v, depth - 1):
            return True
    return False


def _pack_big(obj: Any) -> bytes:
    """Encode a large part: megabytes of text are worth importing orjson for, even in a cold kernel."""
    if _orjson is None:
        enable_fast_json()
    return _pack_fast(obj)


def _builtin_sha256() -> Any:
    """CPython's own SHA-256 (no OpenSSL), or None where it is missing."""
    for name in ("_sha2", "_sha256"):  # 3.12+, 3.11
        try:
            return __import__(name).sha256
        except (ImportError, AttributeError):
            continue
    return None


try:  # the constant-time comparison hmac.compare_digest re-exports, without importing hmac
    from _operator import _compare_digest as _same
except ImportError:  # pragma: no cover - other Pythons
    from hmac import compare_digest as _same

#: Messages with more bytes than this are signed through OpenSSL (faster on big data, loaded then).
OPENSSL_FROM = 1 << 16


class Signer:
    """HMAC signer for message frames; an empty key disables signing, as in Jupyter.

    hmac-sha256 (what every Jupyter tool uses) is computed with CPython's built-in SHA-256 for
    ordinary messages while OpenSSL is not loaded in the process: importing hashlib/hmac maps
    libcrypto, ~3.6 MiB of every idle kernel's RSS (issue 13). Once it is loaded (clients load it
    at once), OpenSSL's ~2x faster HMAC is used. Parts larger than `OPENSSL_FROM` in
    all, and the other schemes, go through `hmac` with OpenSSL, imported on first need.
    """

    __slots__ = ("key", "scheme", "_inner", "_outer", "_ossl")

    def __init__(self, key: bytes | str = b"", scheme: str = "hmac-sha256"):
        if isinstance(key, str):
            key = key.encode()
        if scheme not in _SCHEMES:
            raise ValueError(f"Unknown signature_scheme {scheme!r}; use one of {', '.join(sorted(_SCHEMES))}.")
        self.key = key
        self.scheme = scheme
        self._inner = self._outer = self._ossl = None
        sha256 = _builtin_sha256() if key and scheme == "hmac-sha256" else None
        if sha256 is not None:  # HMAC (RFC 2104) over a 64-byte block, pads hashed once here
            block = (sha256(key).digest() if len(key) > 64 else key).ljust(64, b"\0")
            self._inner = sha256(bytes(b ^ 0x36 for b in block))
            self._outer = sha256(bytes(b ^ 0x5C for b in block))

    def _openssl(self) -> Any:
        if self._ossl is None:
            import hmac

            self._ossl = hmac.new(self.key, digestmod=_SCHEMES[self.scheme])
        return self._ossl

    def sign(self, parts: list[bytes]) -> bytes:
        """Hex digest over the four JSON parts (b"" when unsigned)."""
        if not self.key:
            return b""
        inner = self._inner
        # once OpenSSL is loaded anyway (every client process loads it) it is ~2x faster than the
        # built-in SHA-256 on 1 KB; a kernel that never loaded it keeps its memory
        if inner is not None and "_hashlib" not in _modules and sum(map(len, parts)) <= OPENSSL_FROM:
            h = inner.copy()
            for p in parts:
                h.update(p)
            outer = self._outer.copy()
            outer.update(h.digest())
            return outer.hexdigest().encode()
        h = self._openssl().copy()
        for p in parts:
            h.update(p)
        return h.hexdigest().encode()

    def verify(self, signature: bytes, parts: list[bytes]) -> None:
        """Raise SignatureError unless `signature` matches, in constant time."""
        if not self.key:
            return
        if not signature:
            raise SignatureError("message has no signature but this session requires one")
        if not _same(signature, self.sign(parts)):
            raise SignatureError("message signature does not match the session key")


def pack(obj: Any) -> bytes:
    """JSON-encode one message part as UTF-8 bytes."""
    if not obj and obj.__class__ is dict:
        return b"{}"
    return _pack_fast(obj)


def pack_content(obj: Any) -> bytes:
    """Like `pack`, with the fast path for large display data and stream text."""
    if not obj and obj.__class__ is dict:
        return b"{}"
    if _orjson is None and obj.__class__ is dict and _has_big_text(obj):
        return _pack_big(obj)
    return _pack_fast(obj)


def frames_of(header: bytes, parent: bytes, metadata: Any, content: Any, signer: Signer,
              idents: list[bytes] | None = None, buffers: list | None = None) -> list:
    """The frames of a message whose header and parent header are already encoded."""
    parts = [header, parent, pack(metadata or {}), pack_content(content or {})]
    frames = list(idents) if idents else []
    frames.append(DELIM)
    frames.append(signer.sign(parts))
    frames.extend(parts)
    if buffers:
        frames.extend(buffers)
    return frames


def serialize(msg: dict, signer: Signer, idents: list[bytes] | None = None) -> list[bytes]:
    """Turn a message dict into the frames to send."""
    parent = msg.get(RAW_PARENT)
    if parent is None:
        parent = pack(msg.get("parent_header") or {})
    parts = [pack(msg["header"]), parent, pack(msg.get("metadata") or {}),
             pack_content(msg.get("content") or {})]
    frames = list(idents) if idents else []
    frames.append(DELIM)
    frames.append(signer.sign(parts))
    frames.extend(parts)
    buffers = msg.get("buffers")
    if buffers:
        frames.extend(buffers)
    return frames


def _as_bytes(f: Any) -> bytes:
    """bytes of a frame given as bytes, zmq.Frame or a buffer."""
    if f.__class__ is bytes:
        return f
    b = getattr(f, "bytes", None)
    return b if b is not None else bytes(f)


def split_idents(frames: list) -> tuple[list, list]:
    """Split routing identities from the message frames at the delimiter."""
    for i, f in enumerate(frames):
        if (f if f.__class__ is bytes else _as_bytes(f)) == DELIM:
            return [_as_bytes(x) for x in frames[:i]], frames[i + 1:]
    raise MalformedMessage("no <IDS|MSG> delimiter among the frames")


class ReplayGuard:
    """Remembers recent signatures so a replayed message is refused; bounded in memory."""

    __slots__ = ("_seen", "_order", "_limit")

    def __init__(self, limit: int = 1 << 16):
        from collections import deque
        self._seen: set[bytes] = set()
        self._order: deque = deque()
        self._limit = limit

    def check(self, sig: bytes) -> None:
        """Raise ReplayError if `sig` was seen; else remember it."""
        if sig in self._seen:
            raise ReplayError("this signature was already received (replayed message)")
        self._seen.add(sig)
        self._order.append(sig)
        if len(self._order) > self._limit:
            self._seen.discard(self._order.popleft())


def deserialize(frames: list, signer: Signer, replay: ReplayGuard | None = None,
                max_bytes: int = MAX_FRAME_BYTES) -> tuple[list[bytes], dict]:
    """Frames (bytes or zmq.Frame) to (identities, message); raises a ProtocolError subclass."""
    idents, rest = split_idents(frames)
    if len(rest) < 5:
        raise MalformedMessage(f"expected at least 5 frames after the delimiter, got {len(rest)}")
    raw = [_as_bytes(f) for f in rest[:5]]
    sig, parts = raw[0], raw[1:5]
    for p in parts:
        if len(p) > max_bytes:
            raise MalformedMessage(f"a message part of {len(p)} bytes exceeds the {max_bytes}-byte limit")
    signer.verify(sig, parts)
    if replay is not None and sig:
        replay.check(sig)
    try:
        header = _loads(parts[0])
        msg = {"header": header, "parent_header": _loads(parts[1]), "metadata": _loads(parts[2]),
               "content": _loads(parts[3])}
    except (ValueError, UnicodeDecodeError) as e:
        raise MalformedMessage(f"a message part is not valid JSON: {e}") from None
    if not isinstance(header, dict) or "msg_type" not in header:
        raise MalformedMessage("the header is not an object with a msg_type")
    msg["msg_id"] = header.get("msg_id")
    msg[RAW_HEADER] = parts[0]
    msg["msg_type"] = header["msg_type"]
    msg["buffers"] = [memoryview(f.buffer if hasattr(f, "buffer") else f) for f in rest[5:]]
    return idents, msg
