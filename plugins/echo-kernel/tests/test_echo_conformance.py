"""jupyter_kernel_test, the Jupyter project's conformance suite, against the echo kernel (its
messages are validated against the protocol's message specs)."""

from __future__ import annotations

import json
import os
import sys
import tempfile

import jupyter_kernel_test


class _EchoSpec:
    """Installs a kernelspec for the echo kernel in a temporary JUPYTER_PATH for the class."""

    kernel_name = "jup-echo-conformance"

    @classmethod
    def setUpClass(cls) -> None:
        cls._dir = tempfile.TemporaryDirectory()
        spec_dir = os.path.join(cls._dir.name, "kernels", cls.kernel_name)
        os.makedirs(spec_dir)
        with open(os.path.join(spec_dir, "kernel.json"), "w") as f:
            json.dump({"argv": [sys.executable, "-m", "jup.echo", "-f", "{connection_file}"],
                       "display_name": "Echo", "language": "echo"}, f)
        cls._saved_path = os.environ.get("JUPYTER_PATH")
        os.environ["JUPYTER_PATH"] = cls._dir.name
        super().setUpClass()

    @classmethod
    def tearDownClass(cls) -> None:
        super().tearDownClass()
        if cls._saved_path is None:
            os.environ.pop("JUPYTER_PATH", None)
        else:
            os.environ["JUPYTER_PATH"] = cls._saved_path
        cls._dir.cleanup()


class EchoKernelWelcomesIopubSubscribers(_EchoSpec, jupyter_kernel_test.IopubWelcomeTests):
    support_iopub_welcome = True


class EchoKernelConformance(_EchoSpec, jupyter_kernel_test.KernelTests):
    language_name = "echo"
    file_extension = ".txt"
    code_hello_world = "hello, world"
    code_generate_error = "error: deliberate"
    code_stderr = "stderr: to stderr"
    code_display_data = [{"code": "display: shown", "mime": "text/plain"}]
    code_page_something = "page: a long text"
    code_clear_output = "clear"
    code_execute_result = [{"code": "42", "result": "42"}]
    completion_samples = [{"text": "sle", "matches": {"sleep"}}, {"text": "dis", "matches": {"display"}}]
    complete_code_samples = ["hello", "two words"]
    incomplete_code_samples = ["continued \\"]
    code_inspect_sample = "hello"  # seen by test_execute_stdout, which runs before test_inspect
    supported_history_operations = ("tail", "range", "search")
    code_history_pattern = "4*"
