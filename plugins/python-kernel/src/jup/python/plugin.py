"""The kernel's entry point into jup: tells the plugin host that a `python` kernel exists."""

from __future__ import annotations

import sys

from jup.core import KernelSpecInfo, hookimpl


@hookimpl
def jup_kernels() -> list:
    """The Python kernel, launched as `python -m jup.python -f CONNECTION_FILE`."""
    return [KernelSpecInfo(
        name="python", display_name="Python 3 (jup)", language="python",
        argv=[sys.executable, "-m", "jup.python", "-f", "{connection_file}"],
        interrupt_mode="message", install_name="jup-python",  # interrupt_reply says if it worked
        inprocess_factory="jup.python.kernel:PythonKernel", batch_factory="jup.python.batch:BatchShell")]


@hookimpl
def jup_kernel_startup(kernel) -> None:
    """Warm jedi up in the background once the kernel has been idle for a second, so the first
    Tab answers within the deadline while start-up stays cheap (nothing is imported before)."""
    if getattr(kernel, "implementation", "") != "jup-python":
        return
    after = _warmup_delay()
    if after is None:
        return
    from jup.python import eventloops
    sched = eventloops.scheduler(kernel)
    if sched is not None:
        sched.call_when_idle(lambda: kernel.shell.completer.warm_up(), after=after)


#: Default: no warm-up. Issue 13 wants an idle kernel cheap (jedi costs ~33 MiB resident), so
#: jedi loads on the first completion request; names from the namespace never wait for it.
WARMUP_AFTER_IDLE: float | None = None


def _warmup_delay() -> float | None:
    """JUP_COMPLETER_WARMUP: seconds of idleness before the warm-up, or "off" for none (then jedi
    loads on the first completion request)."""
    import os
    value = os.environ.get("JUP_COMPLETER_WARMUP", "").strip().lower()
    if value in ("off", "no", "false", "never"):
        return None
    try:
        return max(0.0, float(value)) if value else WARMUP_AFTER_IDLE
    except ValueError:
        return WARMUP_AFTER_IDLE  # an unreadable value keeps the default
