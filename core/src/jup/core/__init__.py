"""jup core: the public API plugins and frontends build on.

Plugins import only from `jup.core` and these public modules; everything else is private:
`jup.core.pluginhost` (get_plugin_manager), `jup.core.config` (load_config, register_configurable),
`jup.core.hookspecs` (the hook reference), `jup.core.protocol` (Session, wire, messages, connection),
`jup.core.client` (kernel clients), `jup.core.manager` (kernel managers, pool, in-process),
`jup.core.kernelspec`, `jup.core.kernelbase` (write a kernel), `jup.core.paths`, `jup.core.testing`.
Heavy parts are imported lazily so that `import jup.core` stays cheap in a kernel process.
"""

from __future__ import annotations

from jup.core.errors import (
    ConfigError,
    FrontendError,
    JupError,
    KernelDied,
    KernelError,
    KernelTimeout,
    MalformedMessage,
    NoSuchKernel,
    PluginError,
    ProtocolError,
    ReplayError,
    SignatureError,
    UsageError,
)

# hookimpl (pluggy) and the spec dataclasses are resolved on first use (PEP 562), so that a kernel
# process importing jup.core.kernelbase does not pay for pluggy, inspect and dataclasses (~15 ms).
_LAZY = {"hookimpl": "jup.core.hookspecs", **{n: "jup.core.specs" for n in (
    "Branding", "FormatterSpec", "FrontendSpec", "KernelSpecInfo", "LauncherSpec", "MagicSpec",
    "SubcommandSpec", "load_object")}}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'jup.core' has no attribute {name!r}")


__version__ = "0.1.0"

__all__ = [
    "Branding", "ConfigError", "FormatterSpec", "FrontendError", "FrontendSpec", "JupError",
    "KernelDied", "KernelError", "KernelSpecInfo", "KernelTimeout", "LauncherSpec", "MagicSpec",
    "MalformedMessage", "NoSuchKernel", "PluginError", "ProtocolError", "ReplayError",
    "SignatureError", "SubcommandSpec", "UsageError", "hookimpl", "load_object", "__version__",
]


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
