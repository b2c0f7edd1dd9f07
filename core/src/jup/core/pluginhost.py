"""Find, load, filter and call jup plugins.

Discovery (entry-point group ``jup.plugins``, read by jup.core.entrypoints, stevedore where that
cannot) is kept apart from calling (one ``pluggy.PluginManager("jup")``). A plugin that fails to import, implements a hook that does not
exist, or raises inside a hook costs one warning line naming it and its distribution; everything
else keeps working.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import pluggy

from jup.core import hookspecs

NAMESPACE = "jup.plugins"
CORE_PLUGIN = "core-commands"
CORE_MODULE = "jup.core.builtin_commands"
BLOCK_ENV = "JUP_BLOCK_PLUGINS"
ALLOW_ENV = "JUP_ALLOW_PLUGINS"

Status = Literal["loaded", "blocked", "failed"]

__all__ = ["PluginHost", "PluginRecord", "get_plugin_manager", "plugin_filters_from_env", "NAMESPACE"]


@dataclass
class PluginRecord:
    """What `jup plugins list` shows about one plugin: where it came from and whether it works."""

    name: str
    distribution: str | None = None
    version: str | None = None
    hooks: list[str] = field(default_factory=list)
    status: Status = "loaded"
    error: str | None = None


def _split_names(value: str | None) -> list[str]:
    return [n.strip() for n in (value or "").split(",") if n.strip()]


def plugin_filters_from_env() -> tuple[dict[str, str], list[str] | None]:
    """Blocked names (with the reason) and the allow-list (None = off) from the environment."""
    blocked = {n: f"blocked by {BLOCK_ENV}" for n in _split_names(os.environ.get(BLOCK_ENV))}
    allowed = _split_names(os.environ.get(ALLOW_ENV)) if os.environ.get(ALLOW_ENV) is not None else None
    return blocked, allowed


_DIST_CACHE: dict[tuple[str, str], tuple[str, str]] | None = None


def _entry_point_dists() -> dict[tuple[str, str], tuple[str, str]]:
    """Map (entry-point name, value) to (distribution, version); scanned lazily, only when shown."""
    global _DIST_CACHE
    if _DIST_CACHE is None:
        import importlib.metadata as md

        found: dict[tuple[str, str], tuple[str, str]] = {}
        for ep in md.entry_points(group=NAMESPACE):
            dist = getattr(ep, "dist", None)
            if dist is not None:
                found.setdefault((ep.name, ep.value), (dist.metadata["Name"], dist.version))
        _DIST_CACHE = found
    return _DIST_CACHE


class PluginHost:
    """The plugins of this process: their records, and calls into them that survive a broken one."""

    def __init__(self, blocked: Mapping[str, str] | None = None, allowed: Iterable[str] | None = None):
        self.pm = pluggy.PluginManager("jup")
        self.pm.add_hookspecs(hookspecs)
        self.blocked: dict[str, str] = dict(blocked or {})
        self.allowed: list[str] | None = None if allowed is None else list(allowed)
        self.warnings: list[str] = []
        self._records: dict[str, PluginRecord] = {}
        self._values: dict[str, str] = {}  # plugin name -> entry point value, for distribution lookup
        self._warned: set[tuple[str, str]] = set()
        self._trace = None
        if os.environ.get("JUP_TRACE_PLUGINS", "") not in ("", "0"):
            from jup.core import trace

            self._trace = trace.enable(self.pm)

    # ---- records and warnings -------------------------------------------------------------------

    @property
    def records(self) -> list[PluginRecord]:
        """Every plugin seen, in load order, with distribution and version filled in."""
        for rec in self._records.values():
            self._fill_dist(rec)
        return list(self._records.values())

    def record(self, name: str) -> PluginRecord | None:
        """The record of one plugin by name, or None if jup never saw it."""
        rec = self._records.get(name)
        if rec is not None:
            self._fill_dist(rec)
        return rec

    def _fill_dist(self, rec: PluginRecord) -> None:
        if rec.distribution is None and rec.name in self._values:
            dist = _entry_point_dists().get((rec.name, self._values[rec.name]))
            if dist:
                rec.distribution, rec.version = dist

    def _who(self, name: str) -> str:
        rec = self.record(name)
        if rec and rec.distribution:
            return f"plugin '{name}' (distribution {rec.distribution} {rec.version})"
        return f"plugin '{name}'"

    def warn(self, message: str) -> None:
        """Say on one stderr line that something is wrong with a plugin; keep it for callers too."""
        self.warnings.append(message)
        print(f"jup: warning: {message}", file=sys.stderr, flush=True)

    def _fail(self, name: str, error: str) -> None:
        rec = self._records.setdefault(name, PluginRecord(name))
        rec.status, rec.error, rec.hooks = "failed", error, []
        self.warn(f"{self._who(name)} was not loaded: {error}. "
                  f"Fix or uninstall it, or block it with --block {name} or {BLOCK_ENV}={name}.")

    # ---- filtering --------------------------------------------------------------------------------

    def why_blocked(self, name: str) -> str | None:
        """The reason a plugin is kept out, or None if it may load."""
        if name == CORE_PLUGIN:
            return None
        if name in self.blocked:
            return self.blocked[name]
        if self.allowed is not None and name not in self.allowed:
            return "not in the allow-list (Plugins.allowed / JUP_ALLOW_PLUGINS)"
        return None

    def apply_filters(self, blocked: Mapping[str, str], allowed: Iterable[str] | None) -> None:
        """Block more plugins after loading (e.g. from plugin config defaults): unregister them."""
        self.blocked.update(blocked)
        if allowed is not None:
            self.allowed = list(allowed)
        for name, rec in self._records.items():
            reason = self.why_blocked(name)
            if reason and rec.status == "loaded":
                plugin = self.pm.get_plugin(name)
                if plugin is not None:
                    self.pm.unregister(plugin, name=name)
                rec.status, rec.error = "blocked", reason

    # ---- registration -----------------------------------------------------------------------------

    def register(self, obj: Any, name: str, *, distribution: str | None = None,
                 version: str | None = None) -> PluginRecord:
        """Register a plugin object in this process (tests, embedding): same checks as discovery."""
        if self.pm.get_plugin(name) is not None:
            from jup.core.errors import PluginError

            raise PluginError(f"A plugin named {name!r} is registered already; give this one another name.")
        rec = PluginRecord(name, distribution, version)
        self._records[name] = rec
        reason = self.why_blocked(name)
        if reason:
            rec.status, rec.error = "blocked", reason
            return rec
        try:
            self.pm.register(obj, name=name)
        except Exception as exc:  # pluggy: bad signature, same object twice, name taken
            self._fail(name, _one_line(exc))
            return rec
        unknown = [h for h in self.pm.get_hookcallers(obj) or [] if not h.has_spec()]
        if unknown:
            parts = []
            for hook in unknown:
                funcs = ", ".join(f"{getattr(i.function, '__module__', '?')}.{i.function.__name__}"
                                  for i in hook.get_hookimpls() if i.plugin_name == name)
                import difflib  # only on a misspelling: not loaded in every kernel

                guess = difflib.get_close_matches(hook.name, _spec_names(), n=1)
                hint = f" (did you mean {guess[0]}?)" if guess else ""
                parts.append(f"{hook.name} (function {funcs}) is not a jup hook{hint}")
            self.pm.unregister(obj, name=name)
            self._fail(name, "; ".join(parts))
            return rec
        rec.hooks = sorted(h.name for h in self.pm.get_hookcallers(obj) or [])
        return rec

    def discover(self) -> None:
        """Load every entry point in ``jup.plugins`` that is not blocked; record the rest."""
        from jup.core.entrypoints import scan

        entry_points = scan(NAMESPACE)
        if entry_points is None:  # an environment the quick scan cannot read: stevedore's full one
            from stevedore import ExtensionManager

            probe = ExtensionManager.make_test_instance([], namespace=NAMESPACE)
            entry_points = list(probe.list_entry_points())
        first: dict[str, Any] = {}
        for ep in entry_points:
            if self._values.setdefault(ep.name, ep.value) != ep.value:
                self.warn(f"two installed distributions name a plugin '{ep.name}' ({self._values[ep.name]} "
                          f"and {ep.value}); only one is loaded. Uninstall one of them.")
            first.setdefault(ep.name, ep)
        names = sorted(first, key=lambda n: (n != CORE_PLUGIN, n))
        for name in names:
            reason = self.why_blocked(name)
            if reason:
                self._records[name] = PluginRecord(name, status="blocked", error=reason)
                continue
            try:
                plugin = first[name].load()
            except Exception as err:
                self._fail(name, f"import failed: {type(err).__name__}: {_one_line(err)}")
                continue
            if self.pm.get_plugin(name) is None:
                self.register(plugin, name)
        if CORE_PLUGIN not in self._records:  # entry point metadata missing: still serve core commands
            import importlib

            self.register(importlib.import_module(CORE_MODULE), CORE_PLUGIN, distribution="jup-core")
        self.pm.check_pending()  # every unknown hook was turned away above; this is a safety net

    # ---- calling ----------------------------------------------------------------------------------

    @property
    def hook(self) -> Any:
        """pluggy's raw hook relay, for callers that want pluggy semantics (exceptions propagate)."""
        return self.pm.hook

    def _impls(self, hook_name: str) -> list:
        caller = getattr(self.pm.hook, hook_name, None)
        if caller is None or not hasattr(caller, "get_hookimpls"):
            raise AttributeError(f"{hook_name} is not a jup hook; see docs/hooks.md for the hooks there are")
        # pluggy calls the last registered first; wrappers are pluggy-only, not data providers
        return [i for i in reversed(caller.get_hookimpls())
                if not (i.hookwrapper or getattr(i, "wrapper", False))]

    def _run(self, hook_name: str, impls: list, kwargs: dict, first: bool) -> list[tuple[str, Any]]:
        results: list[tuple[str, Any]] = []
        for impl in impls:
            try:
                args = [kwargs[a] for a in impl.argnames]
            except KeyError as exc:
                raise TypeError(f"{hook_name} needs argument {exc.args[0]!r}") from None
            try:
                res = impl.function(*args)
            except Exception as exc:
                res = None
                self._hook_failed(impl.plugin_name, hook_name, exc)
            if self._trace is not None:
                self._trace.result(impl.plugin_name, hook_name, kwargs, res)
            if res is not None:
                results.append((impl.plugin_name, res))
                if first:
                    break
        return results

    def _hook_failed(self, plugin: str, hook_name: str, exc: Exception) -> None:
        if (plugin, hook_name) in self._warned:
            return
        self._warned.add((plugin, hook_name))
        rec = self._records.get(plugin)
        if rec is not None:
            rec.error = f"{hook_name} raised {type(exc).__name__}: {_one_line(exc)}"
        self.warn(f"{self._who(plugin)} raised {type(exc).__name__} in {hook_name}: "
                  f"{_one_line(exc)}; its answer is skipped.")

    def call_each(self, hook_name: str, **kwargs: Any) -> list[tuple[str, Any]]:
        """Call every implementation in pluggy's order; return (plugin name, result) for the good ones.

        An implementation that raises is skipped with one warning per plugin and hook.
        """
        return self._run(hook_name, self._impls(hook_name), kwargs, first=False)

    def call(self, hook_name: str, **kwargs: Any) -> list:
        """Call a hook; return the non-None results of the implementations that did not raise."""
        return [res for _name, res in self.call_each(hook_name, **kwargs)]

    def collect(self, hook_name: str, **kwargs: Any) -> list:
        """Call a list-returning hook and flatten the lists (for jup_frontends, jup_kernels...)."""
        out: list = []
        for res in self.call(hook_name, **kwargs):
            out.extend(res if isinstance(res, list | tuple) else [res])
        return out

    def call_first(self, hook_name: str, **kwargs: Any) -> Any:
        """Call a firstresult hook: the first non-None result of an implementation that did not raise."""
        found = self._run(hook_name, self._impls(hook_name), kwargs, first=True)
        return found[0][1] if found else None


def _one_line(exc: BaseException) -> str:
    """An exception's message on one line (pluggy's span several), kept short for a warning."""
    text = " ".join(str(exc).split())
    if len(text) > 300:
        text = text[:297] + "..."
    return text or type(exc).__name__


def _spec_names() -> list[str]:
    return [n for n in dir(hookspecs) if n.startswith("jup_")]


_HOST: PluginHost | None = None
_LOCK = threading.RLock()  # re-entrant: a plugin may ask for plugins while being imported


def get_plugin_manager(*, blocked: Iterable[str] | Mapping[str, str] | None = None,
                       allowed: Iterable[str] | None = None, reload: bool = False) -> PluginHost:
    """The process's plugins, discovered once.

    `blocked` adds to ``JUP_BLOCK_PLUGINS``; `allowed` (None = no allow-list) replaces
    ``JUP_ALLOW_PLUGINS``. With neither given, ``Plugins.blocked``/``Plugins.allowed`` are read
    from the config files. Asking again with other filters, or with `reload`, discovers afresh.
    """
    with _LOCK:  # one discovery at a time, even when threads ask together
        return _get_plugin_manager(blocked, allowed, reload)


def _get_plugin_manager(blocked: Iterable[str] | Mapping[str, str] | None, allowed: Iterable[str] | None,
                        reload: bool) -> PluginHost:
    global _HOST
    if blocked is None and allowed is None and _HOST is not None and not reload:
        return _HOST
    env_blocked, env_allowed = plugin_filters_from_env()
    if blocked is None and allowed is None:
        from jup.core import config
        from jup.core.errors import ConfigError

        try:
            blocked, allowed = config.plugin_filters_from_files()
        except ConfigError as exc:
            print(f"jup: warning: {exc} Plugins.blocked/allowed from config files are not applied.",
                  file=sys.stderr, flush=True)
            blocked, allowed = {}, None
    final_blocked = dict(blocked) if isinstance(blocked, Mapping) else \
        {n: "blocked by the caller" for n in (blocked or [])}
    final_blocked.update(env_blocked)
    final_allowed = list(allowed) if allowed is not None else env_allowed
    if (_HOST is not None and not reload and _HOST.blocked == final_blocked
            and _HOST.allowed == final_allowed):
        return _HOST
    if reload:
        global _DIST_CACHE
        _DIST_CACHE = None
        if "stevedore" in sys.modules:  # its per-process cache would hide a plugin installed since
            from stevedore import ExtensionManager

            ExtensionManager.ENTRY_POINT_CACHE.pop(NAMESPACE, None)
    host = PluginHost(final_blocked, final_allowed)
    host.discover()
    _HOST = host
    return host
