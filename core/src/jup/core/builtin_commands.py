"""The core's own plugin: `jup run`, `jup kernel`, `jup kernelspec`, `jup plugins`, `jup config`.

Written exactly as a third-party plugin would be: it implements `jup_subcommands` and reaches the
rest of jup only through public functions, so every built-in command proves the hook works.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from jup.core.errors import ConfigError, JupError
from jup.core.hookspecs import hookimpl
from jup.core.specs import FrontendSpec, SubcommandSpec


def _Parser(**kwargs: Any) -> Any:  # noqa: N802 (was a class; callers keep the name)
    """argparse that reports usage errors as exit code 2 without a traceback (its default).
    Imported here: every kernel loads this plugin, and argparse costs it ~0.4 MiB idle."""
    import argparse

    return argparse.ArgumentParser(**kwargs)


def _err(message: str) -> None:
    print(f"jup: error: {message}", file=sys.stderr, flush=True)


def _host() -> Any:
    from jup.core.pluginhost import get_plugin_manager

    return get_plugin_manager()


def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    out = []
    for row in [header, *rows]:
        out.append("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(out)


# ---- jup run ------------------------------------------------------------------------------------

def installed_frontends() -> dict[str, FrontendSpec]:
    """Frontends offered through the jup_frontends hook; a later-registered plugin wins a name."""
    host = _host()
    found: dict[str, FrontendSpec] = {}
    for plugin, specs in host.call_each("jup_frontends"):
        for spec in specs if isinstance(specs, list | tuple) else [specs]:
            name = getattr(spec, "name", None)
            if not isinstance(name, str) or not callable(getattr(spec, "run", None)):
                host.warn(f"plugin '{plugin}' returned {spec!r} from jup_frontends, not a FrontendSpec; "
                          "it is skipped.")
                continue
            if name not in found:  # results come last-registered first
                found[name] = spec
                _PROVIDERS[name] = plugin
    return dict(sorted(found.items()))


_PROVIDERS: dict[str, str] = {}  # frontend name -> plugin, for error messages


def _frontend_list(frontends: dict[str, FrontendSpec]) -> str:
    if not frontends:
        return "No frontends are installed. Install one, e.g. `pip install jup-terminal`."
    rows = [[n, s.description] for n, s in frontends.items()]
    return "Installed frontends:\n" + "\n".join("  " + line for line in _table(rows, ["NAME", ""]).splitlines()[1:])


def cmd_run(argv: list[str]) -> int:
    """Start a frontend by name; with no name, list them."""
    if argv and argv[0] in ("-h", "--help"):
        print("usage: jup run NAME [ARGS...]\n\nStart the frontend NAME, passing ARGS to it.\n")
        print(_frontend_list(installed_frontends()))
        return 0
    frontends = installed_frontends()
    if not argv:
        print(_frontend_list(frontends))
        return 0
    name, rest = argv[0], argv[1:]
    spec = frontends.get(name)
    if spec is None:
        _err(f"no frontend named {name!r}.")
        print(_frontend_list(frontends), file=sys.stderr)
        return 2
    try:
        code = spec.run(rest)
    except (JupError, KeyboardInterrupt, SystemExit):
        raise
    except Exception as exc:
        if os.environ.get("JUP_DEBUG"):
            raise
        _err(f"frontend {name!r} (plugin '{_PROVIDERS.get(name, '?')}') failed with {type(exc).__name__}: "
             f"{exc}. Set JUP_DEBUG=1 to see the traceback.")
        return 1
    return int(code or 0)


# ---- jup kernel ---------------------------------------------------------------------------------

def _need(module: str, what: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:
            raise
        raise JupError(f"{what} is not available: module {module} is missing from this installation. "
                       "Reinstall jup-core (`pip install -e core`).")


def cmd_kernel(argv: list[str]) -> int:
    """Run one kernel in this process, attached to a connection file."""
    parser = _Parser(prog="jup kernel", description="Run a standalone kernel.")
    parser.add_argument("--kernel", required=True, metavar="NAME", help="kernel name (see `jup kernelspec list`)")
    parser.add_argument("-f", "--connection-file", metavar="FILE",
                        help="connection file to use or write (default: a new one in the runtime dir)")
    args = parser.parse_args(argv)
    kernelrun = _need("jup.core.kernelrun", "`jup kernel`")
    return int(kernelrun.run_kernel(args.kernel, args.connection_file) or 0)


# ---- jup kernelspec -----------------------------------------------------------------------------

def _spec_field(spec: Any, name: str) -> str:
    value = getattr(spec, name, None)
    if value is None and isinstance(spec, dict):
        value = spec.get(name)
    return "" if value is None else str(value)


def cmd_kernelspec(argv: list[str]) -> int:
    """List, install or remove kernelspecs (Jupyter's kernel.json files)."""
    parser = _Parser(prog="jup kernelspec", description="Manage kernelspecs that Jupyter tools can use.")
    sub = parser.add_subparsers(dest="action", required=True, metavar="{list,install,remove}")
    sub.add_parser("list", help="list kernels from plugins and from Jupyter's kernelspec dirs")
    inst = sub.add_parser("install", help="write NAME's kernel.json so Jupyter tools can start it")
    inst.add_argument("name")
    where = inst.add_mutually_exclusive_group()
    where.add_argument("--user", action="store_true", help="into the user's Jupyter data dir (default)")
    where.add_argument("--sys-prefix", action="store_true", help=f"into {sys.prefix}/share/jupyter")
    where.add_argument("--prefix", metavar="P", help="into P/share/jupyter")
    rem = sub.add_parser("remove", help="delete an installed kernelspec")
    rem.add_argument("name")
    args = parser.parse_args(argv)
    ks = _need("jup.core.kernelspec", "`jup kernelspec`")
    if args.action == "list":
        specs = ks.find_kernel_specs()
        if not specs:
            print("No kernels found. Install a kernel plugin, e.g. `pip install jup-python`.")
            return 0
        rows = [[n, _spec_field(s, "display_name"), _spec_field(s, "resource_dir") or "(plugin)"]
                for n, s in sorted(specs.items())]
        print(_table(rows, ["NAME", "DISPLAY NAME", "LOCATION"]))
        return 0
    if args.action == "install":
        user = args.user or not (args.sys_prefix or args.prefix)
        try:
            path = ks.install_kernel_spec(args.name, user=user, sys_prefix=args.sys_prefix, prefix=args.prefix)
        except PermissionError as exc:
            _err(str(exc))
            return 1
        print(f"Installed kernelspec {args.name} in {path}")
        return 0
    remove = getattr(ks, "remove_kernel_spec", None)
    if remove is None:
        raise JupError("`jup kernelspec remove` is not available in this jup-core version.")
    path = remove(args.name)
    print(f"Removed kernelspec {args.name}" + (f" from {path}" if path else ""))
    return 0


# ---- jup plugins --------------------------------------------------------------------------------

def cmd_plugins(argv: list[str]) -> int:
    """Show which plugins are installed, what they implement and whether they loaded."""
    parser = _Parser(prog="jup plugins", description="Inspect installed plugins.")
    sub = parser.add_subparsers(dest="action", required=True, metavar="{list}")
    sub.add_parser("list", help="name, distribution, version, hooks and status of every plugin")
    parser.parse_args(argv)
    rows = []
    for rec in _host().records:
        status = rec.status if not rec.error else f"{rec.status}: {rec.error}"
        hooks = ", ".join(h.removeprefix("jup_") for h in rec.hooks) or "-"
        rows.append([rec.name, rec.distribution or "-", rec.version or "-", hooks, status])
    print(_table(rows, ["NAME", "DISTRIBUTION", "VERSION", "HOOKS", "STATUS"]))
    return 0


# ---- jup config ---------------------------------------------------------------------------------

def cmd_config(argv: list[str]) -> int:
    """Show the effective configuration with sources, or write a commented config file."""
    from jup.core import config, paths

    parser = _Parser(prog="jup config", description="Inspect or create jup configuration.")
    sub = parser.add_subparsers(dest="action", required=True, metavar="{show,generate,paths}")
    sub.add_parser("show", help="every option's effective value and where it came from")
    gen = sub.add_parser("generate", help="write a commented jup_config.py listing every option")
    gen.add_argument("--path", help="file to write (default: jup_config.py in the user config dir)")
    gen.add_argument("--force", action="store_true", help="overwrite an existing file")
    sub.add_parser("paths", help="the config files jup reads, lowest priority first")
    args = parser.parse_args(argv)
    if args.action == "paths":
        for p in config.config_files():
            print(f"{p}{'' if os.path.isfile(p) else '  (absent)'}")
        return 0
    if args.action == "show":
        cfg, sources = config.get_config(), config.get_config_sources()
        rows = [[key, repr(value), source] for key, value, source in config.effective_config(cfg, sources)]
        print(_table(rows, ["OPTION", "VALUE", "SOURCE"]))
        return 0
    path = args.path or os.path.join(paths.jup_config_dir(), "jup_config.py")
    if os.path.exists(path) and not args.force:
        raise ConfigError(f"{path} exists already; pass --force to overwrite it or --path to write elsewhere.")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(config.generate_config())
    print(f"Wrote {path}")
    return 0


BUILTIN = {
    "run": (cmd_run, "start a frontend (`jup run` lists them)"),
    "kernel": (cmd_kernel, "run a standalone kernel: --kernel NAME [-f CONNECTION_FILE]"),
    "kernelspec": (cmd_kernelspec, "list | install NAME | remove NAME Jupyter kernelspecs"),
    "plugins": (cmd_plugins, "list installed plugins and their status"),
    "config": (cmd_config, "show | generate | paths: the configuration and where it comes from"),
    "kernels": (lambda argv: _need("jup.core.doctor", "`jup kernels`").cmd_kernels(argv),
                "doctor [NAME] | list: check installed kernels as a user meets them"),
}


@hookimpl
def jup_subcommands() -> list[SubcommandSpec]:
    """The built-in commands, offered through the same hook a third party uses."""
    return [SubcommandSpec(name, run, description) for name, (run, description) in BUILTIN.items()]
