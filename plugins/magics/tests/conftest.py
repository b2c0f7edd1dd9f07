"""Fixtures for the magics' tests: a real in-process Shell that found our magics through the real
entry point (fast), and a real kernel process for the few end-to-end checks."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from jup.python.publisher import RecordingPublisher
from jup.python.shell import Shell

START_TIMEOUT = 30


class Session:
    """A shell plus helpers to run a cell and read what the user would see."""

    def __init__(self, shell: Shell, capsys):
        self.shell, self.capsys = shell, capsys

    @property
    def events(self) -> list:
        return self.shell.publisher.events

    def run(self, code: str, ok: bool = True):
        """Run a cell; returns (result, stdout, stderr) and checks it succeeded (or failed)."""
        self.capsys.readouterr()
        self.events.clear()
        result = self.shell.run_cell(code)
        out, err = self.capsys.readouterr()
        streams = [e[1] for e in self.events if e[0] == "stream"]
        out += "".join(s["text"] for s in streams if s["name"] == "stdout")
        err += "".join(s["text"] for s in streams if s["name"] == "stderr")
        if ok is not None:
            assert result.success is ok, (code, out, err, self.errors())
        return result, out, err

    def errors(self) -> list[dict]:
        return [e[1] for e in self.events if e[0] == "error"]

    def results(self) -> list[dict]:
        return [e[1]["data"] for e in self.events if e[0] == "execute_result"]

    def displays(self) -> list[dict]:
        return [e[1]["data"] for e in self.events if e[0] == "display_data"]

    def payloads(self) -> list[dict]:
        return [e[1] for e in self.events if e[0] == "payload"]


@pytest.fixture
def sess(tmp_path, capsys, monkeypatch) -> Iterator[Session]:
    """A Shell with plugins (so jup-magics is found by its entry point), in a temp cwd, with its
    history in a temp database."""
    monkeypatch.setenv("JUP_HISTORY_FILE", str(tmp_path / "history.sqlite"))
    monkeypatch.chdir(tmp_path)
    sh = Shell(RecordingPublisher(), user_ns={})
    sh.load_plugins()
    yield Session(sh, capsys)
    if sh._history is not None:
        sh._history.close()


def start_kernel(tmp_path, extra_env: dict | None = None):
    """Start our Python kernel as a process; return (process, ready BlockingKernelClient)."""
    from jupyter_client import BlockingKernelClient
    from jupyter_client.connect import write_connection_file
    conn = str(tmp_path / "kernel.json")
    write_connection_file(conn)
    env = dict(os.environ, JUP_HISTORY_FILE=str(tmp_path / "history.sqlite"),
               JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"), **(extra_env or {}))
    proc = subprocess.Popen([sys.executable, "-m", "jup.python", "-f", conn], env=env,
                            cwd=str(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    kc = BlockingKernelClient(connection_file=conn)
    kc.load_connection_file()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=START_TIMEOUT)
    except Exception:
        proc.kill()
        _, err = proc.communicate(timeout=10)
        kc.stop_channels()
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


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    """One real kernel process per test module, driven by jupyter_client."""
    tmp = tmp_path_factory.mktemp("kernel")
    proc, kc = start_kernel(tmp)
    yield kc
    stop_kernel(proc, kc)
