"""Batch runs (`-c`, `-m`, a script, piped code) in this process, without a kernel, when the
default kernel's plugin offers a runner for that (`KernelSpecInfo.batch_factory`; jup's Python
kernel does). What the runner publishes goes through the same Renderer as kernel messages would:
same text, same colours (only on a terminal), same exit status.
"""

from __future__ import annotations

from typing import Any

DEFAULT_KERNEL = "python"  # as jup.terminal.kernels (not imported: it loads asyncio)


def _default_batch_factory() -> str | None:
    """The `batch_factory` of the default kernel as `jup.core.kernelspec.get_kernel_spec` would
    resolve it (a plugin's kernel wins, the last registered first), asked of the plugins directly:
    the kernelspec module (logging, pathlib, json: ~10 ms) is not needed to learn it. None when no
    plugin offers the name (a Jupyter kernelspec dir may: the general path looks there)."""
    from jup.core.pluginhost import get_plugin_manager
    found = None
    for info in get_plugin_manager().collect("jup_kernels"):
        if getattr(info, "name", None) == DEFAULT_KERNEL:
            found = info
    return getattr(found, "batch_factory", None) if found is not None else None


def start() -> Any:
    """The default kernel's batch runner (`run(code, render) -> reply`, `close()`); None when it
    offers none or it cannot start, and the caller takes the general path, which reports any
    problem itself."""
    try:
        path = _default_batch_factory()
        if not path:
            return None
        from jup.core import load_object
        return load_object(path)()
    except Exception:
        return None
