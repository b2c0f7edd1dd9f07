"""JUP_TRACE_PLUGINS=1: print every hook call and what each plugin answered, to stderr.

One switch to watch the plugin system when a plugin seems ignored or a result looks wrong.
"""

from __future__ import annotations

import sys
from typing import Any

import pluggy

_LIMIT = 300


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _LIMIT else text[:_LIMIT] + "..."


def _args(kwargs: dict) -> str:
    return ", ".join(f"{k}={_short(v)}" for k, v in kwargs.items())


class Tracer:
    """Writes one `jup-trace:` line per hook call and per plugin answer."""

    def __init__(self, stream: Any = None):
        self.stream = stream

    def _write(self, line: str) -> None:
        print(f"jup-trace: {line}", file=self.stream or sys.stderr, flush=True)

    def result(self, plugin: str, hook_name: str, kwargs: dict, result: Any) -> None:
        """Report one plugin's answer to a call made through PluginHost.call()."""
        self._write(f"{plugin}.{hook_name}({_args(kwargs)}) -> {_short(result)}")

    def before(self, hook_name: str, impls: list, kwargs: dict) -> None:
        plugins = ", ".join(i.plugin_name for i in impls)
        self._write(f"call {hook_name}({_args(kwargs)}) on [{plugins}]")

    def after(self, outcome: Any, hook_name: str, impls: list, kwargs: dict) -> None:
        exc = getattr(outcome, "exception", None)
        if exc is not None:
            self._write(f"{hook_name} raised {type(exc).__name__}: {exc}")
        else:
            self._write(f"{hook_name} -> {_short(outcome.get_result())}")


def enable(pm: pluggy.PluginManager, stream: Any = None) -> Tracer:
    """Trace direct pluggy calls (``pm.hook.jup_x()``) and return a tracer for PluginHost calls."""
    tracer = Tracer(stream)
    pm.add_hookcall_monitoring(tracer.before, tracer.after)
    return tracer
