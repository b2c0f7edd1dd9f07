"""jupyter_kernel_test, the Jupyter project's conformance suite, run against our kernel as
jupyter_client finds it: through a kernelspec on JUPYTER_PATH, with IPython's own samples."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import unittest

import jupyter_kernel_test

from jup.core.testing import temporary_kernelspec

KERNEL_NAME = "jup-python-conformance"


class JupPythonKernelTests(jupyter_kernel_test.KernelTests):
    kernel_name = KERNEL_NAME
    language_name = "python"
    file_extension = ".py"

    code_hello_world = "print('hello, world')"
    code_stderr = "import sys; print('test', file=sys.stderr)"
    completion_samples = [{"text": "zi", "matches": {"zip"}}]
    complete_code_samples = ["1", "print('hello, world')", "def f(x):\n  return x*2\n\n\n"]
    incomplete_code_samples = ["print('''hello", "def f(x):\n  x*2"]
    invalid_code_samples = ["import = 7q"]
    code_page_something = "zip?"
    code_generate_error = "raise"
    code_execute_result = [{"code": "1+2+3", "result": "6"},
                           {"code": "[n*n for n in range(1, 4)]", "result": "[1, 4, 9]"}]
    code_display_data = [
        {"code": "from IPython.display import HTML, display; display(HTML('<b>test</b>'))",
         "mime": "text/html"},
        {"code": "from IPython.display import Math, display; display(Math('\\\\frac{1}{2}'))",
         "mime": "text/latex"},
    ]
    code_history_pattern = "1?2*"
    supported_history_operations = ("tail", "range", "search")
    code_inspect_sample = "zip"
    code_clear_output = "from IPython.display import clear_output; clear_output()"

    @classmethod
    def setUpClass(cls) -> None:
        cls._stack = contextlib.ExitStack()
        tmp = cls._stack.enter_context(tempfile.TemporaryDirectory())
        cls._stack.enter_context(temporary_kernelspec(KERNEL_NAME, {
            "argv": [sys.executable, "-m", "jup.python", "-f", "{connection_file}"],
            "display_name": "Python 3 (jup)", "language": "python", "interrupt_mode": "signal",
            "env": {"JUP_HISTORY_FILE": os.path.join(tmp, "history.sqlite")}}))
        super().setUpClass()

    @classmethod
    def tearDownClass(cls) -> None:
        super().tearDownClass()
        cls._stack.close()


if __name__ == "__main__":
    unittest.main()


def test_installed_kernelspec_is_started_by_jupyter_client(tmp_path, monkeypatch):
    """`jup kernelspec install python --prefix P`, then jupyter_client starts `jup-python` by name."""
    import shutil
    import subprocess

    from jupyter_client.manager import start_new_kernel

    jup = shutil.which("jup", path=os.path.dirname(sys.executable))
    assert jup, "the jup command is not installed next to this Python"
    done = subprocess.run([jup, "kernelspec", "install", "python", "--prefix", str(tmp_path)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "share" / "jupyter"))
    monkeypatch.setenv("JUP_HISTORY_FILE", str(tmp_path / "history.sqlite"))
    km, kc = start_new_kernel(kernel_name="jup-python", startup_timeout=30)
    try:
        msgs: list[dict] = []
        reply = kc.execute_interactive("6 * 7", timeout=30, output_hook=msgs.append)
        assert reply["content"]["status"] == "ok"
        assert [m["content"]["data"]["text/plain"] for m in msgs if m["msg_type"] == "execute_result"] == ["42"]
        kc.kernel_info()
        info = kc.get_shell_msg(timeout=10)["content"]
        assert info["implementation"] == "jup-python" and info["language_info"]["name"] == "python"
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=False)
