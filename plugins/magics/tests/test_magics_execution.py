"""%run, %debug, %pdb and %%capture, driven through a real shell."""

from __future__ import annotations

import sys


def test_run_a_script_with_arguments_keeps_its_variables(sess, tmp_path):
    (tmp_path / "script.py").write_text(
        "import sys\nprint('name', __name__, 'args', sys.argv[1:])\nresult = len(sys.argv)\n")
    argv_before = list(sys.argv)
    _, out, _ = sess.run("%run script.py one 'two words'")
    assert "name __main__ args ['one', 'two words']" in out
    assert sess.shell.user_ns["result"] == 3
    assert sys.argv == argv_before


def test_run_without_i_does_not_see_user_variables_but_with_i_does(sess, tmp_path):
    (tmp_path / "uses.py").write_text("print('seen', secret)\n")
    sess.shell.user_ns["secret"] = 41
    sess.run("%run uses.py", ok=False)
    assert sess.errors()[0]["ename"] == "NameError"
    _, out, _ = sess.run("%run -i uses.py")
    assert "seen 41" in out


def test_run_t_prints_timings(sess, tmp_path):
    (tmp_path / "quick.py").write_text("x = sum(range(10))\n")
    _, out, _ = sess.run("%run -t quick.py")
    assert "CPU timings (estimated):" in out and "Wall time:" in out


def test_run_m_runs_a_module_as_main(sess, tmp_path):
    pkg = tmp_path / "mymod_h3b.py"
    pkg.write_text("import sys\nif __name__ == '__main__':\n    print('main with', sys.argv[1:])\n"
                   "    answer = 42\n")
    sys.path.insert(0, str(tmp_path))
    try:
        _, out, _ = sess.run("%run -m mymod_h3b --flag")
    finally:
        sys.path.remove(str(tmp_path))
    assert "main with ['--flag']" in out
    assert sess.shell.user_ns["answer"] == 42


def test_run_exit_zero_is_quiet_and_missing_file_says_so(sess, tmp_path):
    (tmp_path / "bye.py").write_text("import sys\nprint('before')\nsys.exit(0)\n")
    _, out, _ = sess.run("%run bye.py")
    assert "before" in out and not sess.errors()
    sess.run("%run nowhere.py", ok=False)
    err = sess.errors()[0]
    assert err["ename"] == "UsageError" and "'nowhere.py' not found" in err["evalue"]
    sess.run("%run", ok=False)
    assert "needs a file" in sess.errors()[0]["evalue"]


def test_run_an_ipy_file_with_magics(sess, tmp_path):
    (tmp_path / "cells.ipy").write_text("x = 5\n%time y = x * 2\n")
    _, out, _ = sess.run("%run cells.ipy")
    assert "Wall time" in out and sess.shell.user_ns["y"] == 10


class _Frontend:
    """Stands for the person at the keyboard: answers input requests from a script."""

    def __init__(self, answers: list[str]):
        self.answers, self.prompts = list(answers), []

    def raw_input(self, prompt: str = "") -> str:
        self.prompts.append(prompt)
        return self.answers.pop(0) if self.answers else "q"


def test_debug_post_mortem_reads_commands_from_the_kernel_stdin(sess):
    sess.run("def f(v):\n    local_value = v * 3\n    return 1 / 0\nf(7)", ok=False)
    frontend = _Frontend(["p local_value", "q"])
    sess.shell.kernel = frontend
    _, out, _ = sess.run("%debug")
    assert "21" in out  # the debugger printed the local of the frame that raised
    assert frontend.prompts and all(p == "(Pdb) " for p in frontend.prompts)
    assert "ZeroDivisionError" in out or "1 / 0" in out


def test_debug_a_statement_and_pdb_toggle(sess):
    frontend = _Frontend(["n", "p z", "c"])
    sess.shell.kernel = frontend
    import signal
    before = signal.getsignal(signal.SIGINT)
    _, out, _ = sess.run("%debug z = 6 * 7")
    assert sess.shell.user_ns["z"] == 42
    assert signal.getsignal(signal.SIGINT) is before  # Ctrl-C still interrupts afterwards
    _, out, _ = sess.run("%pdb on")
    assert "Automatic pdb calling has been turned ON" in out and sess.shell.pdb is True
    _, out, _ = sess.run("%pdb off")
    assert "OFF" in out and sess.shell.pdb is False
    sess.run("%pdb sometimes", ok=False)
    assert sess.errors()[0]["ename"] == "UsageError"


def test_capture_keeps_stdout_stderr_and_displays(sess):
    sess.run("%%capture cap\nimport sys\nprint('to out')\nprint('to err', file=sys.stderr)\n"
             "display({'text/html': '<b>x</b>', 'text/plain': 'x'}, raw=True)\n6*7")
    assert sess.displays() == [] and sess.results() == []  # nothing shown
    cap = sess.shell.user_ns["cap"]
    assert cap.stdout == "to out\n" and cap.stderr == "to err\n"
    assert {"text/plain": "42"} in [o["data"] for o in cap.outputs]
    assert any("text/html" in o["data"] for o in cap.outputs)
    _, out, _ = sess.run("cap.show()")
    assert "to out" in out


def test_capture_no_stdout_leaves_prints_visible(sess):
    _, out, _ = sess.run("%%capture --no-stdout c2\nprint('visible')")
    assert "visible" in out
    sess.run("%%capture 1bad\npass", ok=False)
    assert "not a variable name" in sess.errors()[0]["evalue"]
