"""Start-up as a person meets it: the instant prompt (banner and `In [1]:` at once, keys typed before
the shell is ready kept, the terminal left as it was) and batch runs that stay light.

A start is held at a known point by a config file that waits for a "gate" file the test creates:
a slow start made deterministic, so keys are surely typed before the shell is ready.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import termios
import time
from pathlib import Path

import pexpect
import pytest
from tmuxterm import Screen, terminal_argv

PROMPT1 = r"In \[(?:\x1b\[[0-9;]*m)*1(?:\x1b\[[0-9;]*m)*\]:"

GATED_CONFIG = '''
import os, time
_gate = os.environ.get("JUP_TEST_GATE")
if _gate:
    open(_gate + ".reached", "w").close()
    for _ in range(600):  # the test opens the gate; bounded at 30 s
        if os.path.exists(_gate):
            break
        time.sleep(0.05)
    if os.path.exists(_gate) and open(_gate).read().strip() == "raise":
        raise RuntimeError("the test made this config fail")
'''


@pytest.fixture
def gated(private_env, tmp_path):
    """An environment whose starts wait at config loading until `open_gate()` (or fail there)."""
    config = tmp_path / "config"
    config.mkdir()
    (config / "jup_config.py").write_text(GATED_CONFIG)
    gate = tmp_path / "gate"
    env = {**private_env, "JUP_CONFIG_DIR": str(config), "JUP_DATA_DIR": str(tmp_path / "data"),
           "JUP_TEST_GATE": str(gate)}
    return env, gate


def _spawn(env: dict, *args: str) -> pexpect.spawn:
    full = {**os.environ, **env}
    full.pop("NO_COLOR", None)
    argv = terminal_argv(*args)
    child = pexpect.spawn(argv[0], argv[1:], env=full, encoding="utf-8", dimensions=(40, 100), timeout=30)
    child.delaybeforesend = None
    return child


def _wait_file(path: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    for _ in range(100_000):
        if path.exists():
            return
        if time.monotonic() > deadline:
            break
        time.sleep(0.02)  # polling a file the child writes, not a synchronisation delay
    raise AssertionError(f"{path} did not appear within {timeout} s: the start never reached the gate")


def _screen(env: dict, *args: str) -> Screen:
    """The shell in a tmux pane, started once the pane is set up: a program that starts with the
    pane can see its first lines scrolled away as tmux sizes the new pane (not so in a terminal)."""
    s = Screen(["bash", "-c", f"read -r _; exec {shlex.join(terminal_argv(*args))}"], env=env)
    s.wait_for(r"\A", timeout=5)
    s.press("Enter")
    return s


def _remember(env: dict, gate: Path, *args: str) -> None:
    """One ordinary start, so the next one has a prompt to show at once."""
    gate.write_text("open")
    child = _spawn(env, *args)
    try:
        child.expect(PROMPT1)
    finally:
        child.close(force=True)
    gate.unlink()
    Path(f"{gate}.reached").unlink(missing_ok=True)


def _held_at_the_early_prompt(env: dict, gate: Path) -> pexpect.spawn:
    """A start (after one that left a prompt to show) whose early prompt is up while the start
    itself waits at the gate."""
    _remember(env, gate)
    child = _spawn(env)
    try:
        child.expect(PROMPT1)
        _wait_file(Path(f"{gate}.reached"))
    except BaseException:
        child.close(force=True)
        raise
    return child


def _exit_at_the_prompt(s: Screen) -> None:
    """Ctrl-D at a ready prompt, confirmed: the session ends with status 0."""
    s.wait_prompt()
    s.press("C-d")
    s.wait_for(r"exit")
    s.line("y")
    assert s.wait_exit() == 0


def _modes(fd: int) -> tuple[int, int]:
    iflag, _, _, lflag, *_ = termios.tcgetattr(fd)
    return iflag, lflag


def _assert_cooked(fd: int) -> None:
    iflag, lflag = _modes(fd)
    assert lflag & termios.ECHO and lflag & termios.ICANON, "echo and line editing are back on"
    assert iflag & termios.ICRNL, "Enter is translated again, as the terminal had it"


def test_keys_typed_before_the_shell_is_ready_show_once_and_run(gated):
    env, gate = gated
    _remember(env, gate)
    s = _screen(env)
    try:
        s.wait_for(r"In \[1\]: ")
        _wait_file(Path(f"{gate}.reached"))  # the shell is held: what we type now is typed ahead
        s.type("print(6 * 7)")
        s.press("Enter")
        before = s.text()
        assert "print(6 * 7)" not in before, "typed-ahead keys are not echoed by the terminal"
        gate.write_text("open")
        screen = s.wait_for(r"^42$")
        assert screen.count("In [1]:") == 1, screen
        assert re.search(r"^In \[1\]: print\(6 \* 7\)$", screen, re.M), screen
        assert screen.count("print(6 * 7)") == 1, "each key shows once"
        assert re.search(r"kernel python .*python 3\.\d+", screen), "the banner is there, once"
        assert len(re.findall(r"kernel python", screen)) == 1, screen
        _exit_at_the_prompt(s)
    finally:
        s.close()


def test_a_changed_banner_and_startup_output_are_put_right(gated):
    env, gate = gated
    _remember(env, gate)
    cache = Path(env["JUP_DATA_DIR"]) / "terminal" / "instant-prompt.json"
    data = json.loads(cache.read_text())
    data[""]["pre_text"] = "an old banner\nwith two lines\n\n"  # as if a plugin changed the branding
    cache.write_text(json.dumps(data))
    config = Path(env["JUP_CONFIG_DIR"]) / "jup_config.py"
    stat = config.stat()
    config.write_text(GATED_CONFIG + "\nprint('a note printed while starting')\n")
    os.utime(config, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # the same file as far as the stamp goes
    s = _screen(env)
    try:
        s.wait_for(r"an old banner")
        _wait_file(Path(f"{gate}.reached"))
        gate.write_text("open")
        screen = s.wait_for(r"kernel python")
        s.wait_prompt()
        screen = s.text()
        assert "an old banner" not in screen and "with two lines" not in screen, screen
        assert screen.count("In [1]:") == 1, screen
        assert screen.index("a note printed while starting") < screen.index("kernel python"), \
            "output printed during the start shows above the banner"
        s.line("1 + 1")
        s.wait_for(r"Out\[1\]: 2")
    finally:
        s.close()


def test_terminal_modes_are_restored_after_exit(gated):
    env, gate = gated
    child = _held_at_the_early_prompt(env, gate)
    try:
        assert not _modes(child.child_fd)[1] & termios.ECHO, "the early prompt keeps typing unechoed"
        gate.write_text("open")
        child.send("7 * 6\r")
        child.expect("42")
        child.expect(r"In \[(?:\x1b\[[0-9;]*m)*2")  # the next prompt is up: Ctrl-D goes to it
        child.sendcontrol("d")
        child.expect("exit")
        child.send("y\r")
        child.expect(pexpect.EOF)
        _assert_cooked(child.child_fd)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0


def test_a_failed_start_leaves_the_terminal_and_screen_clean(gated):
    env, gate = gated
    child = _held_at_the_early_prompt(env, gate)
    try:
        gate.write_text("raise")
        child.expect("the test made this config fail")
        child.expect(pexpect.EOF)
        _assert_cooked(child.child_fd)
    finally:
        child.close(force=True)
    assert child.exitstatus not in (0, None)

    s = _screen(env)  # the same, as the person sees it
    try:
        s.wait_exit()
        screen = s.text()
        assert "the test made this config fail" in screen
        assert "In [1]:" not in screen and "kernel python" not in screen, "the early prompt is taken away"
    finally:
        s.close()


def test_sigterm_while_starting_restores_the_terminal(gated):
    env, gate = gated
    child = _held_at_the_early_prompt(env, gate)
    try:
        child.kill(signal.SIGTERM)
        child.expect(pexpect.EOF)
        _assert_cooked(child.child_fd)
    finally:
        child.close(force=True)
    assert child.signalstatus == signal.SIGTERM, "it still dies of SIGTERM, as a shell expects"


@pytest.mark.parametrize("how", ["command line", "config file"])
def test_instant_prompt_can_be_turned_off(gated, how):
    env, gate = gated
    args: tuple[str, ...] = ()
    if how == "command line":
        args = ("--TerminalShell.instant_prompt=False",)
    else:
        config = Path(env["JUP_CONFIG_DIR"]) / "jup_config.py"
        config.write_text(GATED_CONFIG + "\nc.TerminalShell.instant_prompt = False\n")
    _remember(env, gate, *args)
    child = _spawn(env, *args)
    try:
        _wait_file(Path(f"{gate}.reached"))
        assert _modes(child.child_fd)[1] & termios.ECHO, "the terminal is left alone while starting"
        try:
            child.read_nonblocking(4096, timeout=0)
            shown = child.before or ""
        except (pexpect.TIMEOUT, pexpect.EOF):
            shown = ""
        assert "In [" not in shown
        gate.write_text("open")
        child.expect(PROMPT1)
    finally:
        child.close(force=True)


def test_no_instant_prompt_without_a_terminal(gated):
    env, gate = gated
    gate.write_text("open")
    for _ in range(2):  # a second start would have a prompt to show on a terminal
        out = subprocess.run(terminal_argv(), input="print('piped')\n", capture_output=True, text=True,
                             env={**os.environ, **env}, timeout=60)
        assert out.returncode == 0, out.stderr
        assert out.stdout == "piped\n", "no prompt, banner or escape codes in piped output"
    assert not (Path(env["JUP_DATA_DIR"]) / "terminal" / "instant-prompt.json").exists()


def test_the_batch_path_imports_no_editor_or_zmq(private_env):
    probe = ("import sys; print(sorted(m for m in ('prompt_toolkit', 'pygments', 'zmq', 'asyncio') "
             "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-m", "jup.terminal", "-c", probe], capture_output=True, text=True,
                         env={**os.environ, **private_env}, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("[]"), out.stdout


BATCH_CASES = [
    pytest.param(["-c", "1 + 1"], "", id="result"),
    pytest.param(["-c", "print('no newline', end='')"], "", id="partial-line"),
    pytest.param(["-c", "1 / 0"], "", id="error"),
    pytest.param(["-c", "import sys; sys.exit(3)"], "", id="sys.exit"),
    pytest.param(["-c", "import sys; print('to stderr', file=sys.stderr)"], "", id="stderr"),
    pytest.param(["-c", "from IPython.display import display, HTML; display(HTML('<b>x</b>'))"], "", id="rich"),
    pytest.param(["-c", "x = input('name? '); print(x * 2)"], "ab\n", id="input"),
    pytest.param(["-c", "input('name? ')"], "", id="input-at-eof"),
    pytest.param(["-c", "%load_ext no_such_extension_here"], "", id="magic-error"),
    pytest.param(["-c", "def f(:"], "", id="syntax-error"),
    pytest.param(["-m", "json.tool", "--no-such-flag"], "", id="module-fails"),
    pytest.param(["/no/such/script.py"], "", id="missing-script"),
    pytest.param([], "a = 6\nprint(a * 7)\n", id="piped-code"),
]


@pytest.mark.parametrize(("args", "stdin"), BATCH_CASES)
def test_batch_runs_match_a_real_kernel(run_batch, args, stdin):
    """The in-process batch path (no kernel) prints and exits exactly as a run on a kernel process."""
    fast = run_batch(*args, stdin=stdin)
    kernel = run_batch("--kernel", "python", *args, stdin=stdin)
    assert (fast.returncode, fast.stdout) == (kernel.returncode, kernel.stdout)
    if "input(" in " ".join(args) and not stdin:  # the traceback shows the kernel's own frames there
        assert fast.stderr.strip().splitlines()[-1] == kernel.stderr.strip().splitlines()[-1]
    else:
        assert fast.stderr == kernel.stderr


def test_installing_a_distribution_sets_the_remembered_prompt_aside(gated, tmp_path):
    """A new plugin may brand the banner or configure the shell: the start after an install shows no
    early prompt (and remembers anew), the one after that shows it again."""
    env, gate = gated
    site = tmp_path / "site"
    site.mkdir()
    env = {**env, "PYTHONPATH": str(site)}
    _remember(env, gate)

    def early_prompt_shown() -> bool:
        child = _spawn(env)
        try:
            _wait_file(Path(f"{gate}.reached"))
            shown = not _modes(child.child_fd)[1] & termios.ECHO
            gate.write_text("open")
            child.expect(PROMPT1)
        finally:
            child.close(force=True)
            gate.unlink()
            Path(f"{gate}.reached").unlink()
        return shown

    assert early_prompt_shown()
    (site / "newplugin-1.0.dist-info").mkdir()  # what `pip install` leaves in site-packages
    assert not early_prompt_shown(), "the first start after an install is an ordinary one"
    assert early_prompt_shown()
    (site / "newplugin-1.0.dist-info").rmdir()  # and `pip uninstall`
    assert not early_prompt_shown()


HELLO_PLUGIN = '''
from jup.core import MagicSpec, hookimpl


def hello(line):
    print("hello from a plugin,", line)


@hookimpl
def jup_magics(language):
    return [MagicSpec("hello_plugin", hello, needs_shell=False)] if language == "python" else []
'''


def test_a_plugin_installed_or_removed_shows_on_the_next_batch_run(run_batch, tmp_path):
    """Batch runs discover plugins afresh each time: nothing cached can hide an install or removal."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "hello_plugin_mod.py").write_text(HELLO_PLUGIN)
    env = {"PYTHONPATH": str(site)}
    before = run_batch("-c", "%hello_plugin world", env=env)
    assert before.returncode == 1 and "hello_plugin" in before.stderr, "not installed yet: no such magic"

    dist = site / "hello_plugin-1.0.dist-info"  # what `pip install` writes
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: hello-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[jup.plugins]\nhello = hello_plugin_mod\n")
    installed = run_batch("-c", "%hello_plugin world", env=env)
    assert (installed.returncode, installed.stdout) == (0, "hello from a plugin, world\n"), installed.stderr

    for path in dist.iterdir():  # and `pip uninstall`
        path.unlink()
    dist.rmdir()
    removed = run_batch("-c", "%hello_plugin world", env=env)
    assert removed.returncode == 1 and "hello from a plugin" not in removed.stdout


def test_ctrl_c_at_the_early_prompt_drops_the_typed_line_and_the_session_goes_on(gated):
    env, gate = gated
    _remember(env, gate)
    s = _screen(env)
    try:
        s.wait_for(r"In \[1\]: ")
        _wait_file(Path(f"{gate}.reached"))
        s.type("print('dropped')")
        s.press("C-c")
        s.type("print(6 * 7)")
        s.press("Enter")
        gate.write_text("open")
        screen = s.wait_for(r"^42$")
        assert "dropped" not in screen, screen
        assert screen.count("In [1]:") == 1, screen
        _exit_at_the_prompt(s)
    finally:
        s.close()


def test_two_quick_ctrl_c_at_the_early_prompt_stop_a_start_that_seems_stuck(gated):
    env, gate = gated
    child = _held_at_the_early_prompt(env, gate)
    try:
        child.sendintr()
        child.expect(PROMPT1)  # the first Ctrl-C redraws the prompt line and the start goes on
        child.sendintr()
        child.expect(pexpect.EOF)
        child.close()
        assert child.exitstatus == 130 or child.signalstatus == signal.SIGINT
    finally:
        child.close(force=True)
        gate.write_text("open")
