"""Shell commands from the kernel: `!cmd` streams its output live into the cell, `x = !cmd` captures
it as an :class:`SList`. `$var` / `{expr}` interpolation is the shell's job (`var_expand`) before
these are called."""

from __future__ import annotations

import codecs
import os
import re
import selectors
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

__all__ = ["SList", "system", "getoutput", "shell_argv"]


def shell_argv(cmd: str) -> list[str]:
    """The argv that runs `cmd` in the user's shell: bash when present (what users type is bash),
    else /bin/sh; on Windows, cmd.exe."""
    if os.name == "nt":
        return [os.environ.get("COMSPEC", "cmd.exe"), "/c", cmd]
    sh = shutil.which("bash") or "/bin/sh"
    return [sh, "-c", cmd]


def _write(stream: Any, text: str) -> None:
    stream.write(text)
    try:
        stream.flush()
    except (AttributeError, ValueError, OSError):
        pass


def _args(shell_or_cmd: Any, cmd: str | None) -> tuple[Any, str]:
    """Both `f(shell, cmd)` and `f(cmd)` are accepted (the shell passes itself or not)."""
    return (None, shell_or_cmd) if cmd is None else (shell_or_cmd, cmd)


def system(shell_or_cmd: Any, cmd: str | None = None) -> int:
    """Run `cmd` in a shell, copying its stdout and stderr into `sys.stdout` / `sys.stderr` as they
    arrive, so a long command shows progress in the cell. Returns the exit code (negative: signal)
    and, given the shell, stores it in the user namespace as `_exit_code`. Ctrl-C / interrupt stops
    the command. Call as `system(shell, cmd)` or `system(cmd)`."""
    shell, cmd = _args(shell_or_cmd, cmd)
    proc = subprocess.Popen(shell_argv(cmd), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=(os.name != "nt"))
    decoders = {proc.stdout.fileno(): (codecs.getincrementaldecoder("utf-8")("replace"), "stdout"),
                proc.stderr.fileno(): (codecs.getincrementaldecoder("utf-8")("replace"), "stderr")}
    sel = selectors.DefaultSelector()
    for pipe in (proc.stdout, proc.stderr):
        sel.register(pipe, selectors.EVENT_READ)
    try:
        open_fds = set(decoders)
        while open_fds:  # ends when the command closes both pipes (it exits or is killed)
            for key, _ in sel.select():
                fd = key.fileobj.fileno()
                data = os.read(fd, 65536)
                dec, name = decoders[fd]
                if not data:
                    sel.unregister(key.fileobj)
                    open_fds.discard(fd)
                    text = dec.decode(b"", final=True)
                else:
                    text = dec.decode(data)
                if text:
                    _write(getattr(sys, name), text)
        code = proc.wait()
    except KeyboardInterrupt:
        _stop(proc)
        raise
    finally:
        sel.close()
        proc.stdout.close()
        proc.stderr.close()
    ns = getattr(shell, "user_ns", None)
    if isinstance(ns, dict):
        ns["_exit_code"] = code
    return code


def _stop(proc: subprocess.Popen) -> None:
    """Interrupt the command's whole process group, then kill it if it does not stop in 2 s."""
    if proc.poll() is not None:
        return
    try:
        if os.name != "nt":
            os.killpg(proc.pid, signal.SIGINT)
        else:
            proc.terminate()
        proc.wait(timeout=2)
    except subprocess.TimeoutExpired:
        if os.name != "nt":
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()
        proc.wait(timeout=5)
    except ProcessLookupError:
        pass


def getoutput(shell_or_cmd: Any, cmd: str | None = None) -> SList:
    """Run `cmd` and return its output (stdout and stderr together, as a terminal shows them) as an
    SList of lines. Call as `getoutput(shell, cmd)` or `getoutput(cmd)`."""
    shell, cmd = _args(shell_or_cmd, cmd)
    proc = subprocess.Popen(shell_argv(cmd), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=(os.name != "nt"))
    try:
        out, _ = proc.communicate()
    except KeyboardInterrupt:
        _stop(proc)
        raise
    ns = getattr(shell, "user_ns", None)
    if isinstance(ns, dict):
        ns["_exit_code"] = proc.returncode
    return SList(out.decode("utf-8", "replace").splitlines())


_NUMBER = re.compile(r"[-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?")


class SList(list):
    """The lines a shell command printed, with shortcuts for the usual follow-ups: `.s` (one line,
    space-separated), `.n` (newline-joined), `.l` (plain list), `.p` (paths of existing files),
    `.grep()`, `.fields()` and `.sort(field, nums)`."""

    @property
    def l(self) -> list[str]:  # noqa: E743 - the name users know
        return list(self)

    @property
    def s(self) -> str:
        return " ".join(self)

    @property
    def n(self) -> str:
        return "\n".join(self)

    @property
    def p(self) -> list[Path]:
        return [Path(line) for line in self if os.path.exists(line)]

    def grep(self, pattern: str | Callable[[str], Any], prune: bool = False,
             field: int | None = None) -> SList:
        """Lines matching `pattern` (a regex, or a predicate); `prune=True` keeps the others instead.
        With `field`, match only that whitespace-separated column (negative counts from the end)."""
        if callable(pattern):
            pred = pattern
        else:
            rx = re.compile(pattern, re.IGNORECASE)
            pred = rx.search

        def hit(line: str) -> bool:
            target = line
            if field is not None:
                parts = line.split()
                try:
                    target = parts[field]
                except IndexError:
                    return False
            return bool(pred(target))

        return SList(line for line in self if hit(line) != prune)

    def fields(self, *idx: int) -> SList:
        """Pick whitespace-separated columns: `fields(0)` first column, `fields(-1, 0)` last then
        first (joined by a space). Lines without a requested column are left out of it."""
        result = SList()
        for line in self:
            parts = line.split()
            if not idx:
                result.append(line)
                continue
            picked = [parts[i] for i in idx if -len(parts) <= i < len(parts)]
            if picked:
                result.append(" ".join(picked))
        return result

    def sort(self, field: int | None = None, nums: bool = False, *,  # type: ignore[override]
             key: Callable[[str], Any] | None = None, reverse: bool = False) -> SList:
        """Return a new SList sorted by a column (`field`), numerically if `nums`; lines without
        that column sort first. Plain `key=` sorting works as for a list."""
        if key is None:
            def key(line: str) -> Any:
                target = line
                if field is not None:
                    parts = line.split()
                    target = parts[field] if -len(parts) <= field < len(parts) else ""
                if nums:
                    m = _NUMBER.search(target)
                    return (0, float(m.group())) if m else (-1, 0.0)
                return target
        return SList(sorted(self, key=key, reverse=reverse))

    def __getitem__(self, item: Any) -> Any:
        got = super().__getitem__(item)
        return SList(got) if isinstance(item, slice) else got

    def __add__(self, other: Iterable[str]) -> SList:  # type: ignore[override]
        return SList(list(self) + list(other))

    def __repr__(self) -> str:
        return f"SList({list.__repr__(self)})"

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        """`Out[n]` shows the lines as a plain list, one per line when long, as IPython does."""
        p.pretty(list(self))
