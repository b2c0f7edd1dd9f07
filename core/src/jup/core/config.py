"""jup's configuration: traitlets Configurables fed from layered files, plugin defaults and argv.

Layers, later wins: built-in defaults -> ``jup_config_defaults`` hook results (plugin order) ->
system config dirs -> user config dir (``JUP_CONFIG_DIR``) -> ``--Class.trait=value``. Each dir may
hold ``jup_config.py`` and ``jup_config.json`` (json read second). The source of every value is
kept so ``jup config show`` can say where it came from. A mistake stops with a `ConfigError`
naming the file, the option and what is allowed.

Any module can make a Configurable known with `register_configurable`; pass `get_config()` to it
as ``config=`` to receive the user's settings. A plugin that registers ``"module:Class"`` instead
of the class keeps traitlets (~10 ms) out of starts that read no config: with no config file and no
``--Class.option``, finding the plugin filters imports nothing from traitlets.
"""

from __future__ import annotations

import ast
import copy
import importlib
import json
import os
import sys
import textwrap
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from jup.core import paths
from jup.core.errors import ConfigError

if TYPE_CHECKING:
    from traitlets import TraitType
    from traitlets.config import Config, Configurable

__all__ = ["ConfigSources", "Plugins", "WarmPool",  # noqa: F822 (defined on first use)
           "config_files", "config_files_present", "current_config", "describe_trait", "effective_config",
           "generate_config", "get_config", "get_config_sources", "known_configurables", "load_config", "load_config_file",
           "plugin_filters_from_files", "register_configurable"]

CONFIG_FILES = ("jup_config.py", "jup_config.json")
CLI_SOURCE = "command line"

# Core modules that define Configurables: imported whenever config is validated, so list a module
# here only if it defines one, and keep it cheap to import (plugins register theirs at import time).
_KNOWN_MODULES: list[str] = []

_REGISTRY: dict[str, type[Configurable]] = {}
_PENDING: dict[str, str] = {}  # class name -> "module:Class", imported when config is validated


def register_configurable(cls: type[Configurable] | str) -> type[Configurable] | str:
    """Make a Configurable's options known to validation, `config show` and `config generate`.

    Usable as a class decorator. Plugins call it at import time for their own classes, or with
    ``"module:Class"`` so that the class (and traitlets) is imported only when config is validated.
    """
    if isinstance(cls, str):
        module, _, name = cls.partition(":")
        if not module or not name:
            raise ValueError(f"register_configurable({cls!r}): write 'module:ClassName'.")
        _PENDING.setdefault(name.rsplit(".", 1)[-1], cls)
    else:
        _REGISTRY[cls.__name__] = cls
    return cls


def known_configurables() -> dict[str, type[Configurable]]:
    """Every registered Configurable by class name (importing core modules that define some)."""
    _REGISTRY.setdefault("Plugins", _traitlets().Plugins)  # jup's own, defined on first need
    _REGISTRY.setdefault("WarmPool", _traitlets().WarmPool)
    for mod in _KNOWN_MODULES:
        try:
            importlib.import_module(mod)
        except ModuleNotFoundError as exc:
            if exc.name != mod:
                raise
    for name, path in list(_PENDING.items()):
        if name not in _REGISTRY:
            module, _, attr = path.partition(":")
            obj: Any = importlib.import_module(module)
            for part in attr.split("."):
                obj = getattr(obj, part)
            _REGISTRY[obj.__name__] = obj
        _PENDING.pop(name, None)
    return dict(sorted(_REGISTRY.items()))


_TL: Any = None  # traitlets' names and the Plugins class, once something needs them


def _traitlets() -> Any:
    """traitlets' Config & co and the `Plugins` Configurable, imported and defined on first need."""
    global _TL
    if _TL is not None:
        return _TL
    from types import SimpleNamespace

    from traitlets import HasTraits, List, TraitError, Unicode
    from traitlets.config import Config, Configurable
    from traitlets.config.loader import LazyConfigValue

    class Plugins(Configurable):
        """Which plugins jup loads."""

        blocked = List(Unicode(), help="Plugin names (entry-point names, see `jup plugins list`) never "
                       "to load. Added to --block and JUP_BLOCK_PLUGINS.").tag(config=True)
        allowed = List(Unicode(), help="If not empty, load only these plugins (core-commands always "
                       "loads). JUP_ALLOW_PLUGINS replaces it.").tag(config=True)

    Plugins.__module__, Plugins.__qualname__ = __name__, "Plugins"
    register_configurable(Plugins)
    WarmPool = _define_warm_pool(Configurable)
    _TL = SimpleNamespace(Config=Config, LazyConfigValue=LazyConfigValue, TraitError=TraitError,
                          probe=HasTraits(), Plugins=Plugins, WarmPool=WarmPool)
    return _TL


def _define_warm_pool(configurable: type) -> type:
    """The `WarmPool` options (read by `jup.core.manager.pool.configured_pool_size`)."""
    from traitlets import Dict, Float, Int, Unicode

    class WarmPool(configurable):  # type: ignore[misc, valid-type]
        """Kernels started ahead of time, so a new notebook gets one in milliseconds."""

        sizes = Dict(key_trait=Unicode(), value_trait=Int(min=0), help="Kernels kept started per "
                     "kernelspec name, e.g. {'python': 2}; 0 turns the pool off for that kernelspec. "
                     "A kernelspec not listed gets the default: 1 for jup's Python kernel in "
                     "long-running frontends (the web server), 0 elsewhere.").tag(config=True)
        refill_delay = Float(0.5, min=0.0, help="Seconds after a kernel is taken before the pool "
                             "starts its replacement, so the new owner's first requests do not "
                             "compete with a process start.").tag(config=True)

    WarmPool.__module__, WarmPool.__qualname__ = __name__, "WarmPool"
    register_configurable(WarmPool)
    return WarmPool


def __getattr__(name: str) -> Any:
    """`config.Plugins` for callers, defined on first use."""
    if name == "Plugins":
        return _traitlets().Plugins
    if name == "WarmPool":
        return _traitlets().WarmPool
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class ConfigSources(dict):
    """"Class.trait" -> where its effective value came from (a path, a plugin, the command line)."""

    def source(self, key: str) -> str:
        """Where a value came from, or "default" when nothing set it."""
        return self.get(key, "default")


# ---- reading files ----------------------------------------------------------------------------

def config_files(config_dir: str | None = None) -> list[str]:
    """The config file paths jup reads, lowest priority first (existing or not)."""
    dirs = list(paths.jup_system_config_dirs()) + [config_dir or paths.jup_config_dir()]
    return [os.path.join(d, f) for d in dict.fromkeys(dirs) for f in CONFIG_FILES]


def config_files_present(config_dir: str | None = None) -> bool:
    """Whether any config file exists (a start without one need not load config up front)."""
    return any(os.path.isfile(p) for p in config_files(config_dir))


def load_config_file(path: str) -> Config:
    """Read one config file (no validation beyond its syntax); raise ConfigError naming it."""
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as exc:
        raise ConfigError(f"Cannot read config file {path}: {exc.strerror}. Check its permissions.")
    if path.endswith(".json"):
        return _load_json(path, text)
    return _load_py(path, text)


def _load_json(path: str, text: str) -> Config:
    tl = _traitlets()
    if not text.strip():
        return tl.Config()
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"In {path}, line {exc.lineno} column {exc.colno}: not valid JSON ({exc.msg}). "
                          'Fix it; a jup_config.json is one object like {"Plugins": {"blocked": ["name"]}}.')
    if not isinstance(data, dict):
        raise ConfigError(f"In {path}: the file must hold one JSON object of sections, got "
                          f'{type(data).__name__}. Use the form {{"Plugins": {{"blocked": ["name"]}}}}.')
    for section, options in data.items():
        if not isinstance(options, dict):
            raise ConfigError(f"In {path}: {section!r} must be an object of options like "
                              f'{{"{section}": {{"option": value}}}}, got {_show(options)}.')
    return tl.Config(data)


def _load_py(path: str, text: str) -> Config:
    tl = _traitlets()
    cfg = tl.Config()
    namespace = {"c": cfg, "get_config": lambda: cfg, "__file__": path, "__name__": "__jup_config__"}
    try:
        code = compile(text, path, "exec")
    except SyntaxError as exc:
        raise ConfigError(f"In {path}, line {exc.lineno}: Python syntax error ({exc.msg}). Fix that line.")
    try:
        exec(code, namespace)
    except Exception as exc:
        line = _line_in(exc, path)
        where = f", line {line}" if line else ""
        raise ConfigError(f"In {path}{where}: running the file raised {type(exc).__name__}: {exc}. "
                          "Fix that line.")
    return cfg


def _line_in(exc: BaseException, path: str) -> int | None:
    tb, line = exc.__traceback__, None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == path:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _read_layers(config_dir: str | None) -> list[tuple[str, Config]]:
    return [(p, load_config_file(p)) for p in config_files(config_dir) if os.path.isfile(p)]


# ---- validation -------------------------------------------------------------------------------

_PLURALS = {"Unicode": "strings", "Int": "integers", "Float": "numbers", "Bool": "booleans",
            "CUnicode": "strings", "CInt": "integers", "CFloat": "numbers", "Enum": "choices"}
_SINGULAR = {"Unicode": "a string", "CUnicode": "a string", "Int": "an integer", "CInt": "an integer",
             "Float": "a number", "CFloat": "a number", "Bool": "true or false", "CBool": "true or false",
             "Dict": "a dict"}


def describe_trait(trait: TraitType) -> str:
    """What values an option takes, in words a user reads ("a list of strings")."""
    kind = type(trait).__name__
    inner = getattr(trait, "_trait", None)
    if kind in ("List", "Set", "Tuple") and inner is not None:
        what = _PLURALS.get(type(inner).__name__, f"values ({inner.info()})")
        return f"a {kind.lower()} of {what}"
    if hasattr(trait, "values") and kind in ("Enum", "CaselessStrEnum", "UseEnum"):
        return "one of " + ", ".join(repr(v) for v in trait.values)
    text = _SINGULAR.get(kind, trait.info())
    if getattr(trait, "allow_none", False):
        text += " or None"
    return text


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) < 80 else text[:77] + "..."


def _trait_of(cls: type[Configurable], name: str) -> TraitType | None:
    return cls.class_traits(config=True).get(name)


def _check_value(origin: str, cls_name: str, name: str, trait: TraitType, value: Any) -> None:
    tl = _traitlets()
    # get_value() caches its result in the lazy value, so probe a copy to keep it mergeable
    probe = copy.deepcopy(value).get_value(trait.default()) if isinstance(value, tl.LazyConfigValue) else value
    try:
        trait.validate(tl.probe, probe)
    except tl.TraitError:
        raise ConfigError(f"In {origin}: {cls_name}.{name} must be {describe_trait(trait)}, got "
                          f"{_show(probe)}. Fix the value or remove it.")


def validate_config(cfg: Config, origin: str, known: dict[str, type[Configurable]]) -> list[str]:
    """Raise ConfigError for an unknown option or wrong type; return warnings for unknown sections."""
    warnings = []
    for section, options in cfg.items():
        if not section[:1].isupper():
            raise ConfigError(f"In {origin}: {section!r} is not a class name; top-level keys are "
                              f"classes such as {', '.join(list(known)[:5])}. Put options under one.")
        cls = known.get(section)
        if cls is None:
            import difflib  # only on a misspelling: not loaded in every kernel

            guess = difflib.get_close_matches(section, known, n=1)
            hint = f" Did you mean {guess[0]}?" if guess else ""
            warnings.append(f"In {origin}: no installed part of jup reads section {section!r}; it is "
                            f"ignored.{hint}")
            continue
        if not isinstance(options, dict):
            raise ConfigError(f"In {origin}: {section} must hold options, got {_show(options)}.")
        allowed = sorted(cls.class_traits(config=True))
        for name, value in options.items():
            trait = _trait_of(cls, name)
            if trait is None:
                import difflib  # only on a misspelling: not loaded in every kernel

                guess = difflib.get_close_matches(name, allowed, n=1)
                hint = f"Did you mean {section}.{guess[0]}? " if guess else ""
                raise ConfigError(f"In {origin}: {section}.{name} is not an option of {section}. {hint}"
                                  f"Its options are: {', '.join(allowed) or '(none)'}.")
            _check_value(origin, section, name, trait, value)
    return warnings


# ---- command line -----------------------------------------------------------------------------

def split_overrides(argv: Iterable[str]) -> list[tuple[str, str, str]]:
    """``--Class.trait=value`` arguments as (class, trait, raw value); ConfigError if malformed."""
    out = []
    for arg in argv:
        body = arg[2:] if arg.startswith("--") else arg
        key, sep, raw = body.partition("=")
        cls_name, dot, trait = key.partition(".")
        if not sep or not dot or not cls_name or not trait:
            raise ConfigError(f"On the command line: {arg!r} is not of the form --Class.option=value.")
        out.append((cls_name, trait, raw))
    return out


def _parse_overrides(items: list[tuple[str, str, str]], known: dict[str, type[Configurable]]) -> Config:
    tl = _traitlets()
    grouped: dict[tuple[str, str], list[str]] = {}
    for cls_name, trait_name, raw in items:
        grouped.setdefault((cls_name, trait_name), []).append(raw)
    cfg = tl.Config()
    for (cls_name, trait_name), raws in grouped.items():
        cls = known.get(cls_name)
        if cls is None:
            raise ConfigError(f"On the command line: no installed part of jup has options under "
                              f"{cls_name!r}. Known classes: {', '.join(known)}.")
        trait = _trait_of(cls, trait_name)
        if trait is None:
            options = ", ".join(sorted(cls.class_traits(config=True)))
            raise ConfigError(f"On the command line: {cls_name}.{trait_name} is not an option of "
                              f"{cls_name}. Its options are: {options}.")
        try:
            if hasattr(trait, "from_string_list"):
                literal = len(raws) == 1 and raws[0].lstrip()[:1] in "[({"
                value = ast.literal_eval(raws[0]) if literal else trait.from_string_list(raws)
            else:
                value = trait.from_string(raws[-1])
        except Exception:
            raise ConfigError(f"On the command line: {cls_name}.{trait_name} must be "
                              f"{describe_trait(trait)}, got {raws[-1]!r}.")
        _check_value(CLI_SOURCE, cls_name, trait_name, trait, value)
        cfg[cls_name][trait_name] = value
    return cfg


# ---- plugin filters (read before plugins load) --------------------------------------------------

def _filters(layers: list[tuple[str, Config]], origin_override: list[tuple[str, str, str]] = ()
             ) -> tuple[dict[str, str], list[str] | None]:
    cli = [o for o in origin_override if o[0] == "Plugins"]
    if not cli and not any("Plugins" in cfg for _origin, cfg in layers):
        return {}, None  # nothing sets them: no need for traitlets
    tl = _traitlets()
    merged = tl.Config()
    where: dict[str, str] = {}
    plugins_cls = {"Plugins": tl.Plugins}
    for origin, cfg in layers:
        if "Plugins" in cfg:
            section = tl.Config({"Plugins": copy.deepcopy(cfg["Plugins"])})
            validate_config(section, origin, plugins_cls)
            merged.merge(section)
            for key in cfg["Plugins"]:
                where[key] = origin
    if cli:
        merged.merge(_parse_overrides(cli, plugins_cls))
        for _c, key, _v in cli:
            where[key] = CLI_SOURCE
    probe = tl.Plugins(config=merged)
    blocked = {n: f"blocked by Plugins.blocked ({where.get('blocked')})" for n in probe.blocked}
    allowed = list(probe.allowed) or None
    return blocked, allowed


def plugin_filters_from_files(config_dir: str | None = None) -> tuple[dict[str, str], list[str] | None]:
    """Plugins.blocked (with the file that set it) and Plugins.allowed (None = off) from config files."""
    return _filters(_read_layers(config_dir))


# ---- the whole load -----------------------------------------------------------------------------

_CURRENT: tuple[Config, ConfigSources] | None = None


def _record(sources: ConfigSources, cfg: Config, origin: str) -> None:
    for section, options in cfg.items():
        if isinstance(options, dict):
            for name in options:
                sources[f"{section}.{name}"] = origin


def load_config(argv_overrides: Iterable[str] | None = None, *, config_dir: str | None = None,
                blocked: Iterable[str] = ()) -> tuple[Config, ConfigSources]:
    """Load every layer, validate it, and load plugins with the resulting filters.

    `argv_overrides` are ``--Class.trait=value`` strings; `blocked` are names from ``--block``.
    Returns the merged Config and where each value came from; also remembered for `get_config()`.
    """
    global _CURRENT
    from jup.core import pluginhost as plugins

    tl = _traitlets()
    overrides = split_overrides(argv_overrides or [])
    layers = _read_layers(config_dir)
    cfg_blocked, allowed = _filters(layers, overrides)
    env_blocked, env_allowed = plugins.plugin_filters_from_env()
    all_blocked = {**cfg_blocked, **{n: "blocked by --block" for n in blocked}, **env_blocked}
    if env_allowed is not None:
        allowed = env_allowed
    host = plugins.get_plugin_manager(blocked=all_blocked, allowed=allowed)

    known = known_configurables()
    merged, sources, warnings = tl.Config(), ConfigSources(), []
    for name, defaults in host.call_each("jup_config_defaults"):
        origin = f"defaults from plugin {name}"
        try:
            if not isinstance(defaults, dict):
                raise ConfigError(f"In {origin}: jup_config_defaults must return a dict of sections, "
                                  f"got {_show(defaults)}.")
            layer = tl.Config(defaults)
            warnings += validate_config(layer, origin, known)
        except ConfigError as exc:
            host.warn(f"{exc} These defaults are skipped.")
            continue
        merged.merge(copy.deepcopy(layer))
        _record(sources, layer, origin)
    for origin, layer in layers:
        warnings += validate_config(layer, origin, known)
        merged.merge(copy.deepcopy(layer))
        _record(sources, layer, origin)
    cli = _parse_overrides(overrides, known)
    merged.merge(cli)
    _record(sources, cli, CLI_SOURCE)
    for text in dict.fromkeys(warnings):
        print(f"jup: warning: {text}", file=sys.stderr, flush=True)

    final = tl.Plugins(config=merged)  # defaults from plugins may block more
    late = {n: f"blocked by Plugins.blocked ({sources.source('Plugins.blocked')})"
            for n in final.blocked if n not in all_blocked}
    host.apply_filters(late, env_allowed if env_allowed is not None else (list(final.allowed) or None))
    _CURRENT = (merged, sources)
    return merged, sources


def current_config() -> Config | None:
    """The config loaded so far in this process, or None if nothing has loaded it yet."""
    return None if _CURRENT is None else _CURRENT[0]


def get_config() -> Config:
    """The config of this process (loading it on first use); pass it to Configurables as config=."""
    if _CURRENT is None:
        load_config()
    assert _CURRENT is not None
    return _CURRENT[0]


def get_config_sources() -> ConfigSources:
    """Where each value of `get_config()` came from."""
    get_config()
    assert _CURRENT is not None
    return _CURRENT[1]


def effective_config(cfg: Config, sources: ConfigSources) -> list[tuple[str, Any, str]]:
    """("Class.trait", value, source) for every known option, then any set option nobody reads."""
    tl = _traitlets()
    rows = []
    known = known_configurables()
    for cls_name, cls in known.items():
        for name, trait in sorted(cls.class_traits(config=True).items()):
            key = f"{cls_name}.{name}"
            value = trait.default()
            if cls_name in cfg and name in cfg[cls_name]:
                value = cfg[cls_name][name]
                if isinstance(value, tl.LazyConfigValue):
                    value = copy.deepcopy(value).get_value(trait.default())
            rows.append((key, value, sources.source(key)))
    for section, options in cfg.items():
        if section not in known and isinstance(options, dict):
            for name, value in options.items():
                rows.append((f"{section}.{name}", value, f"{sources.source(f'{section}.{name}')} (unused)"))
    return rows


def generate_config() -> str:
    """A jup_config.py listing every known option, commented out, with its help and default."""
    lines = ["# jup configuration file, generated by `jup config generate`.",
             "# Uncomment a line and change its value to set an option. Layers, later wins:",
             "# plugin defaults -> system dirs -> this user dir -> --Class.option=value.",
             "", "c = get_config()  # noqa: F821", ""]
    for cls_name, cls in known_configurables().items():
        traits = sorted(cls.class_traits(config=True).items())
        if not traits:
            continue
        doc = (cls.__doc__ or "").strip().splitlines()
        lines.append(f"# ---- {cls_name}" + (f": {doc[0]}" if doc else "") + " " + "-" * 20)
        for name, trait in traits:
            lines.append("")
            for help_line in textwrap.wrap(" ".join((trait.help or "(no help)").split()), 96):
                lines.append(f"# {help_line}")
            lines.append(f"# Takes {describe_trait(trait)}.")
            default = trait.default()
            try:
                text = repr(default)
                ok = ast.literal_eval(text) == default
            except (ValueError, SyntaxError, TypeError):
                ok = False
            if ok:
                lines.append(f"# c.{cls_name}.{name} = {text}")
            else:
                lines.append(f"# Default: {trait.default_value_repr()}")
        lines.append("")
    return "\n".join(lines) + "\n"
