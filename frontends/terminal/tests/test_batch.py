"""`jup run terminal -c/-m/script`: what a script or a CI job gets, without a prompt."""

from __future__ import annotations

import re


def test_c_prints_result_of_print(run_batch):
    out = run_batch("-c", "print(1+1)")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "2"


def test_c_error_gives_traceback_and_status_1(run_batch):
    out = run_batch("-c", "1/0")
    assert out.returncode == 1
    assert "ZeroDivisionError" in out.stderr + out.stdout
    assert "\x1b[" not in out.stderr, "tracebacks to a pipe carry no colour codes"


def test_script_gets_its_argv_and_input(run_batch, tmp_path):
    script = tmp_path / "greet.py"
    script.write_text("import sys\nname = input('who? ')\nprint('hello', name, sys.argv[1:])\n")
    out = run_batch(str(script), "--loud", stdin="ada\n")
    assert out.returncode == 0, out.stderr
    assert "hello ada ['--loud']" in out.stdout


def test_m_runs_a_module_as_main(run_batch):
    out = run_batch("-m", "json.tool", "--help")
    assert "usage" in (out.stdout + out.stderr).lower()


def test_code_piped_on_stdin_runs(run_batch):
    out = run_batch(stdin="x = 6\nprint(x * 7)\n")
    assert out.returncode == 0, out.stderr
    assert "42" in out.stdout


def test_missing_script_is_reported(run_batch, tmp_path):
    out = run_batch(str(tmp_path / "nope.py"))
    assert out.returncode != 0
    assert "nope.py" in out.stderr + out.stdout


def test_unknown_kernel_names_the_installed_ones(run_batch):
    out = run_batch("--kernel", "no-such-kernel", "-c", "1")
    assert out.returncode == 2
    assert "no-such-kernel" in out.stderr
    assert "python3" in out.stderr, "the error lists kernels the user can pick instead"


def test_unknown_config_option_is_refused_with_the_fix(run_batch):
    out = run_batch("--TerminalShell.colour=1")
    assert out.returncode == 2
    assert "colour" in out.stderr and "confirm_exit" in out.stderr


def test_help_config_lists_options(run_batch):
    out = run_batch("--help-config")
    assert out.returncode == 0
    assert re.search(r"--TerminalShell\.editing_mode='emacs'", out.stdout)


def test_ipykernel_by_name(run_batch):
    out = run_batch("--kernel", "python3", "-c", "import sys; print('kernel', sys.version_info[0])")
    assert out.returncode == 0, out.stderr
    assert "kernel 3" in out.stdout


def test_kernel_death_is_reported_with_exit_code(run_batch):
    out = run_batch("--kernel", "python3", "-c", "import os; os._exit(3)")
    assert out.returncode == 1
    assert "exited with code 3" in out.stderr
