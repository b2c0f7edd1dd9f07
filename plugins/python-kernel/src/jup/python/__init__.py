"""jup's Python kernel plugin.

The shell (`jup.python.shell.Shell`) runs cells and displays results with or without a kernel;
`jup.python.kernel.PythonKernel` puts it on the wire. Nothing is imported here, so that starting a
kernel process stays cheap.
"""
