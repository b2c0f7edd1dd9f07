"""What a user can configure about the shell, as traitlets under the `TerminalShell` section.

Set them in `jup_config.py` (`c.TerminalShell.editing_mode = "vi"`), in `jup_config.json`
(`{"TerminalShell": {"editing_mode": "vi"}}`) or on the command line (`--TerminalShell.confirm_exit=False`).
Imported only for the interactive shell, so `-c` runs stay light.
"""

from __future__ import annotations

import os
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from jup.core.errors import ConfigError

if TYPE_CHECKING:
    from traitlets.config import Config

# name: (kind, default, help[, choices]); the traitlets class below is made from this table, and a
# start with nothing to configure gets these defaults without importing traitlets (~15 ms)
OPTIONS: dict[str, tuple] = {
    "editing_mode": ("enum", "emacs", "Key bindings: emacs (default) or vi.", ["emacs", "vi"]),
    "confirm_exit": ("bool", True, "Ask before Ctrl-D exits the shell."),
    "autosuggest": ("bool", True, "Grey suggestions from history, accepted with the right arrow."),
    "highlighting_style": ("str", "default", "A pygments style name for code and prompts "
                           "(see `pygmentize -L styles`)."),
    "highlight": ("bool", True, "Syntax-highlight the input with the kernel's pygments lexer."),
    "prompt_in": ("str", "In [{n}]: ", "Input prompt; {n} is the execution count."),
    "prompt_cont": ("str", "...: ", "Continuation prompt, right-aligned under the input prompt."),
    "prompt_out": ("str", "Out[{n}]: ", "Result prompt; {n} is the execution count."),
    "color_prompt_in": ("str", "ansigreen", "Colour of the input prompt (prompt_toolkit style)."),
    "color_prompt_out": ("str", "ansired", "Colour of the result prompt (prompt_toolkit style)."),
    "history_length": ("int", 1000, "How many of the kernel's past inputs to load on start."),
    "image_protocol": ("enum", "auto", "How to show images: detect, a protocol, or save to a file.",
                       ["auto", "kitty", "iterm2", "sixel", "file"]),
    "banner": ("bool", True, "Show the banner naming the kernel on start."),
    "instant_prompt": ("bool", True, "Show the banner and first prompt at once on start, keeping keys typed "
                       "before the shell is ready (see docs/terminal.md)."),
}


def _make_class() -> type:
    """The `TerminalShell` Configurable, with one trait per entry of OPTIONS."""
    from traitlets import Bool, CaselessStrEnum, Integer, Unicode
    from traitlets.config import Configurable

    kinds = {"bool": Bool, "str": Unicode, "int": Integer}
    traits: dict[str, Any] = {"__doc__": "Options of `jup run terminal`.", "__module__": __name__}
    for name, (kind, default, help_text, *choices) in OPTIONS.items():
        if kind == "enum":
            trait = CaselessStrEnum(choices[0], default_value=default, help=help_text)
        else:
            trait = kinds[kind](default, help=help_text)
        traits[name] = trait.tag(config=True)
    return type("TerminalShell", (Configurable,), traits)


_CLASS: type | None = None


def __getattr__(name: str) -> Any:
    """`TerminalShell`, made on first use (so importing this module costs no traitlets)."""
    global _CLASS
    if name == "TerminalShell":
        if _CLASS is None:
            _CLASS = _make_class()
        return _CLASS
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def defaults() -> SimpleNamespace:
    """The settings when nothing configures them: every option at its default."""
    return SimpleNamespace(**{name: spec[1] for name, spec in OPTIONS.items()})


def _nothing_configured() -> bool:
    """No config file, no TerminalShell option given to `jup` itself, and no plugin that gives config
    defaults (which might set ours)."""
    try:
        from jup.core.config import config_files_present, current_config
        from jup.core.pluginhost import get_plugin_manager
    except ImportError:
        return False
    loaded = current_config()
    if config_files_present() or (loaded is not None and "TerminalShell" in loaded):
        return False
    return not get_plugin_manager().pm.hook.jup_config_defaults.get_hookimpls()


def _file_config() -> Config:
    """The user's layered config (jup.core.config), or just the user's files if core lacks a loader."""
    try:
        from jup.core.config import get_config, register_configurable
    except ImportError:
        get_config = register_configurable = None
    if get_config is not None:
        register_configurable(__getattr__("TerminalShell"))
        from traitlets.config import Config
        return Config(get_config())
    from traitlets.config import Config
    from traitlets.config.loader import JSONFileConfigLoader, PyFileConfigLoader

    from jup.core.paths import jup_config_dir
    cfg = Config()
    folder = jup_config_dir()
    for name, loader in (("jup_config.py", PyFileConfigLoader), ("jup_config.json", JSONFileConfigLoader)):
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            try:
                cfg.merge(loader(name, path=folder).load_config())
            except Exception as e:
                raise ConfigError(f"{path} could not be read ({e}); fix or remove that file.") from None
    return cfg


def _literal(text: str) -> object:
    import ast
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def load_settings(overrides: list[str] | None = None) -> Any:
    """Settings from config files, then `--TerminalShell.name=value` overrides (a TerminalShell, or
    plain defaults when nothing configures the shell)."""
    if not overrides and _nothing_configured():
        return defaults()
    TerminalShell = __getattr__("TerminalShell")  # noqa: N806 (the class)
    cfg = _file_config()
    for item in overrides or []:
        key, _, value = item.lstrip("-").partition("=")
        section, _, name = key.partition(".")
        if section != "TerminalShell" or not name or not _:
            raise ConfigError(f"{item!r} is not an option; write --TerminalShell.NAME=VALUE "
                              f"(see `jup run terminal --help-config`).")
        if not TerminalShell.class_traits(config=True).get(name):
            raise ConfigError(f"TerminalShell has no option {name!r}; known: "
                              f"{', '.join(sorted(TerminalShell.class_traits(config=True)))}.")
        cfg.TerminalShell[name] = _literal(value)
    try:
        return TerminalShell(config=cfg)
    except Exception as e:
        raise ConfigError(f"A TerminalShell option has a wrong value: {e}") from None


def help_config() -> str:
    """The options, their defaults and help, for `--help-config`."""
    TerminalShell = __getattr__("TerminalShell")  # noqa: N806 (the class)
    lines = []
    for name, trait in sorted(TerminalShell.class_traits(config=True).items()):
        lines.append(f"--TerminalShell.{name}={trait.default_value!r}\n    {trait.help}")
    return "\n".join(lines)
