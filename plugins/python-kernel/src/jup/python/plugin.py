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
        inprocess_factory="jup.python.kernel:PythonKernel")]
