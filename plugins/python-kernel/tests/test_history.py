"""History in SQLite: batched writes that never hold up a cell, safe with concurrent kernels, a
corrupt file moved aside, and `history_request` tail/range/search."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest

from jup.python.history import HistoryManager, parse_range


def run(kc, code: str, timeout: float = 30) -> tuple[dict, list[dict]]:
    """Execute `code` on the kernel; the execute_reply and the cell's iopub messages until idle."""
    msgs: list[dict] = []
    reply = kc.execute_interactive(code, timeout=timeout, output_hook=msgs.append)
    return reply, msgs



@pytest.fixture
def hist(tmp_path):
    h = HistoryManager(path=str(tmp_path / "history.sqlite"))
    yield h
    h.close()


def _fill(h, n=5):
    for i in range(1, n + 1):
        h.store_input(i, f"x{i} = {i}", f"x{i} = {i}  # raw")
    h.store_output(3, "3")


def test_current_session_range_tail_and_search(hist):
    _fill(hist)
    s = hist.session_number
    assert s >= 1
    assert hist.get_range(0, 2, 4) == [(s, 2, "x2 = 2  # raw"), (s, 3, "x3 = 3  # raw")]
    assert hist.get_range(0, 3, 4, raw=False, output=True) == [(s, 3, ("x3 = 3", "3"))]
    assert hist.get_tail(2) == [(s, 4, "x4 = 4  # raw"), (s, 5, "x5 = 5  # raw")]
    assert [e[1] for e in hist.search("x[24]*")] == [2, 4]


def test_history_reply_matches_the_protocol(hist):
    _fill(hist)
    s = hist.session_number
    reply = hist.reply({"hist_access_type": "tail", "n": 2, "raw": False, "output": True})
    assert reply == {"status": "ok", "history": [[s, 4, ["x4 = 4", None]], [s, 5, ["x5 = 5", None]]]}
    reply = hist.reply({"hist_access_type": "range", "session": 0, "start": 1, "stop": 3,
                        "raw": True, "output": False})
    assert reply["history"] == [[s, 1, "x1 = 1  # raw"], [s, 2, "x2 = 2  # raw"]]
    hist.store_input(6, "x1 = 1", "x1 = 1  # raw")
    reply = hist.reply({"hist_access_type": "search", "pattern": "x1*", "unique": True,
                        "raw": True, "output": False})
    assert reply["history"] == [[s, 6, "x1 = 1  # raw"]]
    bad = hist.reply({"hist_access_type": "sideways"})
    assert bad["status"] == "error" and "tail, range or search" in bad["evalue"]


def test_previous_sessions_are_addressed_relatively(tmp_path):
    path = str(tmp_path / "h.sqlite")
    first = HistoryManager(path=path)
    _fill(first, 3)
    first.close()
    second = HistoryManager(path=path)
    try:
        second.store_input(1, "new = 1")
        assert second.session_number == first.session_number + 1
        assert [e[2] for e in second.get_range(-1, 1, None, raw=False)] == ["x1 = 1", "x2 = 2", "x3 = 3"]
        assert second.get_ranges("~1/2-3", raw=False) == [(first.session_number, 2, "x2 = 2"),
                                                           (first.session_number, 3, "x3 = 3")]
        assert second.get_tail(2, raw=False)[-1][2] == "new = 1"
    finally:
        second.close()


def test_parse_range_forms_and_errors():
    assert parse_range("4") == [(0, 4, 5)]
    assert parse_range("4-6 8:10") == [(0, 4, 7), (0, 8, 10)]
    assert parse_range("~1/") == [(-1, 1, None)]
    assert parse_range("~2/7") == [(-2, 7, 8)]
    assert parse_range("12/1-3") == [(12, 1, 4)]
    with pytest.raises(ValueError, match="bad history range 'x-1'"):
        parse_range("x-1")


def test_storing_never_waits_on_a_locked_database(tmp_path):
    path = str(tmp_path / "locked.sqlite")
    h = HistoryManager(path=path)
    h.store_input(1, "warm = 1")
    assert h.flush(10)
    blocker = sqlite3.connect(path, timeout=0)
    blocker.execute("BEGIN EXCLUSIVE")  # another kernel holds the write lock
    try:
        t0 = time.perf_counter()
        for i in range(2, 202):
            h.store_input(i, f"cell {i}")
        elapsed = time.perf_counter() - t0
        assert elapsed < 0.05, f"storing 200 inputs took {elapsed:.3f} s while the db was locked"
        assert h.get_range(0, 200, 202, raw=False)[-1][2] == "cell 201"  # served from memory
    finally:
        blocker.rollback()
        blocker.close()
    assert h.flush(15)
    h.close()
    rows = sqlite3.connect(path).execute("SELECT count(*) FROM history").fetchone()[0]
    assert rows == 201


WRITER = textwrap.dedent("""
    import sys
    from jup.python.history import HistoryManager
    h = HistoryManager(path=sys.argv[1])
    for i in range(1, 301):
        h.store_input(i, f"{sys.argv[2]} {i}")
        if i % 50 == 0:
            h.flush()
    h.close()
    print(h.session_number)
""")


@pytest.mark.timeout(120)
def test_two_kernels_write_the_same_database_at_once(tmp_path):
    path = str(tmp_path / "shared.sqlite")
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, path, name], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for name in ("left", "right")]
    sessions = []
    for p in procs:
        out, err = p.communicate(timeout=100)
        assert p.returncode == 0, err
        assert "jup history" not in err, err
        sessions.append(int(out.strip()))
    assert len(set(sessions)) == 2
    db = sqlite3.connect(path)
    for name, session in zip(("left", "right"), sessions, strict=True):
        rows = db.execute("SELECT line, source FROM history WHERE session=? ORDER BY line",
                          (session,)).fetchall()
        assert rows == [(i, f"{name} {i}") for i in range(1, 301)]
    ended = db.execute("SELECT count(*) FROM sessions WHERE end IS NOT NULL").fetchone()[0]
    assert ended == 2


def test_a_corrupt_database_is_moved_aside_with_a_warning(tmp_path, capfd):
    path = tmp_path / "history.sqlite"
    path.write_bytes(b"this is not an sqlite file at all" * 100)
    with pytest.warns(RuntimeWarning, match="was corrupt"):
        h = HistoryManager(path=str(path))
        h.store_input(1, "still works")
        assert h.flush(10)
    try:
        assert "moved to" in h.warning
        aside = [p for p in tmp_path.iterdir() if "corrupt" in p.name]
        assert len(aside) == 1 and aside[0].read_bytes().startswith(b"this is not")
        assert h.get_tail(1, raw=False)[0][2] == "still works"
        assert "jup history:" in capfd.readouterr().err
    finally:
        h.close()
    assert sqlite3.connect(str(path)).execute("SELECT source FROM history").fetchall() == \
        [("still works",)]


def test_an_unwritable_location_keeps_history_in_memory(tmp_path):
    blocked = tmp_path / "file-not-dir"
    blocked.write_text("")
    with pytest.warns(RuntimeWarning, match="in memory"):
        h = HistoryManager(path=str(blocked / "history.sqlite"))
        h.store_input(1, "a = 1")
        h.flush(5)
    try:
        assert h.get_range(0, 1, None, raw=False) == [(0, 1, "a = 1")]
        assert h.get_tail(1, raw=False) == [(0, 1, "a = 1")]
        assert h.search("a*", raw=False) == [(0, 1, "a = 1")]
    finally:
        h.close()


def test_memory_database(monkeypatch):
    monkeypatch.setenv("JUP_HISTORY_FILE", ":memory:")
    h = HistoryManager()
    try:
        _fill(h, 2)
        assert h.path == ":memory:"
        assert [e[1] for e in h.get_tail(5)] == [1, 2]
    finally:
        h.close()


@pytest.mark.timeout(60)
def test_history_request_through_a_kernel(kernel):
    for code in ("a = 10", "b = a * 2", "b"):
        run(kernel, code)
    msg_id = kernel.history(hist_access_type="tail", n=3, raw=True, output=False)
    reply = kernel.get_shell_msg(timeout=10)
    assert reply["parent_header"]["msg_id"] == msg_id
    assert [h[2] for h in reply["content"]["history"]] == ["a = 10", "b = a * 2", "b"]
    kernel.history(hist_access_type="search", pattern="b*", unique=True, raw=True, output=False)
    reply = kernel.get_shell_msg(timeout=10)
    assert [h[2] for h in reply["content"]["history"]] == ["b = a * 2", "b"]


def test_inputs_stored_just_before_exit_reach_the_disk(tmp_path):
    path = str(tmp_path / "exit.sqlite")
    code = ("import sys\nfrom jup.python.history import HistoryManager\n"
            "h = HistoryManager(path=sys.argv[1])\nh.store_input(1, 'last words')\n")
    res = subprocess.run([sys.executable, "-c", code, path], capture_output=True, text=True,
                         timeout=60)
    assert res.returncode == 0, res.stderr
    rows = sqlite3.connect(path).execute("SELECT source FROM history").fetchall()
    assert rows == [("last words",)]


def _history(kc, timeout: float = 30, **content) -> list:
    """The history a history_request gets. Asked again while the kernel says it skipped the request
    (reply metadata `jup_skipped`: the history was not ready within the introspection deadline, as
    on a kernel just started on a busy machine); replies to other requests are passed over (a
    late kernel_info_reply of the start-up handshake)."""
    deadline = time.monotonic() + timeout
    for _ in range(100):
        msg_id = kc.history(**content)
        reply = None
        while reply is None:
            msg = kc.get_shell_msg(timeout=max(0.01, deadline - time.monotonic()))
            if msg["parent_header"].get("msg_id") == msg_id:
                reply = msg
        assert reply["content"]["status"] == "ok", reply["content"]
        if "jup_skipped" not in reply["metadata"] or time.monotonic() > deadline:
            break
    assert "jup_skipped" not in reply["metadata"], reply["metadata"]
    return reply["content"]["history"]


def test_history_with_outputs_and_transformed_input_through_kernels(tmp_path):
    from pykernel_helpers import start_kernel
    kp = start_kernel(tmp_path)
    kc = kp.kc
    try:
        for code in ("x = 6 * 7", "x", "%pwd", "print('no result')"):
            assert run(kc, code)[0]["content"]["status"] == "ok"
        hist = _history(kc, hist_access_type="tail", n=4, raw=False, output=True)
        assert [h[2][0] for h in hist] == ["x = 6 * 7", "x", "get_ipython().run_line_magic('pwd', '')",
                                           "print('no result')"]
        assert [h[2][1] for h in hist] == [None, "42", repr(os.getcwd()), None]  # the kernel runs here
        raw = _history(kc, hist_access_type="range", session=0, start=3, stop=4, raw=True, output=False)
        assert raw[0][1:] == [3, "%pwd"]
    finally:
        kp.stop()
    # a second kernel on the same database reads the first one's outputs back from the disk
    kp = start_kernel(tmp_path)
    kc = kp.kc
    try:
        prev = _history(kc, hist_access_type="range", session=-1, start=1, stop=3, raw=True,
                        output=True)
        assert [h[2] for h in prev] == [["x = 6 * 7", None], ["x", "42"]]
        found = _history(kc, hist_access_type="search", pattern="x*", raw=True, output=True, n=5)
        assert ["x", "42"] in [h[2] for h in found]
    finally:
        kp.stop()


def test_storing_outputs_can_be_turned_off(tmp_path, monkeypatch):
    from jup.python.publisher import RecordingPublisher
    from jup.python.shell import Shell
    monkeypatch.setenv("JUP_HISTORY_FILE", str(tmp_path / "h.sqlite"))
    for config, env, stored in (({}, "", True), ({"HistoryManager": {"db_log_output": False}}, "", False),
                                ({"HistoryManager": {"store_outputs": False}}, "1", True),
                                ({}, "0", False)):
        monkeypatch.setenv("JUP_HISTORY_OUTPUTS", env)
        sh = Shell(RecordingPublisher(), user_ns={}, load_plugins=False, config=config)
        sh.run_cell("21 * 2")
        assert sh.history.store_outputs is stored
        assert sh.history.get_tail(1, output=True)[0][2] == ("21 * 2", "42" if stored else None)
        sh.history.close()


def test_a_kernel_killed_outright_keeps_its_cells_and_the_one_that_killed_it(tmp_path):
    """SIGKILL (as the OOM killer sends) gives the kernel no chance to write: what was stored must
    already be on disk, including the input of the cell that was running, and the database must
    open cleanly for the next kernel."""
    from pykernel_helpers import start_kernel
    kp = start_kernel(tmp_path)
    try:
        for code in ("before_the_crash = 1", "before_the_crash + 1"):
            assert run(kp.kc, code)[0]["content"]["status"] == "ok"
        # the fatal cell runs for up to 0.3 s (the writer's batch window is 20 ms; it was 0.5 s and
        # lost such cells), leaving early once its input is readable by another connection, then
        # dies as an out-of-memory kill would end it
        fatal = textwrap.dedent(f"""
            import os, signal, sqlite3, time
            the_fatal_cell = True
            def stored():
                try:
                    with sqlite3.connect({str(tmp_path / "history.sqlite")!r}) as db:
                        return db.execute("SELECT 1 FROM history WHERE source LIKE "
                                          "'%the_fatal_cell%'").fetchall()
                except sqlite3.Error:
                    return False
            try:
                for _ in range(30):
                    if stored():
                        break
                    time.sleep(0.01)
            finally:
                os.kill(os.getpid(), signal.SIGKILL)
        """)
        kp.kc.execute(fatal)
        assert kp.proc.wait(20) == -9
    finally:
        kp.stop()
    kp = start_kernel(tmp_path)
    try:
        prev = _history(kp.kc, hist_access_type="range", session=-1, start=1, stop=None, raw=True,
                        output=False)
        sources = [h[2] for h in prev]
        assert sources[:2] == ["before_the_crash = 1", "before_the_crash + 1"]
        assert "the_fatal_cell = True" in sources[2]
        reply, msgs = run(kp.kc, "print('fine')")
        assert reply["content"]["status"] == "ok"
        assert not [m for m in msgs if m["msg_type"] == "stream" and m["content"]["name"] == "stderr"]
    finally:
        kp.stop()
    assert "corrupt" not in (tmp_path / "kernel.stderr").read_text()
