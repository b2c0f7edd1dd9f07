"""Helpers the Python kernel's tests share: start a real kernel process and read what a cell sent.

A module of its own (not conftest) so that `from pykernel_helpers import ...` finds these even when
pytest collects other test directories, with their own conftest, in the same run."""

from __future__ import annotations

import os
import subprocess
import sys

START_TIMEOUT = 30


def _kernel_env(tmp_path) -> dict:
    env = dict(os.environ)
    env["JUP_HISTORY_FILE"] = str(tmp_path / "history.sqlite")
    env["JUPYTER_RUNTIME_DIR"] = str(tmp_path / "runtime")
    env.pop("MPLBACKEND", None)
    return env


def start_kernel(tmp_path, extra_env: dict | None = None):
    """Start `python -m jup.python -f FILE` and return (process, ready BlockingKernelClient)."""
    from jupyter_client import BlockingKernelClient
    from jupyter_client.connect import write_connection_file
    conn = str(tmp_path / "kernel.json")
    write_connection_file(conn)
    env = {**_kernel_env(tmp_path), **(extra_env or {})}
    proc = subprocess.Popen([sys.executable, "-m", "jup.python", "-f", conn], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    kc = BlockingKernelClient(connection_file=conn)
    kc.load_connection_file()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=START_TIMEOUT)
    except Exception:
        proc.kill()
        out, err = proc.communicate(timeout=10)
        raise RuntimeError(f"kernel did not start: {err.decode()[-2000:]}")
    return proc, kc


def stop_kernel(proc, kc) -> None:
    try:
        kc.shutdown()
        proc.wait(timeout=10)
    except Exception:
        proc.kill()
        proc.wait(timeout=10)
    finally:
        kc.stop_channels()
        for pipe in (proc.stdout, proc.stderr):
            if pipe:
                pipe.close()


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
