"""`IPython.display` / `IPython.core.display`: the display API notebooks import."""

from jup.python.display import *  # noqa: F403
from jup.python.display import __all__ as _display_all


class Audio:
    """An audio file or bytes, shown as an HTML5 audio player."""

    def __init__(self, data=None, filename=None, url=None, embed=None, rate=None, autoplay=False,
                 normalize=True, element_id=None):
        import base64
        self.url = url
        self.autoplay = autoplay
        self.data = None
        if filename is not None:
            with open(filename, "rb") as f:
                self.data = f.read()
        elif isinstance(data, (bytes, bytearray)):
            self.data = bytes(data)
        elif isinstance(data, str) and url is None:
            self.url = data
        self._b64 = base64.b64encode(self.data).decode("ascii") if self.data else None

    def _repr_html_(self) -> str:
        src = f"data:audio/wav;base64,{self._b64}" if self._b64 else (self.url or "")
        auto = " autoplay" if self.autoplay else ""
        return f'<audio controls{auto}><source src="{src}"/>Your browser does not support audio.</audio>'


class Video:
    """A video file or URL, shown as an HTML5 video element."""

    def __init__(self, data=None, url=None, filename=None, embed=False, mimetype=None, width=None,
                 height=None, html_attributes="controls"):
        self.src = url or filename or data
        self.width, self.height, self.attrs = width, height, html_attributes

    def _repr_html_(self) -> str:
        size = "".join(f' {k}="{v}"' for k, v in (("width", self.width), ("height", self.height)) if v)
        return f'<video src="{self.src}" {self.attrs}{size}>Your browser does not support video.</video>'


class YouTubeVideo(IFrame):  # noqa: F405 - IFrame comes from jup.python.display
    """A YouTube video embedded by id."""

    def __init__(self, id: str, width: int = 400, height: int = 300, **kwargs):
        self.id = id
        super().__init__(f"https://www.youtube.com/embed/{id}", width, height, **kwargs)


def set_matplotlib_formats(*formats, **kwargs) -> None:
    """Choose the image formats inline matplotlib figures are sent in ('png', 'svg')."""
    from jup.python import mpl_backend
    mpl_backend.set_formats(*formats)


__all__ = [*_display_all, "Audio", "Video", "YouTubeVideo", "set_matplotlib_formats"]
