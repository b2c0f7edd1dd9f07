"""hmac-sha256 without OpenSSL for ordinary messages (issue 13: importing hashlib/hmac maps libcrypto,
~3.6 MiB of an idle kernel's RSS): the signatures must be exactly what `hmac` gives, for every key
length and message size, on both sides of the switch to OpenSSL for big messages."""

from __future__ import annotations

import hashlib
import hmac
import os
import subprocess
import sys

import pytest

from jup.core.errors import SignatureError
from jup.core.protocol import wire
from jup.core.protocol.wire import OPENSSL_FROM, Signer


@pytest.mark.parametrize("openssl_loaded", [False, True])
@pytest.mark.parametrize("key_len", [1, 32, 63, 64, 65, 300])
@pytest.mark.parametrize("content_len", [0, 1000, OPENSSL_FROM - 300, OPENSSL_FROM + 1, 3 * OPENSSL_FROM])
def test_builtin_hmac_sha256_signs_exactly_like_hmac(key_len, content_len, openssl_loaded, monkeypatch):
    if not openssl_loaded:  # as in a kernel process that never imported hashlib: the built-in path
        monkeypatch.setattr(wire, "_modules", {})
    key = os.urandom(key_len)
    parts = [b'{"msg_id":"1"}', b"{}", b"{}", os.urandom(content_len)]
    want = hmac.new(key, b"".join(parts), hashlib.sha256).hexdigest().encode()
    signer = Signer(key)
    assert signer.sign(parts) == want
    signer.verify(want, parts)
    with pytest.raises(SignatureError, match="does not match"):
        signer.verify(want[:-1] + (b"0" if want[-1:] != b"0" else b"1"), parts)


def test_a_str_key_and_an_empty_key_behave_as_before():
    assert Signer("abc").sign([b"a", b"b", b"c", b"d"]) == \
        hmac.new(b"abc", b"abcd", hashlib.sha256).hexdigest().encode()
    unsigned = Signer(b"")
    assert unsigned.sign([b"a", b"b", b"c", b"d"]) == b""
    unsigned.verify(b"", [b"x"])  # no key: nothing to check


def test_small_messages_are_signed_without_loading_openssl():
    code = ("import sys\nfrom jup.core.protocol.wire import Signer\n"
            "s = Signer(b'k' * 32)\nsig = s.sign([b'{}', b'{}', b'{}', b'x' * 1000])\ns.verify(sig, [b'{}', b'{}', b'{}', b'x' * 1000])\n"
            "print(sorted(m for m in ('hashlib', 'hmac', '_hashlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "[]"


def test_big_messages_still_verify_after_the_switch_to_openssl():
    signer = Signer(b"secret")
    big = [b"{}", b"{}", b"{}", b"y" * (OPENSSL_FROM * 2)]
    small = [b"{}", b"{}", b"{}", b"z"]
    for parts in (small, big, small):  # the switch is per message, both ways
        signer.verify(hmac.new(b"secret", b"".join(parts), hashlib.sha256).hexdigest().encode(), parts)
    assert wire._SCHEMES["hmac-sha256"] == "sha256"
