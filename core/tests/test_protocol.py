"""The wire codec as a kernel or client meets it: signing, replays, bad frames, connection files, spec-valid
messages, and a real ROUTER socket that survives every kind of garbage a peer can send it."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import stat
import time
from datetime import datetime

import jupyter_client.session as jc_session
import pytest
import zmq
from jupyter_kernel_test.msgspec_v5 import validate_message

from jup.core.errors import ConfigError, MalformedMessage, ProtocolError, ReplayError, SignatureError
from jup.core.protocol import DELIM, Session, Signer, deserialize, serialize, wire
from jup.core.protocol import messages as m
from jup.core.protocol.connection import ConnectionInfo, find_connection_file
from jup.core.protocol.wire import ReplayGuard

KEY = b"a-test-key-that-is-not-secret"
SCHEMES = ["hmac-sha256", "hmac-sha512", "hmac-sha384", "hmac-sha224", "hmac-sha1", "hmac-md5"]


def _frames(session: Session, msg_type: str = "execute_request", content: dict | None = None,
            **kw) -> list[bytes]:
    content = content if content is not None else m.execute_request("1+1")
    return session.serialize(session.msg(msg_type, content, **kw))


def _signed(signer: Signer, parts: list[bytes]) -> list[bytes]:
    """Frames with a valid signature over arbitrary (possibly broken) JSON parts."""
    return [DELIM, signer.sign(parts), *parts]


# ---- signing --------------------------------------------------------------------------------------

@pytest.mark.parametrize("scheme", SCHEMES)
def test_every_hmac_scheme_signs_like_jupyter_and_interoperates(scheme):
    ours = Session(KEY, scheme)
    theirs = jc_session.Session(key=KEY, signature_scheme=scheme)
    frames = _frames(ours)
    digest = getattr(hashlib, scheme.split("-")[1])
    assert frames[1] == hmac.new(KEY, b"".join(frames[2:6]), digest).hexdigest().encode()
    # jupyter_client accepts what we send ...
    _, rest = theirs.feed_identities(frames)
    got = theirs.deserialize(rest)
    assert got["content"]["code"] == "1+1"
    # ... and we accept what it sends.
    msg = theirs.msg("kernel_info_request", {})
    _, back = ours.deserialize(theirs.serialize(msg))
    assert back["msg_type"] == "kernel_info_request"
    assert back["header"]["msg_id"] == msg["header"]["msg_id"]


def test_unknown_scheme_is_refused_with_the_allowed_ones_named():
    with pytest.raises(ValueError, match="hmac-sha256"):
        Session(KEY, "hmac-whirlpool")


def test_signature_is_compared_in_constant_time(monkeypatch):
    calls = []
    real = wire._same  # hmac.compare_digest's constant-time C function, without importing hmac

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(wire, "_same", spy)
    s = Session(KEY)
    s.deserialize(_frames(s))
    assert len(calls) == 1
    bad = _frames(s)
    bad[1] = b"0" * len(bad[1])
    with pytest.raises(SignatureError):
        s.deserialize(bad)
    assert len(calls) == 2, "the wrong signature must also go through hmac.compare_digest"


def test_bad_signature_is_refused():
    s = Session(KEY)
    frames = _frames(s)
    frames[1] = frames[1][:-1] + (b"0" if frames[1][-1:] != b"0" else b"1")
    with pytest.raises(SignatureError, match="does not match"):
        s.deserialize(frames)


def test_message_from_another_key_is_refused():
    frames = _frames(Session(b"someone-else"))
    with pytest.raises(SignatureError):
        Session(KEY).deserialize(frames)


def test_missing_signature_is_refused_when_a_key_is_set():
    s = Session(KEY)
    frames = _frames(Session(b""))  # an unsigned sender
    assert frames[1] == b""
    with pytest.raises(SignatureError, match="no signature"):
        s.deserialize(frames)


def test_tampered_content_is_refused():
    s = Session(KEY)
    frames = _frames(s)
    frames[5] = frames[5].replace(b"1+1", b"2+2")
    with pytest.raises(SignatureError):
        s.deserialize(frames)


def test_unsigned_sessions_talk_to_each_other():
    a, b = Session(b""), Session(b"")
    _, msg = b.deserialize(_frames(a))
    assert msg["content"]["code"] == "1+1"


# ---- replays --------------------------------------------------------------------------------------

def test_replayed_signature_is_refused():
    sender, receiver = Session(KEY), Session(KEY)
    frames = _frames(sender)
    receiver.deserialize(list(frames))
    with pytest.raises(ReplayError, match="replayed"):
        receiver.deserialize(list(frames))


def test_replay_check_can_be_turned_off():
    sender, receiver = Session(KEY), Session(KEY, check_replay=False)
    frames = _frames(sender)
    receiver.deserialize(list(frames))
    receiver.deserialize(list(frames))


def test_replay_memory_is_bounded_and_forgets_the_oldest_first():
    guard = ReplayGuard(limit=100)
    sigs = [f"{i:064x}".encode() for i in range(1000)]
    for sig in sigs:
        guard.check(sig)
    with pytest.raises(ReplayError):
        guard.check(sigs[-1])  # recent: still remembered
    with pytest.raises(ReplayError):
        guard.check(sigs[-100])
    guard.check(sigs[0])  # long gone: memory did not grow to 1000 entries


# ---- binary buffers -------------------------------------------------------------------------------

def test_binary_buffers_round_trip_and_interoperate():
    import numpy as np

    arr = np.arange(1000, dtype="float64")
    s = Session(KEY)
    msg = s.msg("comm_msg", m.comm_msg("c1", {"shape": [1000]}),
                buffers=[b"\x00\xffraw", memoryview(b"view"), arr])
    frames = s.serialize(msg)
    assert len(frames) == 1 + 5 + 3
    _, got = Session(KEY).deserialize(frames)
    assert bytes(got["buffers"][0]) == b"\x00\xffraw"
    assert bytes(got["buffers"][1]) == b"view"
    assert np.array_equal(np.frombuffer(got["buffers"][2], dtype="float64"), arr)
    # jupyter_client sees the same buffers
    theirs = jc_session.Session(key=KEY)
    _, rest = theirs.feed_identities(frames)
    assert bytes(theirs.deserialize(rest)["buffers"][0]) == b"\x00\xffraw"


def test_routing_identities_are_kept_apart_from_the_message():
    s = Session(KEY)
    frames = s.serialize(s.msg("status", m.status("idle")), idents=[b"client-1", b"client-2"])
    idents, msg = Session(KEY).deserialize(frames)
    assert idents == [b"client-1", b"client-2"]
    assert msg["content"] == {"execution_state": "idle"}


# ---- malformed frames -----------------------------------------------------------------------------

def test_missing_delimiter_is_malformed():
    s = Session(KEY)
    frames = _frames(s)
    frames[0] = b"<IDS|MSX>"
    with pytest.raises(MalformedMessage, match="delimiter"):
        s.deserialize(frames)


@pytest.mark.parametrize("keep", [1, 2, 4, 5])
def test_truncated_frames_are_malformed(keep):
    s = Session(KEY)
    frames = _frames(s)[:keep]
    with pytest.raises(MalformedMessage, match="frames"):
        s.deserialize(frames)


@pytest.mark.parametrize("bad", [b"{not json", b"\xff\xfe\x00", b""])
def test_non_json_part_is_malformed_even_when_signed(bad):
    good = _frames(Session(KEY))[2:6]
    for i in range(4):
        s = Session(KEY)  # fresh replay memory: the HMAC covers the concatenation only
        parts = list(good)
        parts[i] = bad
        with pytest.raises(MalformedMessage, match="JSON"):
            s.deserialize(_signed(s.signer, parts))


@pytest.mark.parametrize("header", [b"[1, 2]", b'{"msg_id": "x"}', b'"a string"'])
def test_header_without_msg_type_is_malformed(header):
    s = Session(KEY)
    parts = [header, b"{}", b"{}", b"{}"]
    with pytest.raises(MalformedMessage, match="msg_type"):
        s.deserialize(_signed(s.signer, parts))


def test_oversized_part_is_refused_before_parsing():
    s = Session(KEY, max_bytes=10_000)
    big = _frames(s, content=m.execute_request("x = '" + "a" * 20_000 + "'"))
    with pytest.raises(MalformedMessage, match="exceeds the 10000-byte limit"):
        s.deserialize(big)
    # a buffer may be large: the limit is on the JSON parts
    ok = s.serialize(s.msg("comm_msg", m.comm_msg("c"), buffers=[b"x" * 50_000]))
    assert len(s.deserialize(ok)[1]["buffers"][0]) == 50_000


def test_every_rejection_is_a_protocol_error_with_a_sentence():
    s = Session(KEY)
    bad = [[DELIM], [b"junk"], _signed(s.signer, [b"{", b"{}", b"{}", b"{}"])]
    for frames in bad:
        with pytest.raises(ProtocolError) as e:
            s.deserialize(frames)
        assert len(str(e.value)) > 20


def test_feed_counts_and_logs_one_line_per_rejection(caplog):
    sender, s = Session(KEY), Session(KEY, max_bytes=5000)
    good = _frames(sender)
    wrong_sig = _frames(sender)
    wrong_sig[1] = b"f" * 64
    bad = [
        wrong_sig,
        _frames(Session(b"")),  # missing signature
        [b"<nope>", *good[1:]],  # wrong delimiter
        _frames(sender)[:3],  # truncated
        _signed(s.signer, [b"{]", b"{}", b"{}", b"{}"]),  # non-JSON
        _frames(sender, content=m.execute_request("a" * 6000)),  # oversized
    ]
    with caplog.at_level(logging.WARNING, logger="jup.protocol"):
        assert s.feed(list(good)) is not None
        for frames in bad:
            assert s.feed(frames) is None
        assert s.feed(list(good)) is None  # the replay
    assert s.rejected == len(bad) + 1
    records = [r for r in caplog.records if r.name == "jup.protocol"]
    assert len(records) == len(bad) + 1
    assert all("\n" not in r.getMessage() for r in records)
    kinds = [r.getMessage() for r in records]
    assert "SignatureError" in kinds[0] and "MalformedMessage" in kinds[2] and "ReplayError" in kinds[-1]


# ---- connection files -----------------------------------------------------------------------------

@pytest.fixture
def runtime(tmp_path, monkeypatch):
    rd = tmp_path / "runtime"
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(rd))
    return rd


def test_connection_file_is_private_and_reads_back(runtime):
    old = os.umask(0)  # even a permissive umask must not expose the key
    try:
        info = ConnectionInfo.allocate(kernel_name="echo")
        path = info.write(runtime / "kernel-abc.json")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    back = ConnectionInfo.read(path)
    assert back == info
    ports = [getattr(info, f"{c}_port") for c in ("shell", "iopub", "stdin", "control", "hb")]
    assert len(set(ports)) == 5 and all(p > 0 for p in ports)
    assert back.url("shell") == f"tcp://127.0.0.1:{info.shell_port}"
    # Jupyter's own reader understands it, key and all
    data = json.loads(path.read_text())
    for field in ("ip", "transport", "shell_port", "iopub_port", "stdin_port", "control_port",
                  "hb_port", "key", "signature_scheme", "kernel_name"):
        assert field in data
    from jupyter_client.connect import find_connection_file as jc_find
    assert jc_find("kernel-abc.json", path=[str(runtime)]) == str(path)


def test_rewriting_an_open_file_keeps_it_private(runtime):
    path = runtime / "kernel-x.json"
    runtime.mkdir()
    path.write_text("{}")
    os.chmod(path, 0o644)
    ConnectionInfo.allocate().write(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_ipc_connection_info_has_distinct_endpoints(runtime):
    info = ConnectionInfo.allocate(transport="ipc")
    urls = {info.url(c) for c in ("shell", "iopub", "stdin", "control", "hb")}
    assert len(urls) == 5 and all(u.startswith("ipc://") for u in urls)
    assert str(runtime) in info.ip


def test_connection_file_written_by_jupyter_client_is_read(runtime, tmp_path):
    from jupyter_client.connect import write_connection_file
    fname, cfg = write_connection_file(str(tmp_path / "jc.json"), key=b"k3y", kernel_name="python3")
    info = ConnectionInfo.read(fname)
    assert info.key == "k3y" and info.shell_port == cfg["shell_port"]
    assert info.kernel_name == "python3"


def test_find_connection_file_by_path_name_id_and_newest(runtime):
    runtime.mkdir()
    old = ConnectionInfo.allocate().write(runtime / "kernel-old.json")
    new = ConnectionInfo.allocate().write(runtime / "kernel-new.json")
    now = time.time()
    os.utime(old, (now - 100, now - 100))
    os.utime(new, (now, now))
    assert find_connection_file() == new  # --existing with no name: the newest
    assert find_connection_file("kernel-old.json") == old  # a name in the runtime dir
    assert find_connection_file("old") == old  # a kernel id
    assert find_connection_file(str(old)) == old  # a path


def test_find_connection_file_says_what_to_do_when_nothing_is_there(runtime):
    runtime.mkdir()
    with pytest.raises(ConfigError, match="jup kernel"):
        find_connection_file()
    with pytest.raises(ConfigError, match="nosuch"):
        find_connection_file("nosuch")


def test_unreadable_connection_files_name_the_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        ConnectionInfo.read(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{oops")
    with pytest.raises(ConfigError, match="bad.json"):
        ConnectionInfo.read(bad)
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"shell_port": 1, "key": "k", "unknown_future_field": 1}))
    assert ConnectionInfo.read(wrong).shell_port == 1  # unknown keys ignored


# ---- message constructors -------------------------------------------------------------------------

# Required content fields per message type, from the messaging spec (5.4) tables.
REQUIRED = {
    "execute_request": (m.execute_request("1"), {"code", "silent", "store_history", "user_expressions",
                                                 "allow_stdin", "stop_on_error"}),
    "execute_reply": (m.execute_reply("ok", 3), {"status", "execution_count", "user_expressions",
                                                 "payload"}),
    "inspect_request": (m.inspect_request("abs"), {"code", "cursor_pos", "detail_level"}),
    "inspect_reply": (m.inspect_reply(True, {"text/plain": "doc"}), {"status", "found", "data",
                                                                     "metadata"}),
    "complete_request": (m.complete_request("ab"), {"code", "cursor_pos"}),
    "complete_reply": (m.complete_reply(["abs"], 0, 2), {"status", "matches", "cursor_start",
                                                         "cursor_end", "metadata"}),
    "history_request": (m.history_request("tail", n=5), {"output", "raw", "hist_access_type", "n"}),
    "history_reply": (m.history_reply([(1, 1, "x")]), {"status", "history"}),
    "is_complete_request": (m.is_complete_request("for i in x:"), {"code"}),
    "is_complete_reply": (m.is_complete_reply("incomplete", "    "), {"status", "indent"}),
    "kernel_info_request": (m.kernel_info_request(), set()),
    "kernel_info_reply": (m.kernel_info_reply("jup", "0.1", {
        "name": "python", "version": "3.11", "mimetype": "text/x-python", "file_extension": ".py"}),
        {"status", "protocol_version", "implementation", "implementation_version", "language_info",
         "banner", "help_links"}),
    "comm_info_request": (m.comm_info_request("t"), set()),
    "comm_info_reply": (m.comm_info_reply({"c1": {"target_name": "t"}}), {"status", "comms"}),
    "comm_open": (m.comm_open("c1", "t"), {"comm_id", "target_name", "data"}),
    "comm_msg": (m.comm_msg("c1", {"x": 1}), {"comm_id", "data"}),
    "comm_close": (m.comm_close("c1"), {"comm_id", "data"}),
    "shutdown_request": (m.shutdown_request(True), {"restart"}),
    "shutdown_reply": (m.shutdown_reply(True), {"status", "restart"}),
    "interrupt_request": (m.interrupt_request(), set()),
    "interrupt_reply": (m.interrupt_reply(), {"status"}),
    "debug_request": (m.debug_request("initialize"), {"type", "seq", "command", "arguments"}),
    "debug_reply": (m.debug_reply({"type": "response", "seq": 1, "success": True}), {"type", "seq"}),
    "stream": (m.stream("stdout", "hi\n"), {"name", "text"}),
    "display_data": (m.display_data({"text/plain": "x"}), {"data", "metadata", "transient"}),
    "update_display_data": (m.update_display_data({"text/plain": "y"}, "d1"),
                            {"data", "metadata", "transient"}),
    "execute_input": (m.execute_input("1+1", 1), {"code", "execution_count"}),
    "execute_result": (m.execute_result(1, {"text/plain": "2"}), {"execution_count", "data", "metadata"}),
    "error": (m.error("ValueError", "bad", ["tb"]), {"ename", "evalue", "traceback"}),
    "status": (m.status("busy"), {"execution_state"}),
    "clear_output": (m.clear_output(True), {"wait"}),
    "debug_event": (m.debug_event("stopped"), {"type", "seq", "event", "body"}),
    "input_request": (m.input_request("name? ", False), {"prompt", "password"}),
    "input_reply": (m.input_reply("jup"), {"value"}),
}


def test_every_spec_message_type_has_a_constructor_and_a_channel():
    assert set(REQUIRED) <= set(m.CHANNEL_OF)
    assert m.CHANNEL_OF["execute_request"] == "shell" and m.CHANNEL_OF["interrupt_request"] == "control"
    assert m.CHANNEL_OF["stream"] == "iopub" and m.CHANNEL_OF["input_reply"] == "stdin"


@pytest.mark.parametrize("msg_type", sorted(REQUIRED))
def test_constructors_give_spec_valid_content(msg_type):
    content, required = REQUIRED[msg_type]
    missing = required - set(content)
    assert not missing, f"{msg_type} lacks {missing}"
    s = Session(KEY)
    parent = s.msg("execute_request", m.execute_request("1"))
    msg = s.msg(msg_type, content, parent=parent if msg_type.endswith("_reply") else None)
    _, wire_msg = Session(KEY).deserialize(s.serialize(msg))
    if msg_type in jc_schema_types() - PEER_SCHEMA_WRONG:
        validate_message(wire_msg, msg_type, parent["header"]["msg_id"])


# jupyter_kernel_test's schema says `password` is a number; the spec (and every kernel) sends a boolean.
PEER_SCHEMA_WRONG = {"input_request"}


def jc_schema_types() -> set[str]:
    from jupyter_kernel_test.msgspec_v5 import schema_fragments
    return set(schema_fragments)


def test_error_replies_carry_the_error_fields():
    c = m.execute_reply("error", 4, ename="ZeroDivisionError", evalue="division by zero", traceback=["tb"])
    s = Session(KEY)
    validate_message(s.msg("execute_reply", c), "execute_reply")
    assert "payload" not in c


def test_header_is_complete_and_dated():
    s = Session(KEY, username="ada")
    msg = s.msg("status", m.status("idle"))
    h = msg["header"]
    assert set(h) >= {"msg_id", "msg_type", "username", "session", "date", "version"}
    assert h["version"] == "5.4" and h["username"] == "ada" and h["session"] == s.session_id
    assert datetime.fromisoformat(h["date"].replace("Z", "+00:00")).tzinfo is not None
    assert s.msg("status", m.status("idle"))["header"]["msg_id"] != h["msg_id"]


def test_reply_points_at_its_request():
    s = Session(KEY)
    req = s.msg("kernel_info_request")
    rep = s.msg("kernel_info_reply", {}, parent=req)
    assert rep["parent_header"]["msg_id"] == req["header"]["msg_id"]
    assert s.msg("status", m.status("idle"))["parent_header"] == {}


def test_history_request_shapes_follow_the_access_type():
    assert {"session", "start", "stop"} <= set(m.history_request("range", start=1, stop=3))
    assert {"pattern", "unique", "n"} <= set(m.history_request("search", pattern="a*"))


def test_is_complete_reply_has_indent_only_when_incomplete():
    assert "indent" not in m.is_complete_reply("complete")


def test_non_json_values_do_not_break_serialization():
    s = Session(KEY)
    when = datetime(2024, 1, 2, 3, 4, 5)
    _, got = Session(KEY).deserialize(s.serialize(s.msg("comm_msg", m.comm_msg("c", {"when": when}))))
    assert got["content"]["data"]["when"].startswith("2024-01-02")


def test_serialize_and_deserialize_are_pure_functions_of_the_signer():
    signer = Signer(KEY)
    msg = m.make_message("status", m.status("idle"), session="s1")
    frames = serialize(msg, signer, [b"id"])
    idents, back = deserialize(frames, signer)
    assert idents == [b"id"] and back["content"] == msg["content"] and back["header"] == msg["header"]


# ---- a real ROUTER socket under attack ------------------------------------------------------------

def test_router_drops_every_kind_of_bad_frames_and_stays_up(caplog):
    ctx = zmq.Context.instance()
    router = ctx.socket(zmq.ROUTER)
    dealer = ctx.socket(zmq.DEALER)
    router.linger = dealer.linger = 0
    try:
        port = router.bind_to_random_port("tcp://127.0.0.1")
        dealer.connect(f"tcp://127.0.0.1:{port}")
        client, server = Session(KEY), Session(KEY, max_bytes=4096)
        good = _frames(client)
        wrong_sig = _frames(client)
        wrong_sig[1] = b"0" * 64
        attacks = [
            wrong_sig,
            _frames(Session(b"")),
            [b"<IDS|MSG", *good[1:]],
            good[:4],
            [b"single frame of junk"],
            _signed(client.signer, [b"not json", b"{}", b"{}", b"{}"]),
            _frames(client, content=m.execute_request("z" * 8000)),
            list(good),  # accepted once ...
            list(good),  # ... and refused as a replay
        ]
        accepted = []
        with caplog.at_level(logging.WARNING, logger="jup.protocol"):
            for frames in attacks:
                dealer.send_multipart(frames)
            last = _frames(client, content=m.execute_request("last"))
            dealer.send_multipart(last)
            deadline = time.monotonic() + 10
            for _ in range(len(attacks) + 1):
                assert router.poll(max(0, int((deadline - time.monotonic()) * 1000))), "receiver hung"
                got = server.recv(router)
                if got is not None:
                    accepted.append(got)
        assert [msg["content"]["code"] for _, msg in accepted] == ["1+1", "last"]
        assert server.rejected == len(attacks) - 1
        assert sum(r.name == "jup.protocol" for r in caplog.records) == len(attacks) - 1
        # the receiver still answers the peer it routed the good message from
        idents, req = accepted[-1]
        server.send(router, "execute_reply", m.execute_reply("ok", 1), parent=req, idents=idents)
        assert dealer.poll(5000), "no reply after the attack"
        _, reply = client.deserialize(dealer.recv_multipart())
        assert reply["parent_header"]["msg_id"] == req["header"]["msg_id"]
        assert reply["content"]["status"] == "ok"
    finally:
        router.close()
        dealer.close()


def test_fast_json_path_gives_the_same_messages_and_falls_back_where_orjson_cannot():
    """With orjson enabled, frames decode to what json gives; huge ints and NaN still pass."""
    import json as _json

    from jup.core.protocol import Session, enable_fast_json, wire

    assert enable_fast_json() is True
    tx, rx = Session(b"k"), Session(b"k")
    content = {"code": "é∑ \u2028 x", "n": 2 ** 70, "nested": {"1": [1.5, None, True]}}
    _, got = rx.deserialize(tx.serialize(tx.msg("execute_request", content)))
    assert got["content"] == content  # 2**70 went through json's encoder
    assert wire._loads(b'{"x": NaN}')["x"] != 0  # a kernel's NaN (json's liberty) is still read
    frames = tx.serialize(tx.msg("execute_request", {"code": "1"}))
    assert _json.loads(frames[-1]) == {"code": "1"}  # what orjson writes, json reads
