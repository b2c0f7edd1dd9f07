"""The instant prompt: the banner and `In [1]: ` on screen in the first milliseconds of a start.

prompt_toolkit and the kernel take ~150 ms to be ready; a person can start typing long before. As
soon as the shell knows it will be interactive on a terminal, it prints what the previous session
showed (remembered in `<jup data dir>/terminal/instant-prompt.json`) and turns the terminal's echo
and line editing off, so keys typed meanwhile wait in the terminal's input queue, neither echoed
nor lost. When the real prompt is about to be drawn, the screen is corrected if the banner changed,
the cursor goes back to the start of the prompt line and the person's terminal modes are restored;
prompt_toolkit then draws its prompt over ours and reads the keys typed ahead.

Only the standard library is imported here (no prompt_toolkit, traitlets or jup.core config).
A remembered prompt is used only while the config files, the installed distributions and the
`--TerminalShell.*` options are those of the session that remembered it; otherwise that start goes
without, and remembers anew. Turned off by `TerminalShell.instant_prompt = False`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

CACHE_NAME = "instant-prompt.json"
OPTION = "--TerminalShell.instant_prompt="
_OFF = ("0", "false", "no", "off")
PASTE_ON, PASTE_OFF = "\x1b[?2004h", "\x1b[?2004l"

_session: _Session | None = None


def _cache_path() -> str:
    from jup.core.paths import jup_data_dir
    return os.path.join(jup_data_dir(), "terminal", CACHE_NAME)


def _stamp(overrides: list[str]) -> list:
    """What a remembered prompt depends on: config files, installed distributions (a plugin may
    brand the banner or configure the shell) and command-line options, by modification time."""
    from jup.core.paths import jup_config_dir, jup_system_config_dirs
    files = []
    for folder in [*jup_system_config_dirs(), jup_config_dir()]:
        for name in ("jup_config.py", "jup_config.json"):
            path = os.path.join(folder, name)
            try:
                files.append([path, os.stat(path).st_mtime_ns])
            except OSError:
                pass
    dirs = []
    cwd = os.getcwd()
    for entry in sys.path[1:]:  # [0] is the script's folder (`jup`'s bin dir) or the working dir:
        if entry in ("", cwd):  # it differs between `jup run terminal` and `python -m jup.terminal`,
            continue            # and where the person works changes all the time; plugins live elsewhere
        try:
            dirs.append([entry, os.stat(entry or ".").st_mtime_ns])
        except OSError:
            pass
    return [files, dirs, sorted(overrides), sys.version]


def _read_cache(path: str) -> dict:
    import json
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _visible_rows(text: str, columns: int) -> int:
    """How many screen rows `text` (lines ending in newlines, no escapes) moves the cursor down."""
    rows = 0
    for line in text.split("\n")[:-1]:
        rows += max(1, -(-len(line) // max(columns, 1)))
    return rows


class _Held:
    """Stands in for sys.stdout/sys.stderr while the early prompt is up: what is written (a plugin's
    warning, say) waits and is shown above the banner once the screen is fixed up."""

    def __init__(self, real: Any):
        self._real = real
        self._parts: list[str] = []
        self.holding = True

    def write(self, text: str) -> int:
        if self.holding:
            self._parts.append(text)
            return len(text)
        return self._real.write(text)

    def flush(self) -> None:
        if not self.holding:
            self._real.flush()

    def take(self) -> str:
        self.holding = False
        text, self._parts = "".join(self._parts), []
        return text

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


class EarlyPrompt:
    """The banner and prompt printed before the shell is ready, with the terminal modes to restore."""

    def __init__(self, fd_in: int, fd_out: int, saved: list, pre_text: str, rows: int):
        self.fd_in, self.fd_out = fd_in, fd_out
        self.saved = saved  # the person's terminal modes
        self.pre_text = pre_text  # the banner as printed (the prompt follows it)
        self.rows = rows  # screen rows from the banner's first line to the prompt's
        self.done = False
        self.held: list[_Held] = []
        self._previous_term: Any = None
        self._previous_int: Any = None
        self._last_int = 0.0
        self.prompt = ""  # the prompt as drawn (with its colours)

    def _write(self, text: str) -> None:
        data = text.encode(getattr(sys.__stdout__, "encoding", None) or "utf-8", "replace")
        for _ in range(1000):  # a tty takes it all at once; bounded in case it does not
            if not data:
                return
            try:
                data = data[os.write(self.fd_out, data):]
            except InterruptedError:
                continue
            except OSError:
                return

    def _restore(self) -> None:
        """The person's terminal modes, the real sys.stdout/sys.stderr and SIGTERM's handler."""
        import signal
        import termios
        self.done = True
        try:  # TCSANOW: keys typed ahead stay in the input queue (TCSAFLUSH would drop them)
            termios.tcsetattr(self.fd_in, termios.TCSANOW, self.saved)
        except (termios.error, OSError):
            pass
        held = "".join(h.take() for h in self.held)
        for name, h in (("stdout", self.held[0]), ("stderr", self.held[1])) if self.held else ():
            if getattr(sys, name) is h:
                setattr(sys, name, h._real)
        for signum, previous in ((signal.SIGTERM, self._previous_term),
                                 (signal.SIGINT, self._previous_int)):
            if previous is not None:
                try:
                    signal.signal(signum, previous)
                except ValueError:  # not the main thread
                    pass
        self._held_text = held

    def release(self, pre_text: str | None = None) -> None:
        """Just before prompt_toolkit draws: fix the screen if the banner changed (or something was
        printed meanwhile), put the cursor at the start of the prompt line, give the modes back."""
        if self.done:
            return
        self._restore()
        held = self._held_text
        if (pre_text is not None and pre_text != self.pre_text) or held:
            up = f"\x1b[{self.rows}A" if self.rows else ""
            self._write(f"\r{up}\x1b[J{held}{self.pre_text if pre_text is None else pre_text}")
        self._write("\r")

    def cancel(self) -> None:
        """The shell will not take over (an error, Ctrl-C, turned off): take our text off the screen,
        show what was held back, restore the modes."""
        if self.done:
            return
        self._restore()
        up = f"\x1b[{self.rows}A" if self.rows else ""
        self._write(f"{PASTE_OFF}\r{up}\x1b[J{self._held_text}")

    def _on_sigint(self, signum: int, frame: Any) -> None:
        """Ctrl-C at the early prompt does what it does at a ready one: what was typed is dropped
        (the terminal empties its input queue itself as it sends the signal) and the session goes
        on. A second Ctrl-C within a second stops a start that seems stuck, as Ctrl-C always did."""
        import time
        now = time.monotonic()
        if now - self._last_int < 1.0:
            self.cancel()
            raise KeyboardInterrupt
        self._last_int = now
        self._write(f"\r\x1b[K{self.prompt}")  # the line drawn afresh, as a ready shell does

    def _on_sigterm(self, signum: int, frame: Any) -> None:
        import signal
        previous = self._previous_term
        self.cancel()
        if callable(previous):
            previous(signum, frame)
        else:  # the default action, as if we had never caught it
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)


class _Session:
    def __init__(self, key: str, overrides: list[str]):
        self.key, self.overrides = key, overrides
        self.path = _cache_path()
        self.cache = _read_cache(self.path)
        self.stamp = _stamp(overrides)
        self.early: EarlyPrompt | None = None


def _wanted_by_options(overrides: list[str]) -> bool:
    for item in overrides:
        if item.startswith(OPTION) and item[len(OPTION):].strip().lower() in _OFF:
            return False
    return True


def _tty(fd: int) -> bool:
    try:
        return os.isatty(fd)
    except OSError:
        return False


def start(key: str, overrides: list[str]) -> EarlyPrompt | None:
    """Note the interactive session about to start (kernel `key`); show the early prompt when the
    terminal allows it and the previous such session left one that still applies."""
    global _session
    if not (_tty(0) and _tty(1)) or os.environ.get("TERM", "dumb") in ("dumb", "") \
            or not _wanted_by_options(overrides):
        _session = None
        return None
    _session = session = _Session(key, overrides)
    entry = session.cache.get(key)
    if not isinstance(entry, dict) or entry.get("stamp") != session.stamp or not entry.get("enabled"):
        return None
    pre_text, prompt = entry.get("pre_text"), entry.get("prompt")
    if not isinstance(pre_text, str) or not isinstance(prompt, str):
        return None
    session.early = _show(pre_text, prompt, str(entry.get("sgr") or ""))
    return session.early


def _show(pre_text: str, prompt: str, sgr: str) -> EarlyPrompt | None:
    import signal
    import termios
    try:
        saved = termios.tcgetattr(0)
        quiet = termios.tcgetattr(0)
    except termios.error:
        return None
    quiet[3] &= ~(termios.ECHO | termios.ICANON)  # lflag: typed keys wait, unechoed
    quiet[0] &= ~termios.ICRNL  # iflag: Enter stays "\r" in the queue, as prompt_toolkit reads it
    columns = os.get_terminal_size(1).columns
    early = EarlyPrompt(0, 1, saved, pre_text, _visible_rows(pre_text, columns))
    try:
        termios.tcsetattr(0, termios.TCSANOW, quiet)
    except termios.error:
        return None
    try:  # an ignored SIGTERM stays ignored: it ends nothing, so there is nothing to restore for it
        if signal.getsignal(signal.SIGTERM) is not signal.SIG_IGN:
            early._previous_term = signal.signal(signal.SIGTERM, early._on_sigterm)
        early._previous_int = signal.signal(signal.SIGINT, early._on_sigint)
    except ValueError:  # not the main thread: no handler, the modes are still restored on exit
        early._previous_term = early._previous_int = None
    early.held = [_Held(sys.stdout), _Held(sys.stderr)]
    sys.stdout, sys.stderr = early.held  # type: ignore[assignment]
    colour = sgr and "NO_COLOR" not in os.environ
    # bracketed paste on, as prompt_toolkit will have it: a paste now arrives as one paste, not lines
    early.prompt = f"\x1b[{sgr}m{prompt}\x1b[0m" if colour else prompt
    early._write(pre_text.replace("\n", "\r\n") + early.prompt + PASTE_ON)
    import atexit
    atexit.register(early.cancel)  # a last resort: `finish` normally ran long before
    return early


def hand_over(pre_text: str, prompt: str, sgr: str, enabled: bool) -> Callable[[], None] | None:
    """Called by the shell with its real banner (`pre_text`, "" without one) and first prompt, just
    before the first prompt is drawn. Remembers them for the next start. Returns the function to run
    right before prompt_toolkit takes the terminal (its `pre_run`) when the early prompt is on
    screen; None when the shell should print its banner itself."""
    session = _session
    if session is None:
        return None
    _remember(session, pre_text, prompt, sgr, enabled)
    early = session.early
    if early is None or early.done:
        return None
    if not enabled:
        early.cancel()
        return None
    return lambda: early.release(pre_text)


def _remember(session: _Session, pre_text: str, prompt: str, sgr: str, enabled: bool) -> None:
    entry = {"stamp": session.stamp, "pre_text": pre_text, "prompt": prompt, "sgr": sgr, "enabled": enabled}
    if session.cache.get(session.key) == entry:
        return
    import json
    session.cache[session.key] = entry
    tmp = f"{session.path}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(session.path), exist_ok=True)
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(session.cache, fh)
        os.replace(tmp, session.path)  # atomic: two shells starting together never read half a file
    except OSError:  # a read-only data dir: no instant prompt, nothing else lost
        try:
            os.unlink(tmp)
        except OSError:
            pass


def finish() -> None:
    """Every exit path of the shell: whatever the early prompt still holds is given back."""
    global _session
    session, _session = _session, None
    if session is not None and session.early is not None:
        session.early.cancel()
