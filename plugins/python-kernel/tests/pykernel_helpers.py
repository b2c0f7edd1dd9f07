"""Helpers the Python kernel's tests share: start a real kernel process and read what a cell sent.

A module of its own (not conftest) so that `from pykernel_helpers import ...` finds these even when
pytest collects other test directories, with their own conftest, in the same run."""

from __future__ import annotations

import sys

from jup.core.testing import KernelProcess

START_TIMEOUT = 30


def start_kernel(tmp_path, extra_env: dict | None = None) -> KernelProcess:
    """`python -m jup.python` as a process with its history and runtime files in `tmp_path`."""
    env = {"JUP_HISTORY_FILE": str(tmp_path / "history.sqlite"),
           "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
           "MPLBACKEND": None,  # the kernel's own inline backend, whatever the test runner set
           **(extra_env or {})}
    return KernelProcess([sys.executable, "-m", "jup.python"], tmp_path, env, timeout=START_TIMEOUT)


def run(kc, code: str, timeout: float = 30, **kw) -> tuple[dict, list[dict]]:
    """Execute `code`; return the execute_reply and the iopub messages of that cell until idle."""
    msgs: list[dict] = []
    reply = kc.execute_interactive(code, timeout=timeout, output_hook=msgs.append, **kw)
    return reply, msgs


def outputs(msgs: list[dict], kind: str) -> list[dict]:
    """The content of each iopub message of one type."""
    return [m["content"] for m in msgs if m["msg_type"] == kind]


def stdout_of(msgs: list[dict], name: str = "stdout") -> str:
    return "".join(c["text"] for c in outputs(msgs, "stream") if c["name"] == name)
