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


def test_existing_kernel_keeps_its_state_between_runs(run_batch, private_env, tmp_path):
    import os
    import subprocess
    import sys
    import time

    runtime = private_env["JUPYTER_RUNTIME_DIR"]
    os.makedirs(runtime, exist_ok=True)
    cf = os.path.join(runtime, f"kernel-term-{os.getpid()}.json")
    kernel = subprocess.Popen([sys.executable, "-m", "ipykernel_launcher", "-f", cf],
                              env={**os.environ, **private_env}, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not os.path.exists(cf) and time.monotonic() < deadline:  # bounded wait for the file
            assert kernel.poll() is None, "ipykernel failed to start"
            time.sleep(0.05)  # polling for the connection file, not a fixed delay
        first = run_batch("--existing", os.path.basename(cf), "-c", "shared = 'kept'")
        assert first.returncode == 0, first.stderr
        second = run_batch("--existing", cf, "-c", "print(shared)")
        assert second.returncode == 0, second.stderr
        assert "kept" in second.stdout
        assert kernel.poll() is None, "attaching and leaving must not shut the kernel down"
    finally:
        kernel.kill()
        kernel.wait(timeout=10)


def test_existing_without_a_kernel_says_how_to_start_one(run_batch, tmp_path):
    out = run_batch("--existing", "-c", "1", env={"JUPYTER_RUNTIME_DIR": str(tmp_path / "empty")})
    assert out.returncode == 2
    assert "No running kernel" in out.stderr or "No connection file" in out.stderr


def test_jup_run_terminal_is_the_same_frontend(private_env):
    import os
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    jup = shutil.which("jup", path=str(Path(sys.executable).parent))
    assert jup, "the jup command is installed with jup-core"
    out = subprocess.run([jup, "run", "terminal", "-c", "print(1+1)"], capture_output=True, text=True,
                         env={**os.environ, **private_env}, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "2"


def test_a_kernel_in_another_language(run_batch):
    out = run_batch("--kernel", "echo", "-c", "hello there")
    assert out.returncode == 0, out.stderr
    assert "hello there" in out.stdout


HEAVY = ("asyncio", "prompt_toolkit", "traitlets", "stevedore", "importlib.metadata", "jedi", "pygments")
_REPORT_HEAVY = f"import sys; print('heavy:', sorted(m for m in {HEAVY!r} if m in sys.modules))"


def test_c_run_stays_light(run_batch, private_env):
    """`-c` on the in-process kernel (this process) loads no shell, event loop, config or scan machinery:
    that is what keeps `jup run terminal -c ...` faster to start than `ipython -c ...`."""
    # only jup's own plugins: a test fixture plugin may import what it likes
    only_ours = {"JUP_ALLOW_PLUGINS": "python,magics,terminal"}
    out = run_batch("-c", _REPORT_HEAVY, env=only_ours)
    assert out.returncode == 0, out.stderr
    assert "heavy: []" in out.stdout, out.stdout
    import os
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    jup = shutil.which("jup", path=str(Path(sys.executable).parent))
    out = subprocess.run([jup, "run", "terminal", "-c", _REPORT_HEAVY], capture_output=True, text=True,
                         env={**os.environ, **private_env, **only_ours}, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "heavy: []" in out.stdout, "the jup command loads config only when there is some: " + out.stdout


def test_c_run_with_a_config_file_still_applies_it(run_batch, private_env):
    """The light path reads config when there is some: Plugins.blocked in the user's file is honoured."""
    import json
    from pathlib import Path

    folder = Path(private_env["JUP_CONFIG_DIR"]) / "light-path"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "jup_config.json").write_text(json.dumps({"Plugins": {"blocked": ["magics"]}}))
    out = run_batch("-c", "%time 1", env={"JUP_CONFIG_DIR": str(folder)})
    assert out.returncode == 1 and "`%time` not found" in out.stderr + out.stdout  # no magics plugin
    out = run_batch("-c", "%time 1")
    assert out.returncode == 0, out.stderr
