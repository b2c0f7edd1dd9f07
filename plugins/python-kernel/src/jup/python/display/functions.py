"""`display`, `update_display`, `clear_output` and display handles: how user code publishes rich
output. They go through the running shell's publisher; with no shell (plain Python) they print
text, so scripts that call `display()` still show something."""

from __future__ import annotations

import sys
import uuid
from typing import Any


def _shell():
    from jup.python.shell import current
    return current()


def publish_display_data(data: dict, metadata: dict | None = None, transient: dict | None = None,
                         update: bool = False) -> None:
    """Send a ready-made mime bundle to the frontend."""
    shell = _shell()
    if shell is None:
        text = data.get("text/plain")
        if text is not None:
            print(text)
        return
    shell.display_pub.publish(data, metadata or {}, transient=transient or {}, update=update)


def _new_id() -> str:
    return uuid.uuid4().hex


def display(*objs: Any, include: Any = None, exclude: Any = None, metadata: dict | None = None,
            transient: dict | None = None, display_id: Any = None, raw: bool = False,
            clear: bool = False, update: bool = False, **kwargs: Any) -> DisplayHandle | None:
    """Show each object with its richest representation; with `display_id` return a handle."""
    if display_id is True:
        display_id = _new_id()
    transient = dict(transient or {})
    if display_id:
        transient["display_id"] = display_id
    if clear:
        clear_output(wait=True)
    shell = _shell()
    for obj in objs:
        if raw:
            publish_display_data(dict(obj), metadata, transient, update)
            continue
        if shell is not None and _method(obj, "_ipython_display_") is not None:
            try:
                obj._ipython_display_()
                continue
            except NotImplementedError:
                pass
        if shell is None:
            print(repr(obj))
            continue
        data, md = shell.formatter.format(obj, include=include, exclude=exclude)
        if not data:
            continue
        if metadata:
            md = {**md, **metadata}
        publish_display_data(data, md, transient, update)
    if display_id:
        return DisplayHandle(display_id)
    return None


def _method(obj: Any, name: str):
    from jup.python.display.formatter import _method as m
    return m(obj, name)


def update_display(obj: Any, *, display_id: str, **kwargs: Any) -> None:
    """Replace what an earlier `display(..., display_id=ID)` showed."""
    kwargs["update"] = True
    display(obj, display_id=display_id, **kwargs)


def clear_output(wait: bool = False) -> None:
    """Clear this cell's output now, or (`wait=True`) when the next output arrives."""
    shell = _shell()
    if shell is None:
        try:
            sys.stdout.write("\033[2K\r")
        except Exception:
            pass
        return
    shell.publisher.clear_output(wait)


class DisplayHandle:
    """A place in the output that can be displayed again or updated in place."""

    def __init__(self, display_id: str | None = None):
        self.display_id = display_id or _new_id()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} display_id={self.display_id}>"

    def display(self, obj: Any, **kwargs: Any) -> None:
        display(obj, display_id=self.display_id, **kwargs)

    def update(self, obj: Any, **kwargs: Any) -> None:
        update_display(obj, display_id=self.display_id, **kwargs)


def _display_mime(mime: str):
    def show(*objs: Any, raw: bool = False, metadata: dict | None = None) -> None:
        if raw:
            for obj in objs:
                publish_display_data({mime: obj}, metadata)
        else:
            display(*objs, include=[mime, "text/plain"] if mime != "text/plain" else None,
                    metadata=metadata)
    show.__name__ = "display_" + mime.split("/")[-1].split("+")[0]
    show.__doc__ = f"Display objects as {mime}."
    return show


display_pretty = _display_mime("text/plain")
display_html = _display_mime("text/html")
display_markdown = _display_mime("text/markdown")
display_svg = _display_mime("image/svg+xml")
display_png = _display_mime("image/png")
display_jpeg = _display_mime("image/jpeg")
display_latex = _display_mime("text/latex")
display_json = _display_mime("application/json")
display_javascript = _display_mime("application/javascript")
display_pdf = _display_mime("application/pdf")
