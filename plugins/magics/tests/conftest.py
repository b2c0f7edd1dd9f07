"""Fixtures for the magics' tests: a real in-process Shell that found our magics through the real
entry point (fast), and a real kernel process for the few end-to-end checks."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from jup.core.testing import KernelProcess
from jup.python.publisher import RecordingPublisher
from jup.python.shell import Shell


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


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    """One real kernel process per test module, driven by jupyter_client."""
    tmp = tmp_path_factory.mktemp("kernel")
    env = {"JUP_HISTORY_FILE": str(tmp / "history.sqlite"), "JUPYTER_RUNTIME_DIR": str(tmp / "runtime")}
    kp = KernelProcess([sys.executable, "-m", "jup.python"], tmp, env, cwd=tmp)
    yield kp.kc
    kp.stop()
