"""Matplotlib inline: `module://jup.python.mpl_backend`.

Figures are drawn with Agg and sent as image/png (or image/svg+xml, see `set_formats`) when the
cell ends or on `plt.show()`, then closed, so each cell shows its own figures once. The kernel
makes this the default through MPLBACKEND unless the user chose a backend; `%matplotlib` calls
`activate`.
"""

from __future__ import annotations

import base64
import io
from typing import Any

import matplotlib
from matplotlib._pylab_helpers import Gcf
from matplotlib.backend_bases import FigureManagerBase, _Backend
from matplotlib.backends.backend_agg import FigureCanvasAgg

BACKEND = "module://jup.python.mpl_backend"

#: Image formats figures are sent in, in order ("png", "svg", "jpeg", "pdf").
formats: list[str] = ["png"]
#: Close figures after they were shown (as IPython's inline backend does).
close_figures = True

_MIME = {"png": "image/png", "svg": "image/svg+xml", "jpeg": "image/jpeg", "jpg": "image/jpeg",
         "pdf": "application/pdf"}
_registered_shell: Any = None
_shown_as_result: set[int] = set()  # figures a cell's result or display() already showed


def set_formats(*fmts: str) -> None:
    """Choose the formats inline figures are sent in, e.g. set_formats('svg')."""
    chosen = [f.lower().replace("retina", "png") for f in fmts] or ["png"]
    bad = [f for f in chosen if f not in _MIME]
    if bad:
        raise ValueError(f"Unknown figure format(s) {', '.join(bad)}; choose from png, svg, jpeg, pdf.")
    formats[:] = chosen


def _formats() -> list[str]:
    """`set_formats`, unless the shell's config says otherwise (`%config InlineBackend.figure_format
    = 'svg'`, as notebooks written for IPython do)."""
    from jup.python.shell import current
    shell = current()
    conf = getattr(shell, "config", None) if shell is not None else None
    inline = conf.get("InlineBackend") if isinstance(conf, dict) else None
    if isinstance(inline, dict):
        chosen = inline.get("figure_formats") or inline.get("figure_format")
        if isinstance(chosen, str):
            chosen = [chosen]
        if chosen:
            chosen = [str(f).lower().replace("retina", "png") for f in chosen]
            if all(f in _MIME for f in chosen):
                return chosen
    return formats


def figure_bundle(fig: Any) -> tuple[dict, dict]:
    """The mime bundle and metadata of one figure, in the chosen formats."""
    data: dict[str, Any] = {"text/plain": f"<Figure size {fig.bbox.width:g}x{fig.bbox.height:g} with "
                                          f"{len(fig.axes)} Axes>"}
    md: dict[str, Any] = {}
    for fmt in _formats():
        buf = io.BytesIO()
        fig.canvas.print_figure(buf, format=fmt, bbox_inches="tight", facecolor=fig.get_facecolor())
        raw = buf.getvalue()
        mime = _MIME[fmt]
        data[mime] = raw.decode("utf-8") if fmt == "svg" else base64.b64encode(raw).decode("ascii")
        if fmt == "png":
            w, h = _png_size(raw)
            if w:
                md[mime] = {"width": w, "height": h}
    return data, md


def _png_size(raw: bytes) -> tuple[int, int]:
    if raw[:8] == b"\x89PNG\r\n\x1a\n" and len(raw) >= 24:
        return int.from_bytes(raw[16:20], "big"), int.from_bytes(raw[20:24], "big")
    return 0, 0


def _publish(fig: Any) -> None:
    from jup.python.display import publish_display_data
    data, md = figure_bundle(fig)
    publish_display_data(data, md)


def show_figures(block: Any = None, close: bool | None = None) -> None:
    """Send every open figure to the frontend (except those the cell's result already showed),
    then close them."""
    try:
        for manager in Gcf.get_all_fig_managers():
            fig = manager.canvas.figure
            if fig.get_visible() is False or id(fig) in _shown_as_result:
                continue
            _publish(fig)
    finally:
        _shown_as_result.clear()
        if close if close is not None else close_figures:
            matplotlib.pyplot.close("all")


def flush_figures() -> None:
    """At the end of a cell: show what the cell drew (only if this backend is the active one)."""
    if matplotlib.get_backend() not in (BACKEND, "module://" + __name__):
        return
    if Gcf.get_all_fig_managers():
        show_figures()


class FigureManagerJup(FigureManagerBase):
    """A figure's manager: `fig.show()` sends that one figure."""

    def show(self) -> None:
        _publish(self.canvas.figure)


@_Backend.export
class _BackendJup(_Backend):
    FigureCanvas = FigureCanvasAgg
    FigureManager = FigureManagerJup

    @staticmethod
    def show(block: Any = None) -> None:  # exported as this module's `show` (plt.show calls it)
        show_figures(block)

    @staticmethod
    def draw_if_interactive() -> None:
        pass


def _register_flush(shell: Any = None) -> None:
    """Show figures at the end of each cell of `shell` (the running one by default)."""
    global _registered_shell
    if shell is None:
        from jup.python.shell import current
        shell = current()
    if shell is None or shell is _registered_shell:
        return
    shell.events.register("post_execute", flush_figures)
    _registered_shell = shell


def _figure_formatter(fig: Any) -> Any:
    _shown_as_result.add(id(fig))
    data, _ = figure_bundle(fig)
    return data.get("image/png")


def _register_display(shell: Any) -> None:
    """`display(fig)` and a cell ending with a figure show the image, as in IPython."""
    if shell is not None:
        shell.formatter.formatters["image/png"].for_type("matplotlib.figure.Figure", _figure_formatter)


def activate(gui: str | None = "inline", shell: Any = None) -> str:
    """`%matplotlib GUI`: inline (ours), agg (no display), or a GUI backend; returns the backend."""
    import matplotlib.pyplot as plt
    gui = (gui or "inline").lower()
    if gui in ("inline", "jup"):
        backend = BACKEND
    elif gui == "agg":
        backend = "agg"
    else:
        backend = {"qt": "qtagg", "qt5": "qtagg", "qt6": "qtagg", "tk": "tkagg", "gtk": "gtk3agg",
                   "gtk3": "gtk3agg", "gtk4": "gtk4agg", "wx": "wxagg", "osx": "macosx",
                   "widget": "module://ipympl.backend_nbagg", "ipympl": "module://ipympl.backend_nbagg",
                   "notebook": "nbagg"}.get(gui, gui)
    try:
        plt.switch_backend(backend)
    except (ImportError, ValueError) as e:
        raise ValueError(f"Matplotlib backend {gui!r} cannot be used here ({e}); try 'inline' or 'agg'.")
    if backend not in (BACKEND, "agg"):
        plt.ion()  # a GUI backend: figures open at once and plt.show() returns (the kernel's idle
        # hook keeps their windows alive, see jup.python.eventloops), as with IPython's %matplotlib qt
    if backend == BACKEND:
        from jup.python.shell import current
        sh = shell or current()
        _register_flush(sh)
        _register_display(sh)
    return backend


# Loaded by matplotlib (MPLBACKEND or `%matplotlib inline`): show figures at the end of each cell.
try:
    from jup.python.shell import current as _current
    _register_flush(_current())
    _register_display(_current())
except Exception:  # no shell in this process (a plain script): plt.show() still works
    pass
