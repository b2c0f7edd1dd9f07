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
    """Called when `jup run NAME` looks for frontends, and when it lists them (`jup run` alone or
    an unknown NAME).

    Return a list of :class:`jup.core.specs.FrontendSpec`. All results are collected; a name
    given twice is taken from the plugin registered last.
    """


@hookspec
def jup_subcommands() -> list:
    """Called each time the `jup` command runs (all but `jup --version`), to find its subcommands.

    Return a list of :class:`jup.core.specs.SubcommandSpec`; each becomes `jup NAME ...`. All
    results are collected; built-in command names cannot be taken over by a plugin.
    """


# ---- kernels ------------------------------------------------------------------------------------

@hookspec
def jup_kernels() -> list:
    """Called when kernelspecs are listed or a kernel is looked up by name.

    Return a list of :class:`jup.core.specs.KernelSpecInfo`. All results are collected; these take
    precedence over Jupyter kernelspec directories for the same name.
    """


@hookspec
def jup_kernel_startup(kernel: Any) -> None:
    """Called in the kernel process once the kernel is ready, before the first request.

    `kernel` is the running kernel object (for the Python kernel, it has `.shell`). Return nothing;
    every implementation is called (results are collected and ignored).
    """


@hookspec
def jup_pre_execute(kernel: Any, code: str) -> None:
    """Called in the kernel before each cell runs, before input transformers. Return nothing;
    every implementation is called (results are collected and ignored)."""


@hookspec
def jup_post_execute(kernel: Any, code: str, result: Any) -> None:
    """Called in the kernel after each cell ran (also when it failed), with its execution result.
    Return nothing; every implementation is called (results are collected and ignored)."""


@hookspec
def jup_input_transformers(language: str) -> list:
    """Called once per shell, when the kernel loads its plugins (see `jup_magics`). Return a list of
    callables `str -> str` applied, in order, to the source of every cell before it is compiled
    (after the kernel's own transforms). All results are collected."""


# ---- kernel-side features -----------------------------------------------------------------------

@hookspec
def jup_magics(language: str) -> list:
    """Called once per shell, when the Python kernel starts and loads its plugins: out of process by
    a background thread (the kernel already answers; the first cell waits for it), in-process right
    away. A bare `Shell` built by other code calls it at the first unknown magic or value shown.

    Return a list of :class:`jup.core.specs.MagicSpec` for kernels of `language` (return [] for
    languages you do not serve). All results are collected; later plugins override earlier names.
    """


@hookspec
def jup_display_formatters() -> list:
    """Called once per shell, with `jup_magics` (see there), when the Python kernel starts: out of
    process in a background thread, in-process right away; a bare `Shell` calls it the first time it
    shows a value.

    Return a list of :class:`jup.core.specs.FormatterSpec`. All results are collected. A formatter
    that raises costs the user nothing but its own mime type: the other representations and
    text/plain are still sent, and stderr names the formatter and its error.
    """


# ---- parallel -----------------------------------------------------------------------------------

@hookspec
def jup_cluster_launchers() -> list:
    """Called by the parallel plugin when a cluster is started, to find its launcher by name.

    Return a list of :class:`jup.core.specs.LauncherSpec`. All results are collected.
    """


# ---- configuration and branding -----------------------------------------------------------------

@hookspec
def jup_config_defaults() -> dict:
    """Called when configuration is loaded, before any config file.

    Return a nested dict like a `jup_config.json`, e.g. ``{"Plugins": {"blocked": ["x"]}}``.
    All results are collected and merged in plugin order; config files and the command line
    override them.
    """


@hookspec(firstresult=True)
def jup_branding() -> Any:
    """Called when a frontend shows the product's name or banner.

    Return a :class:`jup.core.specs.Branding`; the first non-None result wins, so an
    organisation's distribution plugin overrides jup's own.
    """
