"""jup core: the public API plugins and frontends build on.

Plugins import only from `jup.core` (and the modules it names below); everything else is private.
Heavy parts are imported lazily so that `import jup.core` stays cheap in a kernel process.
"""

from __future__ import annotations

from jup.core.errors import (ConfigError, FrontendError, JupError, KernelDied, KernelError,
                             KernelTimeout, MalformedMessage, NoSuchKernel, PluginError,
                             ProtocolError, ReplayError, SignatureError, UsageError)
from jup.core.hookspecs import hookimpl
from jup.core.specs import (Branding, FormatterSpec, FrontendSpec, KernelSpecInfo, LauncherSpec,
                            MagicSpec, SubcommandSpec)

__version__ = "0.1.0"

__all__ = [
    "Branding", "ConfigError", "FormatterSpec", "FrontendError", "FrontendSpec", "JupError",
    "KernelDied", "KernelError", "KernelSpecInfo", "KernelTimeout", "LauncherSpec", "MagicSpec",
    "MalformedMessage", "NoSuchKernel", "PluginError", "ProtocolError", "ReplayError",
    "SignatureError", "SubcommandSpec", "UsageError", "hookimpl", "__version__",
]
