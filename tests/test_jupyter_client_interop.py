"""The Jupyter ecosystem uses jup kernels: jupyter_client attaches to `jup kernel`, and finds and starts
our kernels after `jup kernelspec install --prefix`, as JupyterLab, nbclient and papermill would."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import jupyter_client
import pytest

from jup.core.errors import NoSuchKernel
from jup.core.kernelspec import get_kernel_spec
from jup.core.protocol.connection import ConnectionInfo
from jup.core.testing import leftover_processes

pytestmark = pytest.mark.timeout(120)

JUP = shutil.which("jup", path=os.path.dirname(sys.executable)) or shutil.which("jup")


def kernel_name() -> str:
    """Our Python kernel when installed, else the echo kernel (both are jup plugins)."""
    for name in ("python", "echo"):
        try:
            get_kernel_spec(name)
            return name
        except NoSuchKernel:
            continue
    pytest.skip("no jup kernel plugin (python or echo) is installed")


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    return tmp_path


def code_for(name: str) -> str:
    return "print('hi from jup')" if name == "python" else "hi from jup"


def test_jupyter_client_drives_a_kernel_started_by_jup_kernel(env):
    assert JUP, "the `jup` command is installed with jup-core"
    name = kernel_name()
    cf = env / "kernel-interop.json"
    ConnectionInfo.allocate(kernel_name=name).write(cf)
    proc = subprocess.Popen([JUP, "kernel", "--kernel", name, "-f", str(cf)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    try:
        kc = jupyter_client.BlockingKernelClient(connection_file=str(cf))
        kc.load_connection_file()
        kc.start_channels()
        kc.wait_for_ready(timeout=60)
        info = kc.kernel_info(reply=True, timeout=30)["content"]
        assert info["status"] == "ok" and info["protocol_version"].startswith("5.")
        outputs = []
        reply = kc.execute_interactive(code_for(name), output_hook=outputs.append, timeout=30)
        assert reply["content"]["status"] == "ok"
        texts = "".join(o["content"].get("text", "") or o["content"].get("data", {}).get("text/plain", "")
                        for o in outputs)
        assert "hi from jup" in texts
        kc.shutdown()
        assert proc.wait(timeout=30) == 0, proc.stderr.read().decode()
        kc.stop_channels()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, 9)
            proc.wait()
    assert leftover_processes([proc.pid]) == []


def test_installed_kernelspec_is_found_and_started_by_jupyter_client(env, monkeypatch):
    name = kernel_name()
    prefix = env / "prefix"
    out = subprocess.run([JUP, "kernelspec", "install", name, "--prefix", str(prefix)], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    install_name = get_kernel_spec(name).install_name or name
    kdir = prefix / "share" / "jupyter" / "kernels" / install_name
    assert json.loads((kdir / "kernel.json").read_text())["argv"][-1] == "{connection_file}"
    monkeypatch.setenv("JUPYTER_PATH", str(prefix / "share" / "jupyter"))
    ksm = jupyter_client.kernelspec.KernelSpecManager()
    assert install_name in ksm.find_kernel_specs()
    km = jupyter_client.KernelManager(kernel_name=install_name)
    km.start_kernel()
    try:
        kc = km.client()
        kc.start_channels()
        kc.wait_for_ready(timeout=60)
        outputs = []
        reply = kc.execute_interactive(code_for(name), output_hook=outputs.append, timeout=30)
        assert reply["content"]["status"] == "ok"
        kc.stop_channels()
    finally:
        pid = km.provisioner.process.pid if km.provisioner and km.provisioner.process else None
        km.shutdown_kernel()
    assert pid is None or leftover_processes([pid]) == []


def test_nbclient_runs_a_notebook_on_an_installed_jup_kernel(env, monkeypatch):
    if kernel_name() != "python":
        pytest.skip("nbclient needs a Python-language kernel; the jup-python plugin is not installed")
    import nbclient
    import nbformat
    prefix = env / "prefix"
    path = subprocess.run([JUP, "kernelspec", "install", "python", "--prefix", str(prefix)],
                          capture_output=True, text=True, timeout=60)
    assert path.returncode == 0, path.stderr
    monkeypatch.setenv("JUPYTER_PATH", str(prefix / "share" / "jupyter"))
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 20"),
                                         nbformat.v4.new_code_cell("print(x * 2)\nx + 1")])
    client = nbclient.NotebookClient(nb, kernel_name=get_kernel_spec("python").install_name or "python",
                                     timeout=60)
    client.execute()
    outs = nb.cells[1].outputs
    assert outs[0]["text"] == "40\n" and outs[1]["data"]["text/plain"] == "21"
