"""`jup kernel --kernel NAME [-f FILE]`: run one kernel in the foreground for clients to attach to.

The kernel is found by name (kernels hook first, then Jupyter's kernelspec dirs) and started as a
child process with the connection file filled into its argv. Without `-f`, a fresh connection file
(mode 0600) is written to Jupyter's runtime dir, its attach command is printed, and the file is
removed when the kernel ends. Ctrl-C or SIGTERM here stops the kernel (the kernel runs in its own
session, so Ctrl-C at this terminal does not interrupt a cell: clients send interrupts).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from jup.core.errors import KernelError
from jup.core.protocol.connection import ConnectionInfo, runtime_dir

STOP_WAIT = 5.0  # seconds the kernel gets to exit after SIGTERM before it is killed


def run_kernel(name: str, connection_file: str | None = None) -> int:
    """Run kernel `name` until it exits; returns its exit code (128+N when killed by signal N)."""
    from jup.core.kernelspec import get_kernel_spec

    try:
        spec = get_kernel_spec(name)
    except KernelError as e:
        print(f"jup kernel: {e}", file=sys.stderr)
        return 2
    created = False
    if connection_file is None or not os.path.exists(connection_file):
        info = ConnectionInfo.allocate(kernel_name=name)
        if connection_file is None:
            connection_file = os.path.join(runtime_dir(), f"kernel-{info.key[:8]}-{os.getpid()}.json")
        info.write(connection_file)
        created = True
        print(f"Kernel {name!r} is starting. To connect a client to it:\n"
              f"    jup run terminal --existing {os.path.basename(connection_file)}\n"
              f"(connection file: {connection_file}; it is removed when the kernel exits)", flush=True)
    argv = spec.launch_argv(str(connection_file))
    env = {**os.environ, **spec.env, "JPY_PARENT_PID": str(os.getpid())}
    try:
        proc = subprocess.Popen(argv, env=env, start_new_session=True)
    except OSError as e:
        print(f"jup kernel: could not start {argv[0]!r} for kernel {name!r}: {e}. "
              "Check the kernel's argv (jup kernelspec list).", file=sys.stderr)
        if created:
            _remove(connection_file)
        return 1

    term_sent: list[float] = []

    def stop(signum: int, frame: object) -> None:
        if proc.poll() is None and not term_sent:
            term_sent.append(time.monotonic())
            proc.send_signal(signal.SIGTERM)

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        while True:
            try:
                code = proc.wait(0.5)
                break
            except subprocess.TimeoutExpired:
                if term_sent and time.monotonic() - term_sent[0] > STOP_WAIT:
                    proc.kill()  # it ignored SIGTERM: the wait above reaps it
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if created:
            _remove(connection_file)
    return 128 - code if code < 0 else code


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def main(argv: list[str] | None = None) -> int:
    """`python -m jup.core.kernelrun --kernel NAME [-f FILE]` (what `jup kernel` runs)."""
    import argparse

    p = argparse.ArgumentParser(prog="jup kernel", description="Run a kernel for clients to attach to.")
    p.add_argument("--kernel", default="python3", help="kernel name (see `jup kernelspec list`)")
    p.add_argument("-f", "--connection-file", default=None, help="connection file to use or create")
    args = p.parse_args(argv)
    return run_kernel(args.kernel, args.connection_file)


if __name__ == "__main__":
    raise SystemExit(main())
