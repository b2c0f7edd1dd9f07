"""The echo kernel: the smallest complete jup kernel, and the reference for kernel authors.

`jup.echo.plugin` tells jup the kernel exists (hook `jup_kernels`); `jup.echo.kernel` is the kernel;
`python -m jup.echo -f CONNECTION_FILE` runs it. Nothing is imported here, so that discovering the
plugin costs nothing.
"""
