"""One tree of errors a jup user or plugin author can meet.

    JupError
    ├── ConfigError            bad config file, unknown option, wrong type
    ├── PluginError            a plugin failed to load or misbehaved
    ├── ProtocolError          a message could not be accepted from the wire
    │   ├── SignatureError     missing or wrong HMAC signature
    │   ├── ReplayError        a signature seen before
    │   └── MalformedMessage   bad delimiter, truncated frames, non-JSON, too large
    ├── KernelError
    │   ├── NoSuchKernel       no kernelspec or kernel plugin by that name
    │   ├── KernelDied         the kernel process ended; says why and during which cell
    │   └── KernelTimeout      the kernel did not answer in time
    ├── FrontendError          unknown frontend name
    └── UsageError             a magic called with bad arguments: shown as `UsageError: ...`, no traceback
"""

from __future__ import annotations

import signal as _signal


class JupError(Exception):
    """Base of every error jup raises on purpose."""


class ConfigError(JupError):
    """A configuration value or file could not be used."""


class PluginError(JupError):
    """A plugin failed to load or raised inside a hook."""


class ProtocolError(JupError):
    """A message from the wire was rejected."""


class SignatureError(ProtocolError):
    """The HMAC signature is missing or does not match the key."""


class ReplayError(ProtocolError):
    """The same signature arrived twice: a replayed message."""


class MalformedMessage(ProtocolError):
    """The frames do not form a Jupyter message."""


class KernelError(JupError):
    """Something went wrong with a kernel."""


class NoSuchKernel(KernelError):
    """No kernelspec or kernel plugin has that name."""


class KernelTimeout(KernelError):
    """The kernel did not answer within the deadline."""


class FrontendError(JupError):
    """A frontend could not be found or started."""


class UsageError(JupError):
    """A magic (or similar command) was called with bad arguments. Kernels print it as
    `UsageError: <message>` on stderr, without a traceback: the message says what to type instead."""


def describe_exit(returncode: int | None, oom: bool = False) -> str:
    """Say in words why a process ended, from its return code."""
    if returncode is None:
        return "is still running"
    if returncode < 0:
        try:
            name = _signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        reason = f"was killed by {name}"
    else:
        reason = f"exited with code {returncode}"
    if oom:
        reason += " (likely out of memory)"
    return reason


class KernelDied(KernelError):
    """The kernel process ended; carries the exit code, signal and the cell that was running."""

    def __init__(self, returncode: int | None, cell: str | None = None, oom: bool = False,
                 kernel_name: str = "kernel"):
        self.returncode = returncode
        self.signal = -returncode if returncode is not None and returncode < 0 else None
        self.cell = cell
        self.oom = oom
        self.kernel_name = kernel_name
        msg = f"The {kernel_name} {describe_exit(returncode, oom)}"
        if cell:
            first = cell.strip().splitlines()[0] if cell.strip() else cell
            msg += f" while running: {first[:80]!r}"
        msg += ". Restart it to go on."
        super().__init__(msg)
