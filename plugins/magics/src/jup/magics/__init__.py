"""jup's built-in magics, one module per group, offered to Python kernels through the `jup_magics`
hook (see `jup.magics.plugin`). `jup.magics.args` helps third-party magics parse their arguments."""

from __future__ import annotations

from typing import Any

from jup.magics.args import parse_argstring, split_options

__all__ = ["MagicArgumentParser", "parse_argstring", "split_options"]


def __getattr__(name: str) -> Any:
    """`MagicArgumentParser` on first use: it imports argparse, which idle kernels do without."""
    if name == "MagicArgumentParser":
        from jup.magics import args

        return args.MagicArgumentParser
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
