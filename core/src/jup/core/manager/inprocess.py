"""In-process kernels: the kernel lives in the caller's process and user code runs on the caller's
thread (so GUIs, debuggers and `import pdb` behave), reached through the same client API.

A kernelspec's `inprocess_factory` ("module:callable", e.g. "jup.python.kernel:PythonKernel.in_process",
as `jup.core.kernelbase.Kernel.in_process` provides; a kernel class with an `in_process` classmethod is
called through it) returns a started kernel object that keeps:

    kernel.context: zmq.Context          the context its sockets live in (clients share it)
    kernel.connection_info               dict or ConnectionInfo with transport "inproc"; the endpoint
                                         of a channel is f"inproc://{ip}-{<channel>_port}"
    kernel.pump(timeout: float)          handle the requests waiting (up to `timeout` s for the
                                         first), running executes on the calling thread
    kernel.close() -> None               release the sockets and threads

`jup.core.testing.FakeKernel.in_process` is a small reference implementation. The blocking client returned by
`InProcessKernelManager.client()` calls `pump()` whenever it waits, so a request is served on the
caller's thread while the caller waits for its reply.
"""

from __future__ import annotations

from typing import Any

from jup.core.client.asyncclient import AsyncKernelClient
from jup.core.client.blocking import BlockingKernelClient
from jup.core.errors import KernelError, NoSuchKernel
from jup.core.kernelspec import KernelSpec
from jup.core.specs import load_object

from .kernelmanager import resolve_spec

PUMP_SLICE = 0.001  # seconds the client waits on its sockets / the kernel waits on its own


def load_factory(path: str) -> Any:
    """Import "module:callable"."""
    try:
        return load_object(path)
    except (ImportError, AttributeError) as e:
        raise NoSuchKernel(f"Cannot load the in-process kernel factory {path!r}: {e}. "
                           "Is its plugin installed?") from None


class InProcessKernelManager:
    """Starts a kernel inside this process; `client()` talks to it with the usual methods."""

    def __init__(self, kernel_name: str | KernelSpec):
        self.spec = resolve_spec(kernel_name)
        self.kernel_name = self.spec.name
        if not self.spec.inprocess_factory:
            raise NoSuchKernel(f"The {self.kernel_name!r} kernel cannot run in-process (its kernelspec has "
                               "no inprocess_factory); use KernelManager to run it as a process.")
        self.kernel: Any = None
        self._clients: list[BlockingKernelClient | AsyncKernelClient] = []

    def start(self) -> None:
        """Create the kernel (the factory binds its in-process sockets)."""
        if self.kernel is not None:
            raise KernelError("This in-process kernel is already running; restart() it instead.")
        factory = load_factory(self.spec.inprocess_factory)  # type: ignore[arg-type]
        if isinstance(factory, type) and hasattr(factory, "in_process"):
            factory = factory.in_process  # a kernel class (kernelbase.Kernel style)
        self.kernel = factory()

    def is_alive(self) -> bool:
        return self.kernel is not None

    def pump(self, timeout: float = 0.0) -> bool:
        """Serve the kernel's pending requests on this thread."""
        if self.kernel is None:
            raise KernelError("The in-process kernel is not running; call start() first.")
        return bool(self.kernel.pump(timeout))

    def async_client(self) -> AsyncKernelClient:
        """An async client; something must call `pump()` on the kernel's thread for it to answer."""
        if self.kernel is None:
            raise KernelError("The in-process kernel is not running; call start() first.")
        c = AsyncKernelClient(self.kernel.connection_info, context=self.kernel.context)
        self._clients.append(c)
        return c

    def client(self) -> BlockingKernelClient:
        """A blocking client whose waits run the kernel's requests on this thread."""
        kernel = self.kernel
        if kernel is None:
            raise KernelError("The in-process kernel is not running; call start() first.")
        c = BlockingKernelClient(async_client=AsyncKernelClient(kernel.connection_info, context=kernel.context),
                                 idle=lambda: kernel.pump(PUMP_SLICE))
        c.async_client.start_channels()
        self._clients.append(c)
        return c

    def interrupt(self) -> None:
        """In-process code runs on your thread: it is interrupted by Ctrl-C there, not from here."""
        raise KernelError("An in-process kernel runs on your own thread; press Ctrl-C (KeyboardInterrupt) "
                          "to stop it, or use KernelManager for a separate kernel process.")

    def shutdown(self) -> None:
        """Close the clients made here and the kernel's sockets."""
        for c in self._clients:
            c.stop_channels()
        self._clients.clear()
        if self.kernel is not None:
            self.kernel.close()
            self.kernel = None

    def restart(self) -> None:
        """A fresh kernel object (the old namespace is gone); clients must be made again."""
        self.shutdown()
        self.start()

    def __enter__(self) -> InProcessKernelManager:
        if self.kernel is None:
            self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.shutdown()
