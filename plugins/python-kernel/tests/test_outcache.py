"""`Out` is capped by memory: old results go first, `_N` goes with them, and `Out[N]` says why."""

from __future__ import annotations

import array
import time
from pathlib import Path

import numpy as np
import pytest
from pykernel_helpers import run, start_kernel

from jup.python.outcache import (
    OutputCache,
    OutputDropped,
    estimate_size,
    format_size,
    parse_size,
    resolve_limit,
)
from jup.python.publisher import RecordingPublisher
from jup.python.shell import Shell


def test_sizes_are_estimated_from_what_objects_hold():
    assert estimate_size(np.zeros(1_000_000)) >= 8_000_000
    assert estimate_size(b"x" * 1_000_000) >= 1_000_000
    assert estimate_size(array.array("d", range(1000))) >= 8000
    assert estimate_size([np.zeros(125_000)] * 4) >= 4_000_000  # one sampled level of a container
    assert estimate_size({"a": b"y" * 10_000}) >= 10_000

    class Hostile:
        @property
        def nbytes(self):
            raise RuntimeError("no")

        def __sizeof__(self):
            raise RuntimeError("no")
    assert estimate_size(Hostile()) > 0  # never raises


@pytest.mark.parametrize("text,value", [("1000", 1000), ("1e9", 10**9), ("500MB", 500 * 10**6),
                                        ("2GiB", 2 << 30), (" 1.5 gb ", 1_500_000_000), (0, 0)])
def test_sizes_parse_with_units(text, value):
    assert parse_size(text) == value


@pytest.mark.parametrize("bad", ["lots", "12 parsecs", "-5", -5])
def test_bad_sizes_are_refused_with_the_accepted_forms(bad):
    with pytest.raises(ValueError, match="500MB|negative"):
        parse_size(bad)


def test_bad_env_value_warns_and_falls_back_to_the_default(monkeypatch):
    monkeypatch.setenv("JUP_OUTPUT_CACHE_BYTES", "plenty")
    with pytest.warns(UserWarning, match="JUP_OUTPUT_CACHE_BYTES.*'plenty' is not a size"):
        limit = resolve_limit()
    assert 0 < limit <= 2 << 30


def test_config_wins_over_env(monkeypatch):
    monkeypatch.setenv("JUP_OUTPUT_CACHE_BYTES", "5MB")
    assert resolve_limit("7MB") == 7_000_000
    assert resolve_limit(None) == 5_000_000


def test_oldest_results_are_dropped_first_and_say_why():
    ns: dict = {}
    out = OutputCache(ns, limit="1MB")
    for n in range(1, 5):
        value = b"x" * 400_000
        ns[f"_{n}"] = ns["_"] = value
        out[n] = value
    assert list(out) == [3, 4] and out.total <= 1_000_000
    assert "_1" not in ns and "_2" not in ns and "_3" in ns
    with pytest.raises(OutputDropped, match=r"Out\[1\] was dropped to save memory: it took about 400.\d kB "
                                            r"and the output cache keeps at most 1.0 MB"):
        out[1]
    with pytest.raises(KeyError) as e:
        out[99]  # never existed: a plain KeyError
    assert not isinstance(e.value, OutputDropped)
    assert 1 not in out and out.get(1) is None
    out.limit = "10MB"  # raising the limit keeps what is there
    assert list(out) == [3, 4]
    out.limit = 0  # unlimited
    out[5] = b"y" * 5_000_000
    assert list(out) == [3, 4, 5]


def test_the_newest_result_is_kept_even_when_bigger_than_the_limit():
    out = OutputCache({}, limit=1000)
    out[1] = b"a" * 10
    out[2] = b"b" * 5000
    assert list(out) == [2]


def test_shell_out_and_underscore_names_let_go_of_dropped_results():
    sh = Shell(RecordingPublisher(), user_ns={}, load_plugins=False,
               config={"history": False, "output_cache_bytes": "3MB"})
    for _ in range(4):
        sh.run_cell("import numpy as np; np.ones(250_000)")  # 2 MB each
    ns = sh.user_ns
    assert list(ns["Out"]) == [4]
    assert "_1" not in ns and "_3" not in ns and ns["_4"] is ns["Out"][4]
    assert ns["__"] == "" and ns["___"] == ""  # they no longer hold dropped arrays
    r = sh.run_cell("Out[1]")
    assert r.error_in_exec is not None and "dropped to save memory" in str(r.error_in_exec)
    assert isinstance(ns["Out"], dict)


def _rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


@pytest.mark.timeout(120)
@pytest.mark.parametrize("cap,kept", [("1GB", [5]), ("1GiB", [4, 5])])
def test_five_500MB_results_stay_under_the_cap_in_a_real_kernel(tmp_path, cap, kept):
    """Cap 1 GB: five cells each returning a 500 MB array leave the kernel under 1.6 GB RSS.
    (Two 500 MB arrays and their headers pass 1 GB = 10**9 bytes but fit in 1 GiB.)"""
    kp = start_kernel(tmp_path, {"JUP_OUTPUT_CACHE_BYTES": cap})
    proc, kc = kp.proc, kp.kc
    try:
        peak = 0
        for n in range(5):
            t = time.monotonic()
            reply, msgs = run(kc, ("import numpy as np\n" if n == 0 else "") + "np.ones(500 * 10**6 // 8)",
                              timeout=60)
            assert reply["content"]["status"] == "ok", reply["content"]
            assert any(m["msg_type"] == "execute_result" for m in msgs)
            assert time.monotonic() - t < 30
            peak = max(peak, _rss(proc.pid))
        rss = _rss(proc.pid)
        assert rss < 1.6e9, f"kernel RSS {rss / 1e9:.2f} GB after five 500 MB results with a 1 GB cap"
        reply, msgs = run(kc, "Out[1]")
        assert reply["content"]["status"] == "error"
        assert "Out[1] was dropped to save memory" in reply["content"]["evalue"]
        assert "500.0 MB" in reply["content"]["evalue"]
        assert f"at most {format_size(parse_size(cap))}" in reply["content"]["evalue"]
        reply, msgs = run(kc, "sorted(k for k in Out), "
                              "[n for n in ('_1', '_2', '_3', '_4', '_5') if n in globals()]")
        assert reply["content"]["status"] == "ok", reply["content"]
        res = next(m for m in msgs if m["msg_type"] == "execute_result")["content"]["data"]["text/plain"]
        assert res == f"({kept}, {[f'_{n}' for n in kept]})"
        print(f"kernel RSS after five 500 MB results, cap {cap}: {rss / 1e9:.2f} GB "
              f"(peak {peak / 1e9:.2f} GB)")
    finally:
        kp.stop()
