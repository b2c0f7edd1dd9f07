#!/usr/bin/env python3
"""Generate a new jup plugin distribution from plugin-template/template/.

Usage: python plugin-template/generate.py NAME [--dest DIR] [--description TEXT]

NAME (e.g. `jup-hello`) is the distribution name and the plugin's name in `jup plugins list`;
the Python package is NAME with dashes turned into underscores. The result is a working plugin
with a test that loads it through the real entry-point mechanism: `pip install -e DIR/NAME`,
then `pytest DIR/NAME/tests`.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parent / "template"
NAME_RE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


def generate(name: str, dest: Path, description: str = "") -> Path:
    """Write the plugin distribution NAME under dest; return its directory."""
    if not NAME_RE.match(name):
        raise ValueError(f"{name!r} is not a usable plugin name: use lower-case letters, digits and single "
                         "dashes, starting with a letter (e.g. jup-hello).")
    target = dest / name
    if target.exists():
        raise FileExistsError(f"{target} exists already; choose another --dest or remove it.")
    values = {"__NAME__": name, "__MODULE__": name.replace("-", "_"),
              "__DESCRIPTION__": description or f"A jup plugin: {name}"}
    for src in sorted(TEMPLATE.rglob("*")):
        if src.is_dir() or "__pycache__" in src.parts:
            continue
        rel = str(src.relative_to(TEMPLATE))
        text = src.read_text(encoding="utf-8")
        for key, value in values.items():
            rel, text = rel.replace(key, value), text.replace(key, value)
        out = target / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="generate.py", description="Generate a new jup plugin distribution.")
    parser.add_argument("name", help="distribution and plugin name, e.g. jup-hello")
    parser.add_argument("--dest", default=".", help="directory to create the plugin in (default: .)")
    parser.add_argument("--description", default="", help="one line for the package metadata")
    args = parser.parse_args(argv)
    try:
        target = generate(args.name, Path(args.dest), args.description)
    except (ValueError, FileExistsError) as exc:
        print(f"generate.py: error: {exc}", file=sys.stderr)
        return 2
    print(f"Created {target}. Next: pip install -e {target} && pytest {target / 'tests'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
