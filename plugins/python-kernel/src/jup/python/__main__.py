"""`python -m jup.python -f CONNECTION_FILE`: run the Python kernel.

Only the kernel base is imported before the sockets are up; the shell, IPython compatibility and
plugins come in `kernel_ready`, so a frontend gets `kernel_info_reply` as early as possible.
"""

import os
import sys

#: malloc arenas for the kernel process (glibc), unless MALLOC_ARENA_MAX says otherwise.
ARENAS = 1


def limit_malloc_arenas(arenas: int = ARENAS) -> bool:
    """Cap glibc's malloc arenas before the kernel starts its threads.

    glibc gives each new thread that allocates its own arena; the kernel's half-dozen mostly idle
    threads (sockets, heartbeat, history writer, shell loader) each keep one, ~2 MiB of idle RSS
    in all (issue 13). One arena measured lowest and steadiest (two: +0.3 to +1.7 MiB, varying
    run to run); sharing it costs little here, as Python allocates under the GIL and big buffers
    (numpy's) are mmap'd outside arenas. A user's MALLOC_ARENA_MAX wins (glibc has applied it
    already); elsewhere (macOS, musl) this does nothing.
    Returns whether the cap was set.
    """
    if not sys.platform.startswith("linux") or "MALLOC_ARENA_MAX" in os.environ:
        return False
    try:
        import ctypes

        mallopt = ctypes.CDLL(None).mallopt
    except (ImportError, OSError, AttributeError):
        return False
    m_arena_max = -8  # from glibc's malloc.h
    return bool(mallopt(m_arena_max, arenas))


if __name__ == "__main__":
    limit_malloc_arenas()
    from jup.python.kernel import PythonKernel

    sys.exit(PythonKernel.main())
