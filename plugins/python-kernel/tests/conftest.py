"""Fixtures for the Python kernel's tests: a real kernel process driven by jupyter_client, and an
in-process Shell with a recording publisher for fast unit tests."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from jup.python.publisher import RecordingPublisher
from jup.python.shell import Shell

START_TIMEOUT = 30


@pytest.fixture
def shell(tmp_path) -> Iterator[Shell]:
    """A fresh shell without kernel or plugins; `shell.publisher.events` records its output."""
    sh = Shell(RecordingPublisher(), user_ns={}, load_plugins=False, config={"history": False})
    yield sh
    sh._hook = lambda *a, **k: None


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


@pytest.fixture
def kernel(tmp_path):
    """A real Python kernel process of ours and a jupyter_client BlockingKernelClient to it."""
    proc, kc = start_kernel(tmp_path)
    yield kc
    stop_kernel(proc, kc)


@pytest.fixture(scope="module")
def shared_kernel(tmp_path_factory):
    """One kernel for a module's read-mostly tests (starting one per test costs ~0.5 s)."""
    tmp = tmp_path_factory.mktemp("kernel")
    proc, kc = start_kernel(tmp)
    yield kc
    stop_kernel(proc, kc)


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
