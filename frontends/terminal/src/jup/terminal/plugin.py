"""The plugin jup discovers through entry point group `jup.plugins`: it offers the `terminal` frontend."""

from __future__ import annotations

from jup.core import FrontendSpec, hookimpl


def _run(argv: list[str]) -> int:
    from jup.terminal.cli import main
    return main(argv)


@hookimpl
def jup_frontends() -> list:
    """`jup run terminal`: the interactive shell, or `-c`/`-m`/script runs without a prompt."""
    return [FrontendSpec(name="terminal", run=_run,
                         description="IPython-like terminal shell on any kernel")]


def _register_options() -> None:
    """Make `TerminalShell` known to jup's config, so its section is validated and shown by `jup config`;
    by name, so that traitlets is imported only when config is read (not for every `jup` start)."""
    from jup.core.config import register_configurable
    register_configurable("jup.terminal.settings:TerminalShell")


_register_options()
