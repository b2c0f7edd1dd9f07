"""The `jup` command: global options, configuration, then a subcommand from the jup_subcommands hook.

A thin dispatcher rather than a traitlets Application, so `jup --version` costs almost nothing and
`jup --help` only what discovering plugins costs; configuration itself is traitlets (jup.core.config).
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field

USAGE = "usage: jup [--block NAME] [--config-dir DIR] [--Class.option=value] COMMAND [ARGS...]"
_OVERRIDE = re.compile(r"^--[A-Z][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*(=|$)")


class UsageError(Exception):
    """The command line could not be understood."""


@dataclass
class GlobalOptions:
    """What came before the subcommand (and any --Class.option=value after it)."""

    blocked: list[str] = field(default_factory=list)
    config_dir: str | None = None
    overrides: list[str] = field(default_factory=list)
    help: bool = False
    version: bool = False
    command: str | None = None
    args: list[str] = field(default_factory=list)


def _take_value(argv: list[str], i: int, flag: str) -> tuple[str, int]:
    arg = argv[i]
    if "=" in arg:
        return arg.split("=", 1)[1], i + 1
    if i + 1 >= len(argv):
        raise UsageError(f"{flag} needs a value")
    return argv[i + 1], i + 2


def parse_globals(argv: list[str]) -> GlobalOptions:
    """Split argv into global options, the subcommand and its arguments."""
    opts = GlobalOptions()
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in ("-h", "--help"):
            opts.help, i = True, i + 1
        elif arg in ("-V", "--version"):
            opts.version, i = True, i + 1
        elif arg == "--block" or arg.startswith("--block="):
            value, i = _take_value(argv, i, "--block")
            opts.blocked.extend(n.strip() for n in value.split(",") if n.strip())
        elif arg == "--config-dir" or arg.startswith("--config-dir="):
            opts.config_dir, i = _take_value(argv, i, "--config-dir")
        elif _OVERRIDE.match(arg):
            if "=" not in arg:
                value, i = _take_value(argv, i, arg)
                arg = f"{arg}={value}"
            else:
                i += 1
            opts.overrides.append(arg)
        elif arg.startswith("-"):
            raise UsageError(f"unknown option {arg!r}")
        else:
            opts.command = arg
            rest = argv[i + 1:]
            opts.overrides += [a for a in rest if _OVERRIDE.match(a) and "=" in a]
            opts.args = [a for a in rest if not (_OVERRIDE.match(a) and "=" in a)]
            break
    return opts


def _subcommands(host) -> dict:
    """Every subcommand by name; built-in names cannot be taken over by a plugin."""
    from jup.core.builtin_commands import BUILTIN

    found: dict = {}
    for plugin, specs in host.call_each("jup_subcommands"):
        for spec in specs if isinstance(specs, list | tuple) else [specs]:
            name = getattr(spec, "name", None)
            if not isinstance(name, str) or not callable(getattr(spec, "run", None)):
                host.warn(f"plugin '{plugin}' returned {spec!r} from jup_subcommands, not a SubcommandSpec; "
                          "it is skipped.")
                continue
            if name in BUILTIN and plugin != "core-commands":
                host.warn(f"plugin '{plugin}' offers subcommand {name!r}, which is a built-in jup command; "
                          "it is ignored.")
                continue
            found.setdefault(name, (plugin, spec))
    return found


def _help(commands: dict) -> str:
    lines = [USAGE, "", "Interactive computing where every feature is a plugin.", "", "Commands:"]
    width = max([len(n) for n in commands] + [10])
    for name, (plugin, spec) in sorted(commands.items(), key=lambda kv: (kv[1][0] != "core-commands", kv[0])):
        origin = "" if plugin == "core-commands" else f"  [plugin {plugin}]"
        lines.append(f"  {name.ljust(width)}  {spec.description}{origin}")
    lines += ["", "Global options:",
              "  --block NAME            do not load plugin NAME (repeatable; also JUP_BLOCK_PLUGINS)",
              "  --config-dir DIR        read the user config from DIR (also JUP_CONFIG_DIR)",
              "  --Class.option=VALUE    set a configuration option (see `jup config show`)",
              "  -h, --help              show this help;  -V, --version  show the version",
              "", "Run `jup COMMAND --help` for a command's own options."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the `jup` command; return its exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        opts = parse_globals(argv)
    except UsageError as exc:
        print(f"{USAGE}\njup: error: {exc}. Run `jup --help` for the options.", file=sys.stderr)
        return 2
    if opts.version:
        from jup.core import __version__

        print(f"jup {__version__}")
        return 0
    if opts.config_dir:
        os.environ["JUP_CONFIG_DIR"] = os.path.abspath(opts.config_dir)  # kernels and frontends see it too

    from jup.core import config
    from jup.core.errors import JupError
    from jup.core.pluginhost import get_plugin_manager

    try:
        if opts.overrides or opts.blocked or config.config_files_present():
            config.load_config(opts.overrides, blocked=opts.blocked)
            host = get_plugin_manager()
        else:  # nothing to read or check: config loads on first use (get_config), unless plugins
            host = get_plugin_manager()  # give defaults, which may block plugins: then load it now
            if host.pm.hook.jup_config_defaults.get_hookimpls():
                config.load_config()
        commands = _subcommands(host)
        if opts.help or opts.command is None:
            print(_help(commands), file=sys.stdout if opts.help else sys.stderr)
            return 0 if opts.help else 2
        if opts.command not in commands:
            print(f"jup: error: no command {opts.command!r}. Commands: {', '.join(sorted(commands))}. "
                  "Run `jup --help` for details.", file=sys.stderr)
            return 2
        plugin, spec = commands[opts.command]
        try:
            return int(spec.run(opts.args) or 0)
        except (JupError, KeyboardInterrupt, SystemExit):
            raise
        except Exception as exc:
            if os.environ.get("JUP_DEBUG"):
                raise
            print(f"jup: error: command {opts.command!r} from plugin '{plugin}' failed with "
                  f"{type(exc).__name__}: {exc}. Set JUP_DEBUG=1 to see the traceback.", file=sys.stderr)
            return 1
    except JupError as exc:
        print(f"jup: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
