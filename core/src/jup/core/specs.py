"""Plain data that plugins return from hooks: what a frontend, kernel, magic, formatter, launcher
or subcommand is. Hooks return lists of these rather than mutating shared state."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FrontendSpec:
    """A frontend `jup run NAME` can start. `run(argv)` returns the process exit code."""

    name: str
    run: Callable[[list[str]], int]
    description: str = ""


@dataclass(frozen=True)
class KernelSpecInfo:
    """A kernel a plugin provides.

    `argv` is the launch command with `{connection_file}` in it, as in a Jupyter kernel.json.
    `inprocess_factory`, if given, is a dotted path "module:callable" that returns a kernel object
    for in-process use (imported only when asked for, so start-up stays cheap).
    `batch_factory`, if given, is a "module:callable" returning a runner for a frontend's batch runs
    (`-c`, a script) in its own process without the protocol: `runner.run(code, render)` runs one
    cell, calling `render({"msg_type": ..., "content": ...})` for each output as iopub would carry
    it, and returns the execute_reply content; `runner.close()` ends it.
    """

    name: str
    display_name: str
    language: str
    argv: list[str]
    interrupt_mode: str = "signal"  # or "message"
    env: dict[str, str] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    inprocess_factory: str | None = None
    install_name: str | None = None  # name used by `jup kernelspec install` (default: name)
    batch_factory: str | None = None

    def kernel_json(self) -> dict:
        """The kernel.json a Jupyter tool reads to start this kernel."""
        return {"argv": list(self.argv), "display_name": self.display_name, "language": self.language,
                "interrupt_mode": self.interrupt_mode, "env": dict(self.env),
                "metadata": {"jup": {"kernel": self.name}, **self.metadata}}


@dataclass(frozen=True)
class MagicSpec:
    """A line (`%name`) or cell (`%%name`) magic. `func(line)` or `func(line, cell)`;
    if `needs_shell`, the kernel's shell object is passed as keyword `shell`."""

    name: str
    func: Callable[..., Any]
    kind: str = "line"  # "line", "cell" or "both"
    needs_shell: bool = True
    help: str = ""


@dataclass(frozen=True)
class FormatterSpec:
    """Adds a display representation: for objects of `type` (a class or dotted name), `func(obj)`
    returns data for `mimetype` (or None to decline)."""

    mimetype: str
    func: Callable[[Any], Any]
    type: Any = object


@dataclass(frozen=True)
class LauncherSpec:
    """A cluster launcher (local, MPI, SSH, SLURM...): `factory(**config)` returns a launcher."""

    name: str
    factory: Callable[..., Any]
    description: str = ""


@dataclass(frozen=True)
class SubcommandSpec:
    """A `jup NAME ...` subcommand: `run(argv)` returns the exit code."""

    name: str
    run: Callable[[list[str]], int]
    description: str = ""


@dataclass(frozen=True)
class Branding:
    """How an organisation's distribution names itself."""

    name: str = "jup"
    banner: str = ""
    url: str = ""
    logo: str | None = None


def load_object(path: str) -> Any:
    """Import "module:attribute.path" (a kernelspec's factories): ImportError or AttributeError,
    which name what is missing, when it cannot be loaded."""
    import importlib

    mod, _, attr = path.partition(":")
    obj = importlib.import_module(mod)
    for part in attr.split(".") if attr else []:
        obj = getattr(obj, part)
    return obj
