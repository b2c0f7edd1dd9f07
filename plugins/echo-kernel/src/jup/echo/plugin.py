"""Declares the echo kernel to jup (entry point `echo-kernel` in group `jup.plugins`)."""

from __future__ import annotations

import sys

from jup.core import KernelSpecInfo, hookimpl


@hookimpl
def jup_kernels() -> list[KernelSpecInfo]:
    """The echo kernel, started as its own process; jup fills in {connection_file}."""
    return [KernelSpecInfo(name="echo", display_name="Echo", language="echo",
                           argv=[sys.executable, "-m", "jup.echo", "-f", "{connection_file}"],
                           interrupt_mode="signal")]
