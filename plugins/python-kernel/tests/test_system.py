"""`!cmd` streams into the cell and `x = !cmd` gives an SList with the usual shortcuts."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from jup.python.system import SList, getoutput, system


def run(kc, code: str, timeout: float = 30) -> tuple[dict, list[dict]]:
    """Execute `code` on the kernel; the execute_reply and the cell's iopub messages until idle."""
    msgs: list[dict] = []
    reply = kc.execute_interactive(code, timeout=timeout, output_hook=msgs.append)
    return reply, msgs


def stdout_of(msgs: list[dict], name: str = "stdout") -> str:
    return "".join(m["content"]["text"] for m in msgs
                   if m["msg_type"] == "stream" and m["content"]["name"] == name)



def test_system_streams_stdout_and_stderr_and_returns_the_exit_code(capfd):
    code = system("echo out line; echo err line >&2; exit 4")
    assert code == 4
    out, err = capfd.readouterr()
    assert out == "out line\n" and err == "err line\n"


def test_system_output_arrives_while_the_command_runs(capsys):
    """A command that prints, then waits for its own output to be seen, proves live streaming:
    the first line must be in our stdout before the command finishes."""
    seen = []

    class Watch:
        def write(self, text):
            seen.append(text)

        def flush(self):
            pass

    saved = sys.stdout
    sys.stdout = Watch()
    try:
        marker = Path(os.environ.get("TMPDIR", "/tmp")) / f"h3b-live-{os.getpid()}"
        # the command prints, then waits (bounded, 10 s) until a file appears that only our
        # reader creates after seeing the first line
        cmd = (f"echo first; for i in $(seq 100); do [ -e {marker} ] && break; sleep 0.1; done; "
               "echo second")

        class Trigger(Watch):
            def write(self, text):
                seen.append(text)
                if "first" in text:
                    marker.touch()

        sys.stdout = Trigger()
        system(cmd)
    finally:
        sys.stdout = saved
        marker.unlink(missing_ok=True)
    text = "".join(seen)
    assert text == "first\nsecond\n"


def test_system_through_the_shell_sets_exit_code(shell):
    shell.run_cell("!exit 3")
    assert shell.user_ns["_exit_code"] == 3


def test_getoutput_gives_an_slist_of_lines():
    out = getoutput("printf 'a 1\\nb 22\\nc 3\\n'; echo warn >&2")
    assert isinstance(out, SList)
    assert out == ["a 1", "b 22", "c 3", "warn"]


def test_slist_shortcuts(tmp_path):
    (tmp_path / "exists.txt").write_text("x")
    lines = SList(["beta 20 x", "alpha 3 y", "gamma 100 z", str(tmp_path / "exists.txt")])
    assert lines.s.startswith("beta 20 x alpha 3 y")
    assert lines.n.split("\n")[1] == "alpha 3 y"
    assert lines.l == list(lines) and type(lines.l) is list
    assert lines.p == [tmp_path / "exists.txt"]
    assert lines.grep("a 3") == ["alpha 3 y"]
    assert lines.grep("^(beta|gamma)", prune=True)[:2] == ["alpha 3 y", str(tmp_path / "exists.txt")]
    assert lines.grep(r"^\d+$", field=1) == ["beta 20 x", "alpha 3 y", "gamma 100 z"]
    assert lines.grep(lambda s: s.endswith("z")) == ["gamma 100 z"]
    assert lines[:3].fields(0) == ["beta", "alpha", "gamma"]
    assert lines[:3].fields(-1, 0) == ["x beta", "y alpha", "z gamma"]
    assert lines[:3].sort(1, nums=True) == ["alpha 3 y", "beta 20 x", "gamma 100 z"]
    assert lines[:3].sort(0) == ["alpha 3 y", "beta 20 x", "gamma 100 z"]
    assert isinstance(lines[:2], SList)


def test_x_equals_bang_in_a_real_shell(shell, tmp_path):
    (tmp_path / "one.py").write_text("")
    (tmp_path / "two.txt").write_text("")
    shell.user_ns["where"] = str(tmp_path)
    shell.run_cell("files = !ls $where")
    files = shell.user_ns["files"]
    assert isinstance(files, SList) and sorted(files) == ["one.py", "two.txt"]
    assert files.grep(r"\.py$") == ["one.py"]


@pytest.mark.timeout(60)
def test_bang_in_a_kernel_streams_to_the_cell(kernel):
    reply, msgs = run(kernel, "!echo one; echo two >&2")
    assert reply["content"]["status"] == "ok"
    assert "one" in stdout_of(msgs) and "two" in stdout_of(msgs, "stderr")
    assert not [m for m in msgs if m["msg_type"] == "execute_result"], "`!cmd` must not show Out[N]: 0"
    reply, msgs = run(kernel, "x = !printf 'l1\\nl2\\n'\nprint(x.n.upper(), x.s)")
    assert "L1\nL2 l1 l2" in stdout_of(msgs)


def test_interrupt_stops_the_command(tmp_path):
    """Ctrl-C (the kernel's interrupt) during `!sleep 30` stops the command, not just the wait."""
    import _thread
    pidfile = tmp_path / "pid"

    class Trigger:
        def write(self, text):
            if "started" in text:
                _thread.interrupt_main()

        def flush(self):
            pass

    saved = sys.stdout
    sys.stdout = Trigger()
    t0 = time.perf_counter()
    try:
        with pytest.raises(KeyboardInterrupt):
            system(f"echo $$ > {pidfile}; echo started; sleep 30")
    finally:
        sys.stdout = saved
    assert time.perf_counter() - t0 < 10
    pid = int(pidfile.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # the shell that ran the command is gone
