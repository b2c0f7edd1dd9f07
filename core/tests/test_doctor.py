"""`jup kernels doctor`: run as a user runs it, against our kernel, ipykernel and broken kernelspecs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
JUP = str(BIN / "jup")
CHECKS = ["start", "kernel_info", "heartbeat", "execute: stream", "execute: result", "execute: error",
          "complete",
          "inspect", "is_complete", "history", "stdin", "interrupt", "restart", "shutdown", "leftovers"]


@pytest.fixture
def env(tmp_path) -> dict:
    """A private runtime dir, history file and Jupyter path, so leftovers are ours alone."""
    e = {k: v for k, v in os.environ.items() if not k.startswith("JUP_")}
    e["JUPYTER_RUNTIME_DIR"] = str(tmp_path / "runtime")
    e["JUP_HISTORY_FILE"] = str(tmp_path / "history.sqlite")
    e["JUPYTER_PATH"] = str(tmp_path / "share" / "jupyter")
    return e


def doctor(env: dict, *args: str, timeout: float = 120) -> tuple[int, dict[str, str], str]:
    """Run `jup kernels doctor ARGS`; (exit code, {check: result text}, whole output)."""
    p = subprocess.run([JUP, "kernels", "doctor", *args], env=env, capture_output=True, text=True,
                       timeout=timeout)
    rows = {}
    for line in p.stdout.splitlines():
        for name in CHECKS:
            if line.strip().startswith(name + "  "):
                rows[name] = line.strip()[len(name):].strip()
    return p.returncode, rows, p.stdout + p.stderr


def add_kernelspec(env: dict, name: str, argv: list[str], language: str = "python") -> None:
    d = Path(env["JUPYTER_PATH"]) / "kernels" / name
    d.mkdir(parents=True)
    (d / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": name, "language": language}))


def assert_all_ok(rows: dict[str, str], out: str) -> None:
    assert list(rows) == CHECKS, out
    bad = {k: v for k, v in rows.items() if not v.startswith("ok")}
    assert not bad, out


def test_our_python_kernel_passes_every_check(env):
    rc, rows, out = doctor(env, "python", "--timeout", "15")
    assert rc == 0, out
    assert_all_ok(rows, out)
    assert "interrupt_reply ok" in rows["interrupt"] and "the cell stopped" in rows["interrupt"]
    assert "all checks passed (0 skipped)" in out
    assert rows["start"].endswith(" ms")  # every check carries its time
    assert not list(Path(env["JUPYTER_RUNTIME_DIR"]).glob("kernel-*.json"))  # nothing left behind


def test_ipykernel_passes_every_check(env, tmp_path):
    from jup.core.kernelspec import find_kernel_specs
    if "python3" not in find_kernel_specs():  # register ipykernel where only this test sees it
        prefix = tmp_path / "ipk"
        subprocess.run([sys.executable, "-m", "ipykernel", "install", "--prefix", str(prefix)], check=True,
                       capture_output=True, timeout=60)
        env["JUPYTER_PATH"] = str(prefix / "share" / "jupyter")
    rc, rows, out = doctor(env, "python3", "--timeout", "15")
    assert rc == 0, out
    assert_all_ok(rows, out)
    assert rows["kernel_info"].startswith("ok: ipython")


def test_kernel_that_exits_at_once_fails_start_with_its_reason(env, tmp_path):
    script = tmp_path / "dies.py"
    script.write_text("import sys\nprint('broken kernel: libfoo.so is missing', file=sys.stderr)\n"
                      "sys.exit(3)\n")
    add_kernelspec(env, "dies-at-once", [sys.executable, str(script), "{connection_file}"])
    rc, rows, out = doctor(env, "dies-at-once", "--timeout", "10")
    assert rc == 1, out
    assert rows["start"].startswith("FAIL"), out
    assert "code 3" in rows["start"] and "libfoo.so is missing" in rows["start"], out
    assert all(rows[c].startswith("skipped: the kernel did not start") for c in CHECKS[1:-1]), out
    assert rows["leftovers"].startswith("ok"), out
    assert "FAILED: start" in out


def test_kernel_that_never_answers_fails_start_and_is_stopped(env, tmp_path):
    script = tmp_path / "silent.py"
    script.write_text("import time\nprint('listening... not really', flush=True)\ntime.sleep(120)\n")
    add_kernelspec(env, "never-answers", [sys.executable, str(script), "{connection_file}"])
    rc, rows, out = doctor(env, "never-answers", "--timeout", "5", "--start-timeout", "2")
    assert rc == 1, out
    assert rows["start"].startswith("FAIL") and "did not answer within 2" in rows["start"], out
    assert "not really" in rows["start"]  # the kernel's own output helps the user
    assert rows["leftovers"].startswith("ok"), out  # the silent process was stopped


def test_language_without_snippets_skips_what_it_cannot_know(env):
    rc, rows, out = doctor(env, "echo", "--timeout", "10")
    assert rc == 0, out
    assert rows["execute: stream"] == "skipped: no test code for language 'echo'"
    for check in ("start", "kernel_info", "heartbeat", "history", "restart", "shutdown", "leftovers"):
        assert rows[check].startswith("ok"), out


def test_a_kernel_that_dies_mid_way_is_reported_with_why(env, tmp_path):
    """A kernel that crashes on input(): stdin fails naming the exit code, the rest is skipped."""
    script = tmp_path / "fragile.py"
    script.write_text(
        "import os, sys\nfrom jup.python.kernel import PythonKernel\n\n"
        "class Fragile(PythonKernel):\n"
        "    def do_execute(self, code, *args, **kwargs):\n"
        "        if 'input(' in code:\n            os._exit(7)\n"
        "        return super().do_execute(code, *args, **kwargs)\n\n"
        "sys.exit(Fragile.main())\n")
    add_kernelspec(env, "fragile", [sys.executable, str(script), "-f", "{connection_file}"])
    rc, rows, out = doctor(env, "fragile", "--timeout", "10")
    assert rc == 1, out
    assert rows["execute: result"].startswith("ok"), out
    assert rows["stdin"].startswith("FAIL") and "code 7" in rows["stdin"], out
    assert rows["interrupt"] == "skipped: the kernel died", out
    assert rows["leftovers"].startswith("ok"), out


def test_unknown_kernel_is_a_usage_error_listing_the_installed_ones(env):
    rc, rows, out = doctor(env, "no-such-kernel")
    assert rc == 2
    assert "no kernel named 'no-such-kernel'" in out and "python" in out
    assert not rows


def test_kernels_list_and_help():
    p = subprocess.run([JUP, "kernels", "list"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and "python" in p.stdout
    p = subprocess.run([JUP, "--help"], capture_output=True, text=True, timeout=60)
    assert "kernels" in p.stdout and "doctor" in p.stdout
    p = subprocess.run([JUP, "kernels"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 2 and "doctor" in p.stderr
