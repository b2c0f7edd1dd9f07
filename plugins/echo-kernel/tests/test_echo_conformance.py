"""jupyter_kernel_test, the Jupyter project's conformance suite, against the echo kernel (its
messages are validated against the protocol's message specs)."""

from __future__ import annotations

import contextlib
import sys

import jupyter_kernel_test

from jup.core.testing import temporary_kernelspec


class _EchoSpec:
    """Installs a kernelspec for the echo kernel in a temporary JUPYTER_PATH for the class."""

    kernel_name = "jup-echo-conformance"

    @classmethod
    def setUpClass(cls) -> None:
        cls._stack = contextlib.ExitStack()
        cls._stack.enter_context(temporary_kernelspec(cls.kernel_name, {
            "argv": [sys.executable, "-m", "jup.echo", "-f", "{connection_file}"],
            "display_name": "Echo", "language": "echo"}))
        super().setUpClass()

    @classmethod
    def tearDownClass(cls) -> None:
        super().tearDownClass()
        cls._stack.close()


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
