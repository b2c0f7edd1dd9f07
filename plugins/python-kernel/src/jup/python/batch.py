"""Batch runs (`-c`, a script, piped code) on the Python shell in a frontend's process, no kernel.

A batch run needs none of what a kernel adds (sockets, the wire, message threads: zmq alone costs
~20 ms to import), so the kernelspec offers this runner as its `batch_factory`: the frontend runs
cells here and renders what the shell publishes exactly as it renders a kernel's iopub messages.
Plugins load as in the kernel, and `jup_kernel_startup` gets a stand-in kernel with the `.shell`.
Unlike the kernel, output has no per-cell budget: a script's output piped to a file arrives whole,
as with `python` or `ipython`.
"""

from __future__ import annotations

import builtins
import io
import sys
from typing import Any


class _Publisher:
    """The shell's publisher: each output becomes the message a kernel would send, rendered at once."""

    def __init__(self, render: Any):
        self.render = render
        self.payloads: list[dict] = []

    def _emit(self, msg_type: str, content: dict) -> None:
        self.render({"msg_type": msg_type, "content": content})

    def display(self, data: dict, metadata: dict, transient: dict, update: bool) -> None:
        self._emit("update_display_data" if update else "display_data",
                   {"data": data, "metadata": metadata, "transient": transient})

    def stream(self, name: str, text: str) -> None:
        self._emit("stream", {"name": name, "text": text})

    def clear_output(self, wait: bool) -> None:
        self._emit("clear_output", {"wait": wait})

    def execute_result(self, count: int, data: dict, metadata: dict) -> None:
        self._emit("execute_result", {"execution_count": count, "data": data, "metadata": metadata})

    def payload(self, payload: dict) -> None:
        self.payloads.append(dict(payload))

    def error(self, ename: str, evalue: str, traceback: list[str]) -> None:
        self._emit("error", {"ename": ename, "evalue": evalue, "traceback": traceback})


class _CellStream(io.TextIOBase):
    """sys.stdout / sys.stderr while a cell runs: writes are stream output, as in a kernel."""

    encoding = "utf-8"
    errors = "replace"

    def __init__(self, name: str, publisher: _Publisher, real: Any):
        super().__init__()
        self.name, self._publisher, self._real = name, publisher, real

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False  # as a kernel's stream: code that asks gets the same answer on both paths

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        if text:
            self._publisher.stream(self.name, text)
        return len(text)

    def fileno(self) -> int:
        return self._real.fileno()


class _KernelStandIn:
    """What `jup_kernel_startup` implementations receive here: the kernel's identity and its shell."""

    in_process = True

    implementation = "jup-python"

    def __init__(self, shell: Any):
        import jup.python
        self.shell = shell
        self.implementation_version = getattr(jup.python, "__version__", "")
        self.language_info = {"name": "python", "version": sys.version.split()[0], "mimetype": "text/x-python",
                              "pygments_lexer": "ipython3", "file_extension": ".py"}


class BatchShell:
    """jup's Python shell set up as the in-process kernel sets it up, without the kernel: the
    kernelspec's `batch_factory`."""

    def __init__(self) -> None:
        from jup.python import compat
        from jup.python.shell import Shell
        compat.install()
        shell_cls = type("ZMQInteractiveShell", (Shell,), {"__doc__": "The shell of a batch run (named as "
                                                                      "the kernel's, so code sees one shell)."})
        self.publisher = _Publisher(lambda msg: None)
        self.shell = shell_cls(publisher=self.publisher)
        self.execution_count = 0
        try:
            self.shell.load_plugins()
        except Exception as e:
            self.shell.write_err(f"Plugins failed to load ({type(e).__name__}: {e}); running without them.\n")
        host = self.shell.plugin_host
        if host is not None:
            try:
                host.call("jup_kernel_startup", kernel=_KernelStandIn(self.shell))
            except Exception as e:
                self.shell.write_err(f"Plugins failed to start ({type(e).__name__}: {e}); "
                                     "running without them.\n")

    def run(self, code: str, render: Any) -> dict:
        """Run one cell, its output rendered as it comes; returns what an execute_reply would hold."""
        self.publisher.render = render
        self.publisher.payloads = []
        self.execution_count += 1
        shell = self.shell
        shell.execution_count = self.execution_count
        saved = sys.stdout, sys.stderr
        sys.stdout = _CellStream("stdout", self.publisher, saved[0])
        sys.stderr = _CellStream("stderr", self.publisher, saved[1])
        saved_input = builtins.input

        def terminal_input(prompt: object = "") -> str:
            """input() at the terminal itself, as the kernel path asks it (not as cell output)."""
            cell_out, sys.stdout = sys.stdout, saved[0]
            try:
                return saved_input(prompt)
            except EOFError:
                raise EOFError("end of input (Ctrl-D)") from None  # the kernel's words
            finally:
                sys.stdout = cell_out

        builtins.input = terminal_input
        try:
            result = shell.run_cell(code, store_history=True, silent=False)
        except (Exception, SystemExit, KeyboardInterrupt) as e:  # as the kernel: a cell's end, not ours
            import traceback
            tb = [line.rstrip("\n") for line in traceback.format_exception(type(e), e, e.__traceback__)]
            self.publisher.error(type(e).__name__, str(e), tb)
            return {"status": "error", "ename": type(e).__name__, "evalue": str(e), "traceback": tb,
                    "execution_count": self.execution_count}
        finally:
            sys.stdout, sys.stderr = saved
            if builtins.input is terminal_input:
                builtins.input = saved_input
        reply: dict = {"status": "ok" if result.success else "error", "execution_count": self.execution_count}
        if result.success:
            reply["payload"] = self.publisher.payloads
        return reply

    def close(self) -> None:
        history = getattr(self.shell, "_history", None)
        if history is not None:
            try:
                history.close(timeout=2.0)
            except Exception:
                pass
