"""Drive a program in a real tmux pane the way a person would: type keys, read the screen.

Every wait polls the screen until the text shows up or a deadline passes (no fixed sleeps).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
import uuid


def terminal_argv(*args: str) -> list[str]:
    """The command a person runs: `jup run terminal` (through `python -m jup.terminal`, its twin)."""
    return [sys.executable, "-m", "jup.terminal", *args]


class Screen:
    """One detached tmux session running one command in an 100x40 pane."""

    def __init__(self, argv: list[str], env: dict[str, str] | None = None, cwd: str | None = None,
                 width: int = 100, height: int = 40):
        self.name = f"jupterm-{uuid.uuid4().hex[:8]}"
        # one tmux server per screen: on a shared socket, a new session can race the server that the
        # previous screen's kill-session is shutting down, and silently never start
        self.socket = self.name
        full_env = {**os.environ, **(env or {})}
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in (env or {}).items())
        unset = "unset NO_COLOR; " if "NO_COLOR" not in (env or {}) else ""
        cmd = f"{unset}env {exports} {shlex.join(argv)}; echo __EXIT__$?; sleep 30"
        started = subprocess.run(["tmux", "-L", self.socket, "new-session", "-d", "-s", self.name,
                                  "-x", str(width), "-y", str(height), "-c", cwd or os.getcwd(),
                                  "bash", "--norc", "--noprofile", "-c", cmd],
                                 capture_output=True, text=True, env=full_env, timeout=10)
        if started.returncode != 0:
            raise RuntimeError(f"tmux could not start {argv}: {started.stderr.strip()}")

    def _tmux(self, *args: str, env: dict | None = None) -> str:
        out = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True,
                             env=env, timeout=10)
        return out.stdout

    def type(self, text: str) -> None:
        """Type literal text (no Enter)."""
        self._tmux("send-keys", "-t", self.name, "-l", text)

    def press(self, *keys: str) -> None:
        """Press named keys: Enter, Tab, Up, C-c, C-d, C-r, Escape, Right..."""
        for k in keys:
            self._tmux("send-keys", "-t", self.name, k)

    def paste(self, text: str) -> None:
        """Paste as a terminal does: bracketed when the program asked for it."""
        self._tmux("set-buffer", "-b", self.name, text)
        self._tmux("paste-buffer", "-p", "-d", "-b", self.name, "-t", self.name)

    def line(self, text: str) -> None:
        self.type(text)
        self.press("Enter")

    def text(self, escapes: bool = False) -> str:
        """The whole pane plus scrollback, as plain text (or with colour escapes)."""
        args = ["capture-pane", "-p", "-J", "-S", "-200", "-t", self.name]
        if escapes:
            args.insert(2, "-e")
        return self._tmux(*args)

    def wait_for(self, pattern: str, timeout: float = 20.0, count: int = 1, escapes: bool = False) -> str:
        """Wait until `pattern` (a regex) occurs `count` times on screen; return the screen."""
        rx = re.compile(pattern, re.M)
        deadline = time.monotonic() + timeout
        screen = ""
        for _ in range(100_000):
            screen = self.text(escapes)
            if len(rx.findall(screen)) >= count:
                return screen
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)  # polling interval of the screen, not a synchronisation delay
        raise AssertionError(f"{pattern!r} (x{count}) did not appear within {timeout} s. Screen:\n{screen}")

    def wait_last_line(self, pattern: str, timeout: float = 20.0) -> str:
        """Wait until the last non-blank line matches `pattern` (e.g. the prompt is back)."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        last = ""
        for _ in range(100_000):
            lines = [ln for ln in self.text().splitlines() if ln.strip()]
            last = lines[-1] if lines else ""
            if rx.search(last):
                return last
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)  # polling interval of the screen, not a synchronisation delay
        raise AssertionError(f"last line {last!r} did not match {pattern!r} within {timeout} s")

    def wait_prompt(self, timeout: float = 20.0) -> str:
        """Wait for an empty `In [N]:` prompt: control keys typed before it would go to the tty."""
        return self.wait_last_line(r"^In \[\d+\]:\s*$", timeout)

    def wait_exit(self, timeout: float = 20.0) -> int:
        screen = self.wait_for(r"__EXIT__\d+", timeout)
        return int(re.search(r"__EXIT__(\d+)", screen).group(1))

    def close(self) -> None:
        self._tmux("kill-server")  # this screen's own server: nothing else lives there
