"""Cell magics that show the cell as rich output: %%html %%javascript %%js %%latex %%markdown %%svg."""

from __future__ import annotations

from typing import Any

from jup.core import UsageError
from jup.magics.args import magic_spec


def _show(shell: Any, mimetype: str, label: str, cell: str, line: str, prog: str) -> None:
    extra = line.split()
    if extra and not (prog == "html" and extra == ["--isolated"]):
        raise UsageError(f"%%{prog} takes no arguments" + (" except --isolated" if prog == "html" else ""))
    metadata = {mimetype: {"isolated": True}} if extra else {}
    shell.publisher.display({mimetype: cell, "text/plain": f"<{label} object>"}, metadata, {}, False)


def html(line: str, cell: str, *, shell: Any) -> None:
    """Show the cell as HTML (`%%html --isolated` renders it in its own frame)."""
    _show(shell, "text/html", "HTML", cell, line, "html")


def javascript(line: str, cell: str, *, shell: Any) -> None:
    """Run the cell as JavaScript in the browser (frontends that allow it)."""
    _show(shell, "application/javascript", "Javascript", cell, line, "javascript")


def latex(line: str, cell: str, *, shell: Any) -> None:
    """Show the cell as LaTeX (math and text mode, as the frontend renders it)."""
    _show(shell, "text/latex", "Latex", cell, line, "latex")


def markdown(line: str, cell: str, *, shell: Any) -> None:
    """Show the cell as Markdown."""
    _show(shell, "text/markdown", "Markdown", cell, line, "markdown")


def svg(line: str, cell: str, *, shell: Any) -> None:
    """Show the cell as an SVG image."""
    _show(shell, "image/svg+xml", "SVG", cell, line, "svg")


MAGICS = [magic_spec(html, "html", "cell"), magic_spec(javascript, "javascript", "cell"),
          magic_spec(javascript, "js", "cell"), magic_spec(latex, "latex", "cell"),
          magic_spec(markdown, "markdown", "cell"), magic_spec(svg, "svg", "cell")]
