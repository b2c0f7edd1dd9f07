"""Where things live: Jupyter's data and runtime dirs (so foreign kernels are found) and jup's own dirs."""

from __future__ import annotations

import os
import sys


def _home(*parts: str) -> str:
    # os.path, not pathlib: this module is imported by every kernel, pathlib costs ~0.6 MiB there
    return os.path.join(os.path.expanduser("~"), *parts)


def jupyter_data_dir() -> str:
    """The user's Jupyter data dir (JUPYTER_DATA_DIR, else ~/.local/share/jupyter on Linux)."""
    env = os.environ.get("JUPYTER_DATA_DIR")
    if env:
        return env
    if sys.platform == "darwin":
        return _home("Library", "Jupyter")
    if os.name == "nt":
        return os.path.join(os.environ.get("APPDATA", _home()), "jupyter")
    xdg = os.environ.get("XDG_DATA_HOME") or _home(".local", "share")
    return os.path.join(xdg, "jupyter")


def jupyter_runtime_dir() -> str:
    """Where connection files go (JUPYTER_RUNTIME_DIR, else <data dir>/runtime)."""
    return os.environ.get("JUPYTER_RUNTIME_DIR") or os.path.join(jupyter_data_dir(), "runtime")


def jupyter_path(*subdirs: str) -> list[str]:
    """Jupyter's data search path, most specific first: JUPYTER_PATH, user, env prefix, system."""
    paths: list[str] = []
    env = os.environ.get("JUPYTER_PATH")
    if env:
        paths.extend(p for p in env.split(os.pathsep) if p)
    paths.append(jupyter_data_dir())
    prefix = os.path.join(sys.prefix, "share", "jupyter")
    if prefix not in paths:
        paths.append(prefix)
    for p in ("/usr/local/share/jupyter", "/usr/share/jupyter"):
        if p not in paths:
            paths.append(p)
    return [os.path.join(p, *subdirs) for p in paths]


def jup_config_dir() -> str:
    """jup's user config dir (JUP_CONFIG_DIR, else ~/.config/jup)."""
    env = os.environ.get("JUP_CONFIG_DIR")
    if env:
        return env
    xdg = os.environ.get("XDG_CONFIG_HOME") or _home(".config")
    return os.path.join(xdg, "jup")


def jup_system_config_dirs() -> list[str]:
    """System-wide config dirs, lowest priority first: /etc/jup then <prefix>/etc/jup."""
    dirs = ["/etc/jup", os.path.join(sys.prefix, "etc", "jup")]
    return list(dict.fromkeys(dirs))


def jup_data_dir() -> str:
    """jup's own data dir (history database and the like): JUP_DATA_DIR, else ~/.local/share/jup."""
    env = os.environ.get("JUP_DATA_DIR")
    if env:
        return env
    xdg = os.environ.get("XDG_DATA_HOME") or _home(".local", "share")
    return os.path.join(xdg, "jup")
