"""Objects that exist to be displayed: wrap HTML, Markdown, images, JSON... so that returning or
`display()`-ing them gives the frontend the right mime type."""

from __future__ import annotations

import base64
import json as _json
import os
from typing import Any


def _escape(text: str) -> str:
    # html imported on first use: its entity table costs ~0.4 MiB in every idle kernel
    import html

    return html.escape(text)


def _read(path: str, binary: bool) -> Any:
    with open(path, "rb" if binary else "r", **({} if binary else {"encoding": "utf-8"})) as f:
        return f.read()


def _fetch(url: str, binary: bool) -> Any:
    from urllib.request import urlopen
    with urlopen(url, timeout=30) as r:  # noqa: S310 - the user asked for this URL
        body = r.read()
    return body if binary else body.decode("utf-8", "replace")


class DisplayObject:
    """Holds data given directly, read from `filename`, or fetched from `url`."""

    _binary = False

    def __init__(self, data: Any = None, url: str | None = None, filename: str | None = None,
                 metadata: dict | None = None):
        if isinstance(data, (os.PathLike,)):
            data, filename = None, os.fspath(data)
        elif isinstance(data, str) and data.startswith(("http://", "https://")) and url is None:
            data, url = None, data
        elif (isinstance(data, str) and filename is None and "\n" not in data and len(data) < 4096
              and os.path.isfile(data) and not self._looks_like_content(data)):
            data, filename = None, data
        self.data = data
        self.url = url
        self.filename = filename
        self.metadata = dict(metadata or {})
        self.reload()

    @staticmethod
    def _looks_like_content(s: str) -> bool:
        return s.lstrip().startswith(("<", "{", "[", "#", "$"))

    def reload(self) -> None:
        """Read the data again from the file or URL it came from."""
        if self.filename is not None:
            self.data = _read(self.filename, self._binary)
        elif self.url is not None and self.data is None and self._fetch_url:
            self.data = _fetch(self.url, self._binary)

    _fetch_url = True

    def __repr__(self) -> str:
        return f"<{type(self).__module__}.{type(self).__name__} object>"

    def _data_and_metadata(self) -> Any:
        return (self.data, self.metadata) if self.metadata else self.data


class TextDisplayObject(DisplayObject):
    """Text data; text/plain shows the class name so a notebook stays readable in a terminal."""

    def __init__(self, data: Any = None, url: str | None = None, filename: str | None = None,
                 metadata: dict | None = None):
        if data is not None and not isinstance(data, (str, os.PathLike)):
            data = str(data)
        super().__init__(data, url, filename, metadata)


class HTML(TextDisplayObject):
    def _repr_html_(self):
        return self._data_and_metadata()


class Markdown(TextDisplayObject):
    def _repr_markdown_(self):
        return self._data_and_metadata()


class Math(TextDisplayObject):
    """LaTeX maths; `$...$` is added when missing."""

    def _repr_latex_(self):
        s = (self.data or "").strip()
        if not s.startswith("$"):
            s = f"$\\displaystyle {s}$"
        return (s, self.metadata) if self.metadata else s


class Latex(TextDisplayObject):
    def _repr_latex_(self):
        return self._data_and_metadata()


class SVG(DisplayObject):
    """SVG text; data given as bytes is decoded, and only the <svg> element is kept."""

    def __init__(self, data: Any = None, url: str | None = None, filename: str | None = None,
                 metadata: dict | None = None):
        super().__init__(data, url, filename, metadata)
        if isinstance(self.data, bytes):
            self.data = self.data.decode("utf-8", "replace")
        if isinstance(self.data, str):
            start = self.data.find("<svg")
            if start > 0:
                self.data = self.data[start:]

    def _repr_svg_(self):
        return self._data_and_metadata()


class Pretty(TextDisplayObject):
    def _repr_pretty_(self, p, cycle):
        p.text(self.data or "")


class Javascript(TextDisplayObject):
    """JavaScript run by frontends that allow it; `lib` and `css` are loaded first."""

    def __init__(self, data: Any = None, url: str | None = None, filename: str | None = None,
                 lib: Any = None, css: Any = None):
        self.lib = [lib] if isinstance(lib, str) else list(lib or [])
        self.css = [css] if isinstance(css, str) else list(css or [])
        self._fetch_url = data is not None or filename is not None
        super().__init__(data, url, filename)

    def _repr_javascript_(self):
        parts = [f'$("head").append($("<link/>").attr({{rel: "stylesheet", type: "text/css", '
                 f'href: {_json.dumps(c)}}}));' for c in self.css]
        body = self.data or ""
        if self.url and not self.data:
            self.lib.append(self.url)
        for lib in reversed(self.lib):
            body = f"$.getScript({_json.dumps(lib)}, function () {{\n{body}\n}});"
        return "\n".join(parts + [body])


class JSON(DisplayObject):
    """Structured data shown by frontends as a collapsible tree."""

    def __init__(self, data: Any = None, url: str | None = None, filename: str | None = None,
                 expanded: bool = False, metadata: dict | None = None, root: str = "root", **kw):
        self._raw = data
        super().__init__(data, url, filename, {**(metadata or {}), "expanded": expanded, "root": root, **kw})
        if isinstance(self.data, (str, bytes)):
            self.data = _json.loads(self.data)

    def _repr_json_(self):
        return self.data, self.metadata


class Image(DisplayObject):
    """PNG, JPEG or GIF from bytes, a file or a URL; `embed=False` with a URL shows a link."""

    _binary = True
    _MIME = {"png": "image/png", "jpeg": "image/jpeg", "jpg": "image/jpeg", "gif": "image/gif",
             "webp": "image/webp"}

    def __init__(self, data: Any = None, url: str | None = None, filename: str | None = None,
                 format: str | None = None, embed: bool | None = None, width: Any = None,
                 height: Any = None, retina: bool = False, unconfined: bool = False,
                 metadata: dict | None = None, alt: str | None = None):
        src = filename or url or (data if isinstance(data, str) else None)
        if format is None and isinstance(src, str):
            ext = src.rsplit(".", 1)[-1].lower().split("?")[0]
            format = ext if ext in self._MIME else None
        if embed is None:
            embed = not (url is not None or (isinstance(data, str) and data.startswith("http")))
        self.embed = embed
        self._fetch_url = embed
        if isinstance(data, bytes) and format is None:
            format = "jpeg" if data[:3] == b"\xff\xd8\xff" else "gif" if data[:4] == b"GIF8" else "png"
        self.format = (format or "png").lower()
        self.width, self.height, self.retina, self.unconfined, self.alt = width, height, retina, unconfined, alt
        super().__init__(data, url, filename, metadata)

    @property
    def mimetype(self) -> str:
        return self._MIME.get(self.format, "image/png")

    def _md(self) -> dict:
        md = dict(self.metadata)
        for k in ("width", "height", "alt"):
            if getattr(self, k) is not None:
                md[k] = getattr(self, k)
        if self.unconfined:
            md["unconfined"] = True
        return md

    def _repr_mimebundle_(self, include=None, exclude=None):
        if not self.embed:
            return {"text/html": f'<img src="{_escape(self.url or "")}"/>'}, {}
        data = self.data or b""
        if isinstance(data, str):
            data = data.encode("latin-1")
        return {self.mimetype: base64.b64encode(data).decode("ascii")}, ({self.mimetype: self._md()}
                                                                         if self._md() else {})

    def _repr_png_(self):
        return self.data if self.embed and self.format == "png" else None

    def _repr_jpeg_(self):
        return self.data if self.embed and self.format in ("jpeg", "jpg") else None


class IFrame:
    """Another web page embedded in the output."""

    def __init__(self, src: str, width: Any, height: Any, extras: Any = None, **params: Any):
        self.src, self.width, self.height = src, width, height
        self.extras = list(extras or [])
        self.params = params

    def _repr_html_(self) -> str:
        from urllib.parse import urlencode
        src = self.src + ("?" + urlencode(self.params) if self.params else "")
        extra = " ".join(self.extras)
        return (f'<iframe width="{self.width}" height="{self.height}" src="{_escape(src)}" '
                f'frameborder="0" allowfullscreen {extra}></iframe>')


class Code(TextDisplayObject):
    """Source code, highlighted with pygments in HTML and shown as-is in text."""

    def __init__(self, data: Any = None, url: str | None = None, filename: str | None = None,
                 language: str | None = None):
        self.language = language
        super().__init__(data, url, filename)

    def _lexer(self):
        from pygments.lexers import PythonLexer, get_lexer_by_name, guess_lexer_for_filename
        from pygments.util import ClassNotFound
        try:
            if self.language:
                return get_lexer_by_name(self.language)
            if self.filename:
                return guess_lexer_for_filename(self.filename, self.data or "")
        except ClassNotFound:
            pass
        return PythonLexer()

    def _repr_html_(self) -> str:
        from pygments import highlight
        from pygments.formatters import HtmlFormatter
        fmt = HtmlFormatter()
        return f"<style>{fmt.get_style_defs('.output_html')}</style>{highlight(self.data or '', self._lexer(), fmt)}"

    def _repr_latex_(self) -> str:
        from pygments import highlight
        from pygments.formatters import LatexFormatter
        return highlight(self.data or "", self._lexer(), LatexFormatter())

    def _repr_pretty_(self, p, cycle):
        p.text(self.data or "")


class FileLink:
    """A link to a local file, relative to the notebook's directory."""

    def __init__(self, path: str, url_prefix: str = "", result_html_prefix: str = "",
                 result_html_suffix: str = "<br>"):
        if os.path.isdir(path):
            raise ValueError(f"Cannot link to {path!r}: it is a directory; use FileLinks for a directory.")
        self.path = os.fsdecode(path)
        self.url_prefix, self.prefix, self.suffix = url_prefix, result_html_prefix, result_html_suffix

    def _repr_html_(self) -> str:
        if not os.path.exists(self.path):
            return (f"Path (<tt>{_escape(self.path)}</tt>) doesn't exist. It may still be in the "
                    "process of being generated, or you may have the incorrect path.")
        href = _escape(self.url_prefix + self.path)
        return f"{self.prefix}<a href='{href}' target='_blank'>{_escape(self.path)}</a>{self.suffix}"

    def __repr__(self) -> str:
        return os.path.abspath(self.path)


class FileLinks:
    """Links to every file under a directory."""

    def __init__(self, path: str, url_prefix: str = "", included_suffixes: Any = None):
        if not os.path.isdir(path):
            raise ValueError(f"Cannot list {path!r}: it is not a directory; use FileLink for a file.")
        self.path, self.url_prefix = path, url_prefix
        self.suffixes = tuple(included_suffixes) if included_suffixes else None

    def _files(self) -> list[str]:
        out = []
        for root, _dirs, files in os.walk(self.path):
            for f in sorted(files):
                if self.suffixes is None or f.endswith(self.suffixes):
                    out.append(os.path.join(root, f))
        return out

    def _repr_html_(self) -> str:
        return "".join(FileLink(f, self.url_prefix)._repr_html_() for f in self._files())

    def __repr__(self) -> str:
        return "\n".join(self._files())
