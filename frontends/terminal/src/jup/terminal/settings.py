"""What a user can configure about the shell, as traitlets under the `TerminalShell` section.

Set them in `jup_config.py` (`c.TerminalShell.editing_mode = "vi"`), in `jup_config.json`
(`{"TerminalShell": {"editing_mode": "vi"}}`) or on the command line (`--TerminalShell.confirm_exit=False`).
Imported only for the interactive shell, so `-c` runs stay light.
"""

from __future__ import annotations

import os

from traitlets import Bool, CaselessStrEnum, Integer, Unicode
from traitlets.config import Config, Configurable

from jup.core.errors import ConfigError


class TerminalShell(Configurable):
    """Options of `jup run terminal`."""

    editing_mode = CaselessStrEnum(["emacs", "vi"], default_value="emacs",
                                   help="Key bindings: emacs (default) or vi.").tag(config=True)
    confirm_exit = Bool(True, help="Ask before Ctrl-D exits the shell.").tag(config=True)
    autosuggest = Bool(True, help="Grey suggestions from history, accepted with the right arrow.").tag(config=True)
    highlighting_style = Unicode("default", help="A pygments style name for code and prompts "
                                 "(see `pygmentize -L styles`).").tag(config=True)
    highlight = Bool(True, help="Syntax-highlight the input with the kernel's pygments lexer.").tag(config=True)
    prompt_in = Unicode("In [{n}]: ", help="Input prompt; {n} is the execution count.").tag(config=True)
    prompt_cont = Unicode("...: ", help="Continuation prompt, right-aligned under the input prompt.").tag(config=True)
    prompt_out = Unicode("Out[{n}]: ", help="Result prompt; {n} is the execution count.").tag(config=True)
    color_prompt_in = Unicode("ansigreen", help="Colour of the input prompt (prompt_toolkit style).").tag(config=True)
    color_prompt_out = Unicode("ansired", help="Colour of the result prompt (prompt_toolkit style).").tag(config=True)
    history_length = Integer(1000, help="How many of the kernel's past inputs to load on start.").tag(config=True)
    image_protocol = CaselessStrEnum(["auto", "kitty", "iterm2", "file"], default_value="auto",
                                     help="How to show images: detect, a protocol, or save to a file.").tag(config=True)
    banner = Bool(True, help="Show the banner naming the kernel on start.").tag(config=True)


def _file_config() -> Config:
    """The user's layered config (jup.core.config), or just the user's files if core lacks a loader."""
    try:
        from jup.core.config import get_config, register_configurable
    except ImportError:
        get_config = register_configurable = None
    if get_config is not None:
        register_configurable(TerminalShell)
        return Config(get_config())
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


def load_settings(overrides: list[str] | None = None) -> TerminalShell:
    """Settings from config files, then `--TerminalShell.name=value` overrides."""
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
    lines = []
    for name, trait in sorted(TerminalShell.class_traits(config=True).items()):
        lines.append(f"--TerminalShell.{name}={trait.default_value!r}\n    {trait.help}")
    return "\n".join(lines)
