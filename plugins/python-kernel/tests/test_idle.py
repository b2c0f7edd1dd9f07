"""The kernel's idle moments: a GUI toolkit's events are processed between cells (`%gui`,
`%matplotlib <gui>`), and jedi is warmed in the background once the kernel has been idle, never
at start, so the first Tab answers in time. Real kernel processes, real sockets."""

from __future__ import annotations

import importlib.util
import queue
import time

import pytest
from pykernel_helpers import outputs, run, start_kernel

pytestmark = pytest.mark.timeout(120)


def iopub_until(kc, kind: str, timeout: float = 10) -> dict | None:
    """The next iopub message of one type, or None when none came within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            msg = kc.get_iopub_msg(timeout=max(deadline - time.monotonic(), 0.01))
        except queue.Empty:
            return None
        if msg["msg_type"] == kind:
            return msg
    return None


def ok(kc, code: str) -> list[dict]:
    reply, msgs = run(kc, code)
    assert reply["content"]["status"] == "ok", (code, reply["content"])
    return msgs


# Tcl's `after` events are the toolkit's own timers: they fire only while something processes Tk's
# event queue. The callback sends a comm message, so the test waits on that event.
PROBE = """
import tkinter
from jup.python import comm as jcomm
probe = jcomm.create_comm('h3p-probe')
tcl = tkinter.Tcl()
def fire(label):
    tcl.after(1, lambda: probe.send({'fired': label}))
"""


@pytest.fixture(scope="module")
def gui_kernel(tmp_path_factory):
    pytest.importorskip("tkinter", reason="Python was built without tkinter")
    kp = start_kernel(tmp_path_factory.mktemp("gui"))
    kc = kp.kc
    yield kc
    kp.stop()


def test_gui_tk_processes_events_between_cells_and_stops_when_asked(gui_kernel):
    kc = gui_kernel
    ok(kc, PROBE)
    ok(kc, "%gui tk\nfire('first')")
    msg = iopub_until(kc, "comm_msg", timeout=10)  # no cell runs: the idle kernel ran the timer
    assert msg is not None and msg["content"]["data"] == {"fired": "first"}
    ok(kc, "%gui\nfire('second')")  # stopped: the timer waits
    assert iopub_until(kc, "comm_msg", timeout=0.5) is None
    ok(kc, "%gui tk")  # started again: the pending timer fires now
    msg = iopub_until(kc, "comm_msg", timeout=10)
    assert msg is not None and msg["content"]["data"] == {"fired": "second"}
    ok(kc, "%gui")


def test_matplotlib_gui_switching(gui_kernel):
    kc = gui_kernel
    state = "print(get_ipython().kernel._jup_idle_scheduler.gui)"
    ok(kc, "%gui tk")
    reply, msgs = run(kc, "%matplotlib tk")  # no display here: refused with a reason, loop kept
    if reply["content"]["status"] == "error":
        assert reply["content"]["ename"] == "UsageError"
        assert "cannot be used here" in reply["content"]["evalue"]
    assert "tk" in "".join(c["text"] for c in outputs(ok(kc, state), "stream"))
    for backend in ("inline", "agg"):
        ok(kc, f"%gui tk\n%matplotlib {backend}")
        text = "".join(c["text"] for c in outputs(ok(kc, state), "stream"))
        assert text.strip() == "None", (backend, text)
    if not any(importlib.util.find_spec(m) for m in ("PySide6", "PyQt6", "PyQt5", "PySide2")):
        reply, _ = run(kc, "%gui qt")  # a toolkit that is not installed: said so, nothing changes
        assert reply["content"]["ename"] == "UsageError"
        assert "The qt toolkit is not available" in reply["content"]["evalue"]
    reply, _ = run(kc, "%gui beos")
    assert reply["content"]["ename"] == "UsageError"
    assert "Unknown GUI 'beos'; choose one of gtk3, gtk4, qt, tk, wx" in reply["content"]["evalue"]


def test_qt_event_loop_offscreen(tmp_path):
    try:
        import PySide6  # noqa: F401
    except ImportError:
        pytest.skip("PySide6 is not installed (not a test requirement: too big for one check); "
                    "the Qt hook is the same code path as Tk's, tested above")
    kp = start_kernel(tmp_path, {"QT_QPA_PLATFORM": "offscreen", "QT_API": "pyside6"})
    kc = kp.kc
    try:
        ok(kc, "from jup.python import comm as jcomm\nprobe = jcomm.create_comm('h3p-qt')\n"
               "%gui qt\nfrom PySide6 import QtCore\n"
               "QtCore.QTimer.singleShot(1, lambda: probe.send({'fired': 'qt'}))")
        msg = iopub_until(kc, "comm_msg", timeout=10)
        assert msg is not None and msg["content"]["data"] == {"fired": "qt"}
    finally:
        kp.stop()


def test_jedi_is_not_loaded_at_start_but_warmed_once_idle(tmp_path):
    kp = start_kernel(tmp_path, {"JUP_COMPLETER_WARMUP": "0.5"})
    kc = kp.kc
    try:
        text = "".join(c["text"] for c in outputs(ok(kc, "import sys\nprint('jedi' in sys.modules)"),
                                                   "stream"))
        assert text.strip() == "False"  # cold start stays cheap
        loaded = False
        for _ in range(30):  # bounded: ~1 s idle apart, up to ~30 s on a loaded machine
            # an execute counts as work, so give the kernel idle time by waiting (bounded) on iopub
            iopub_until(kc, "never-sent", timeout=1.0)
            text = "".join(c["text"] for c in outputs(ok(
                kc, "print(get_ipython().completer.jedi_ready)"), "stream"))
            if text.strip() == "True":
                loaded = True
                break
        assert loaded, "jedi was not warmed while the kernel was idle"
        t0 = time.perf_counter()
        reply = kc.complete("'abc'.up", reply=True, timeout=10)
        took = time.perf_counter() - t0
        assert reply["content"]["matches"] == ["upper"], reply["content"]
        assert took < 1.0, f"the first jedi completion took {took:.2f} s"
    finally:
        kp.stop()


def test_simple_names_never_wait_for_jedi(shell):
    from jup.python.completer import Completer
    shell.user_ns["alphabet_soup"] = 1
    comp = Completer(shell, timeout=5.0)
    t0 = time.perf_counter()
    reply = comp.complete("x = 1\nalphabet_s")  # a multi-line cell: jedi would be asked, if ready
    took = time.perf_counter() - t0
    assert reply["matches"] == ["alphabet_soup"]
    if not comp.jedi_ready:
        assert took < 0.5, f"a namespace name took {took:.2f} s"
        assert any("still loading" in s for s in reply["metadata"].get("jup_skipped", []))
    comp.warm_up().join(30)
    reply = comp.complete("alphabet_x = 2\nalphabet_")
    assert {"alphabet_soup", "alphabet_x"} <= set(reply["matches"])  # jedi adds the cell's own name


def test_no_idle_hook_when_nothing_is_scheduled(tmp_path):
    kp = start_kernel(tmp_path, {"JUP_COMPLETER_WARMUP": "off"})
    kc = kp.kc
    try:
        text = "".join(c["text"] for c in outputs(ok(kc, "print(get_ipython().kernel.idle_hook)"),
                                                   "stream"))
        assert text.strip() == "None"  # an idle kernel sleeps instead of polling
    finally:
        kp.stop()
