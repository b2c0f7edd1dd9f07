"""Fixtures for driving `jup run terminal` as a person would: a private environment and a tmux screen."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from tmuxterm import Screen, terminal_argv  # noqa: E402, F401 (terminal_argv: for the fixtures below)

PYTHON = sys.executable


@pytest.fixture(scope="session")
def private_env(tmp_path_factory) -> dict[str, str]:
    """Isolated history/config/runtime dirs, and ipykernel's spec installed into a temp prefix."""
    root = tmp_path_factory.mktemp("jupterm")
    prefix = root / "prefix"
    subprocess.run([PYTHON, "-m", "ipykernel", "install", "--prefix", str(prefix), "--name", "python3"],
                   check=True, capture_output=True, timeout=120)
    env = {
        "JUPYTER_PATH": str(prefix / "share" / "jupyter"),
        "JUPYTER_RUNTIME_DIR": str(root / "runtime"),
        "JUPYTER_DATA_DIR": str(root / "data"),
        "JUP_DATA_DIR": str(root / "jupdata"),
        "JUP_CONFIG_DIR": str(root / "config"),
        "IPYTHONDIR": str(root / "ipython"),
        "PAGER": "cat",
        "PYTHONDONTWRITEBYTECODE": "1",
        "TERM": "xterm-256color",
    }
    return env


@pytest.fixture
def run_batch(private_env):
    """Run the terminal frontend without a tty; returns the CompletedProcess."""
    def run(*args: str, stdin: str | None = None, env: dict | None = None, timeout: float = 120):
        full = {**os.environ, **private_env, **(env or {})}
        if env is None or "NO_COLOR" not in env:
            full.pop("NO_COLOR", None)
        return subprocess.run(terminal_argv(*args), input=stdin, capture_output=True, text=True,
                              env=full, timeout=timeout, cwd=private_env["JUP_DATA_DIR"].rsplit("/", 1)[0])
    return run


@pytest.fixture
def screen(private_env):
    """Start the shell in tmux: screen(*args, env=...) -> Screen; closed after the test."""
    opened: list[Screen] = []

    def start(*args: str, env: dict | None = None) -> Screen:
        s = Screen(terminal_argv(*args), env={**private_env, **(env or {})})
        opened.append(s)
        return s

    yield start
    for s in opened:
        s.close()
