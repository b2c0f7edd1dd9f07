"""`python -m jup.python -f CONNECTION_FILE`: run the Python kernel.

Only the kernel base is imported before the sockets are up; the shell, IPython compatibility and
plugins come in `kernel_ready`, so a frontend gets `kernel_info_reply` as early as possible.
"""

import sys

if __name__ == "__main__":
    from jup.python.kernel import PythonKernel

    sys.exit(PythonKernel.main())
