"""Every jup hook, in one place. This module is the reference: `docs/hooks.md` is generated from it.

Each hook's docstring says when jup calls it, what it returns and whether the first result wins.
Implementations take any subset of the arguments, so hooks can grow without breaking plugins.
"""

from __future__ import annotations

from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("jup")
hookimpl = pluggy.HookimplMarker("jup")


# ---- frontends and commands ---------------------------------------------------------------------

@hookspec
def jup_frontends() -> list:
    """Called when `jup run` looks for frontends.

    Return a list of :class:`jup.core.specs.FrontendSpec`. All results are collected; a name
    given twice is taken from the plugin registered last.
    """


@hookspec
def jup_subcommands() -> list:
    """Called when the `jup` command builds its subcommands.

    Return a list of :class:`jup.core.specs.SubcommandSpec`; each becomes `jup NAME ...`.
    """


# ---- kernels ------------------------------------------------------------------------------------

@hookspec
def jup_kernels() -> list:
    """Called when kernelspecs are listed or a kernel is looked up by name.

    Return a list of :class:`jup.core.specs.KernelSpecInfo`. These take precedence over Jupyter
    kernelspec directories for the same name.
    """


@hookspec
def jup_kernel_startup(kernel: Any) -> None:
    """Called in the kernel process once the kernel is ready, before the first request.

    `kernel` is the running kernel object (for the Python kernel, it has `.shell`). Return nothing.
    """


@hookspec
def jup_pre_execute(kernel: Any, code: str) -> None:
    """Called in the kernel before each cell runs. Return nothing."""


@hookspec
def jup_post_execute(kernel: Any, code: str, result: Any) -> None:
    """Called in the kernel after each cell ran, with the execution result. Return nothing."""


@hookspec
def jup_input_transformers(language: str) -> list:
    """Called once per kernel start. Return a list of callables `str -> str` applied, in order,
    to the source of every cell before it is compiled (after the kernel's own transforms)."""


# ---- kernel-side features -----------------------------------------------------------------------

@hookspec
def jup_magics(language: str) -> list:
    """Called once per kernel start. Return a list of :class:`jup.core.specs.MagicSpec` for kernels
    of `language` (return [] for languages you do not serve). Later plugins override earlier names."""


@hookspec
def jup_display_formatters() -> list:
    """Called once per kernel start. Return a list of :class:`jup.core.specs.FormatterSpec`.
    A formatter that raises falls back to text/plain and the kernel says why on stderr."""


# ---- parallel -----------------------------------------------------------------------------------

@hookspec
def jup_cluster_launchers() -> list:
    """Called when a cluster is started. Return a list of :class:`jup.core.specs.LauncherSpec`."""


# ---- configuration and branding -----------------------------------------------------------------

@hookspec
def jup_config_defaults() -> dict:
    """Called when configuration is loaded, before any config file.

    Return a nested dict like a `jup_config.json`, e.g. ``{"Plugins": {"blocked": ["x"]}}``.
    Results are merged in plugin order; config files and the command line override them.
    """


@hookspec(firstresult=True)
def jup_branding() -> Any:
    """Called when a frontend shows the product's name or banner.

    Return a :class:`jup.core.specs.Branding`; the first non-None result wins, so an
    organisation's distribution plugin overrides jup's own.
    """
