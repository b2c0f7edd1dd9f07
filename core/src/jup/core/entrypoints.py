"""The ``jup.plugins`` entry points, read straight from the installed distributions' metadata.

`importlib.metadata` (and stevedore on top of it) costs ~20 ms to import and scan on every start.
Here each `sys.path` directory is listed once and only the ``entry_points.txt`` of its
``*.dist-info``/``*.egg-info`` folders is read (~1 ms for a hundred distributions). Nothing is
cached between processes, so installing or removing a plugin shows on the next start. When the
environment holds something this scan does not understand (a zip file or an egg on `sys.path`, an
import hook that provides distributions) it returns None and the caller uses stevedore instead.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from dataclasses import dataclass
from typing import Any

_METADATA_DIRS = (".dist-info", ".egg-info")


@dataclass(frozen=True)
class EntryPoint:
    """One ``name = module:attr`` line of a distribution's ``[group]`` section."""

    name: str
    value: str
    group: str

    def load(self) -> Any:
        """Import the module and follow the attribute path, as `importlib.metadata.EntryPoint.load`."""
        target = self.value.split("[", 1)[0].strip()  # "mod:attr [extra]": extras do not change what loads
        module, _, attr = target.partition(":")
        obj: Any = importlib.import_module(module.strip())
        for part in attr.strip().split(".") if attr.strip() else []:
            obj = getattr(obj, part)
        return obj


def _normalized(dir_name: str) -> str:
    """The distribution's name from its metadata folder ("Foo.Bar-1.0.dist-info" -> "foo_bar")."""
    stem = dir_name.rsplit(".", 1)[0]
    return re.sub(r"[-_.]+", "_", stem.partition("-")[0]).lower()


def _section(text: str, group: str) -> list[tuple[str, str]]:
    """The ``name = value`` pairs under ``[group]`` in an entry_points.txt."""
    found, inside = [], False
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            inside = line[1:-1].strip() == group
        elif inside and "=" in line:
            name, _, value = line.partition("=")
            found.append((name.strip(), value.strip()))
    return found


def _trustworthy() -> bool:
    """True when the standard path finder is the only source of distributions, as scanned here."""
    for finder in sys.meta_path:
        if hasattr(finder, "find_distributions") and getattr(finder, "__name__", "") != "PathFinder":
            return False
    return True


def scan(group: str, path: list[str] | None = None) -> list[EntryPoint] | None:
    """Entry points of `group` in `sys.path` order, first distribution of a name wins (as
    importlib.metadata); None if the environment needs importlib.metadata's full machinery."""
    if not _trustworthy():
        return None
    seen: set[str] = set()
    found: list[EntryPoint] = []
    for entry in sys.path if path is None else path:
        folder = entry or "."
        if folder.endswith(".egg"):  # an old-style egg keeps its metadata in EGG-INFO: not read here
            return None
        try:
            with os.scandir(folder) as it:
                names = sorted(e.name for e in it if e.name.endswith(_METADATA_DIRS))
        except NotADirectoryError:
            if os.path.isfile(folder):  # a zip archive: its metadata is not read here
                return None
            continue
        except OSError:  # missing folder (python311.zip), no permission: nothing there, as for importlib
            continue
        for name in names:
            dist = _normalized(name)
            if dist in seen:
                continue
            seen.add(dist)
            try:
                with open(os.path.join(folder, name, "entry_points.txt"), encoding="utf-8") as fh:
                    text = fh.read()
            except OSError:  # no entry points, or an egg-info file rather than a folder
                continue
            if f"[{group}]" in text.replace(" ", ""):
                found += [EntryPoint(n, v, group) for n, v in _section(text, group)]
    return found
