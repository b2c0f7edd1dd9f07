"""jup's built-in magics, one module per group, offered to Python kernels through the `jup_magics`
hook (see `jup.magics.plugin`). `jup.magics.args` helps third-party magics parse their arguments."""

from __future__ import annotations

from jup.magics.args import MagicArgumentParser, parse_argstring, split_options

__all__ = ["MagicArgumentParser", "parse_argstring", "split_options"]
