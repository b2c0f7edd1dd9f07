"""Kernelspecs from two sources: the `jup_kernels` hook and Jupyter's kernelspec directories.

Plugin kernels win over a Jupyter directory of the same name. `install_kernel_spec` writes a plugin
kernel's kernel.json into a Jupyter data dir, so JupyterLab, nbclient and papermill can start it.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jup.core.errors import NoSuchKernel
from jup.core.paths import jupyter_data_dir, jupyter_path
from jup.core.specs import KernelSpecInfo

log = logging.getLogger("jup.kernelspec")

_VALID_NAME = re.compile(r"^[a-zA-Z0-9._-]+$")


@dataclass
class KernelSpec:
    """A kernel that can be launched: its argv (with `{connection_file}`) and how to treat it."""

    name: str
    argv: list[str]
    display_name: str = ""
    language: str = ""
    interrupt_mode: str = "signal"
    env: dict[str, str] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    resource_dir: str | None = None
    source: str = "jupyter"  # "plugin" or "jupyter"
    inprocess_factory: str | None = None
    install_name: str | None = None

    @classmethod
    def from_info(cls, info: KernelSpecInfo) -> KernelSpec:
        """The spec of a kernel a plugin declared."""
        return cls(name=info.name, argv=list(info.argv), display_name=info.display_name,
                   language=info.language, interrupt_mode=info.interrupt_mode, env=dict(info.env),
                   metadata=dict(info.metadata), source="plugin",
                   inprocess_factory=info.inprocess_factory, install_name=info.install_name)

    @classmethod
    def from_dir(cls, path: str | os.PathLike, name: str | None = None) -> KernelSpec:
        """Read `<path>/kernel.json` (a Jupyter kernelspec directory)."""
        path = Path(path)
        try:
            data = json.loads((path / "kernel.json").read_text())
            argv = data["argv"]
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise NoSuchKernel(f"{path / 'kernel.json'} is not a usable kernelspec ({e}); "
                               "fix or remove that directory.") from None
        return cls(name=name or path.name, argv=list(argv), display_name=data.get("display_name", ""),
                   language=data.get("language", ""), interrupt_mode=data.get("interrupt_mode", "signal"),
                   env=dict(data.get("env") or {}), metadata=dict(data.get("metadata") or {}),
                   resource_dir=str(path), source="jupyter")

    def kernel_json(self) -> dict:
        """The kernel.json a Jupyter tool reads to start this kernel."""
        meta = dict(self.metadata)
        if self.source == "plugin":
            meta.setdefault("jup", {"kernel": self.name})
        return {"argv": list(self.argv), "display_name": self.display_name or self.name,
                "language": self.language, "interrupt_mode": self.interrupt_mode,
                "env": dict(self.env), "metadata": meta}

    def launch_argv(self, connection_file: str) -> list[str]:
        """argv with `{connection_file}` (and `{resource_dir}`) filled in; a bare `python` means this
        interpreter, as Jupyter's native kernelspec expects."""
        subs = {"connection_file": connection_file, "resource_dir": self.resource_dir or ""}
        out = []
        major, minor = sys.version_info[:2]
        for a in self.argv:
            for k, v in subs.items():
                a = a.replace("{" + k + "}", v)
            out.append(a)
        if out and out[0] in ("python", f"python{major}", f"python{major}.{minor}"):
            out[0] = sys.executable
        return out


# ---- sources ------------------------------------------------------------------------------------

def plugin_kernel_specs() -> dict[str, KernelSpec]:
    """Kernels declared by installed plugins through the `jup_kernels` hook."""
    try:
        from jup.core.pluginhost import get_plugin_manager
    except ImportError:  # plugin system not installed in this build
        return {}
    specs: dict[str, KernelSpec] = {}
    for info in get_plugin_manager().collect("jup_kernels"):
        if isinstance(info, KernelSpecInfo):
            specs[info.name] = KernelSpec.from_info(info)
        elif isinstance(info, KernelSpec):
            specs[info.name] = info
        else:
            log.warning("a jup_kernels hook returned %r, not a KernelSpecInfo; ignored", info)
    return specs


def jupyter_kernel_specs() -> dict[str, KernelSpec]:
    """Kernels in Jupyter's kernelspec directories (first directory on the path wins)."""
    specs: dict[str, KernelSpec] = {}
    for kdir in jupyter_path("kernels"):
        try:
            entries = sorted(os.scandir(kdir), key=lambda e: e.name)
        except OSError:
            continue
        for e in entries:
            if e.name.lower() in specs or not os.path.isfile(os.path.join(e.path, "kernel.json")):
                continue
            try:
                specs[e.name.lower()] = KernelSpec.from_dir(e.path, e.name.lower())
            except NoSuchKernel as err:
                log.warning("%s", err)
    return specs


def find_kernel_specs() -> dict[str, KernelSpec]:
    """Every usable kernel by name: Jupyter's directories, overridden by plugins."""
    specs = jupyter_kernel_specs()
    specs.update(plugin_kernel_specs())
    return specs


def get_kernel_spec(name: str) -> KernelSpec:
    """The kernel called `name`, or NoSuchKernel listing the names there are."""
    plugins = plugin_kernel_specs()
    if name in plugins:
        return plugins[name]
    for kdir in jupyter_path("kernels"):
        path = os.path.join(kdir, name)
        if os.path.isfile(os.path.join(path, "kernel.json")):
            return KernelSpec.from_dir(path, name)
    names = sorted(find_kernel_specs())
    raise NoSuchKernel(f"No kernel named {name!r}. Available: {', '.join(names) or 'none'}. "
                       "Install one with `jup kernelspec install NAME` or a Jupyter kernel package.")


# ---- install / remove ---------------------------------------------------------------------------

def kernels_dir(user: bool = False, sys_prefix: bool = False, prefix: str | None = None) -> str:
    """Where an install goes: --prefix P, --sys-prefix, --user, else the system dir (as Jupyter)."""
    if prefix:
        return os.path.join(prefix, "share", "jupyter", "kernels")
    if sys_prefix:
        return os.path.join(sys.prefix, "share", "jupyter", "kernels")
    if user:
        return os.path.join(jupyter_data_dir(), "kernels")
    return os.path.join("/usr/local/share/jupyter", "kernels")


def install_kernel_spec(name: str | KernelSpec | KernelSpecInfo, user: bool = False,
                        sys_prefix: bool = False, prefix: str | None = None) -> str:
    """Write a jup kernel's kernel.json for Jupyter tools; the directory written.

    The directory is the spec's `install_name` (e.g. `python` installs as `jup-python`).
    """
    if isinstance(name, KernelSpecInfo):
        spec = KernelSpec.from_info(name)
    elif isinstance(name, KernelSpec):
        spec = name
    else:
        spec = get_kernel_spec(name)
    target_name = spec.install_name or spec.name
    if not _VALID_NAME.match(target_name):
        raise NoSuchKernel(f"{target_name!r} cannot be a kernelspec directory name; use letters, digits, "
                           "'.', '_' and '-'.")
    dest = Path(kernels_dir(user, sys_prefix, prefix)) / target_name.lower()
    try:
        dest.mkdir(parents=True, exist_ok=True)
        if spec.resource_dir and Path(spec.resource_dir) != dest:
            for f in Path(spec.resource_dir).iterdir():  # logos and the like
                if f.is_file() and f.name != "kernel.json":
                    shutil.copy2(f, dest / f.name)
        (dest / "kernel.json").write_text(json.dumps(spec.kernel_json(), indent=1) + "\n")
    except PermissionError:
        raise PermissionError(f"Cannot write {dest}; install with --user or --sys-prefix instead.") from None
    return str(dest)


def remove_kernel_spec(name: str) -> str:
    """Delete an installed kernelspec directory (the first found on Jupyter's path); its path."""
    for kdir in jupyter_path("kernels"):
        path = os.path.join(kdir, name)
        if os.path.isfile(os.path.join(path, "kernel.json")):
            shutil.rmtree(path)
            return path
    raise NoSuchKernel(f"No installed kernelspec named {name!r} in {', '.join(jupyter_path('kernels'))}; "
                       "`jup kernelspec list` shows what is installed.")
