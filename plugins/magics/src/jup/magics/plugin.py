"""The entry point: hands every built-in magic to Python kernels through the `jup_magics` hook."""

from __future__ import annotations

from jup.core import MagicSpec, hookimpl

GROUPS = ("basic", "display", "execution", "extension", "history", "namespace", "osm", "timing",
          "output")


def all_magics() -> list[MagicSpec]:
    """Every magic of every group module, in group order."""
    import importlib
    specs: list[MagicSpec] = []
    for group in GROUPS:
        specs.extend(importlib.import_module(f"jup.magics.{group}").MAGICS)
    return specs


@hookimpl
def jup_magics(language: str) -> list:
    """Our magics are Python magics; other kernels get none."""
    return all_magics() if language == "python" else []
