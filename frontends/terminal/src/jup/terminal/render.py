"""Turn kernel output messages into terminal text: streams as they come, results, tracebacks, rich data.

A terminal shows text, so each display picks the best text form and says in one short note what it
could not show. Images go inline when the terminal speaks an image protocol, else to a temp file.
"""

from __future__ import annotations

import io
import os
import re
import sys
from collections.abc import Callable
from typing import TextIO

ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/svg+xml")
_SUFFIX = {"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "image/svg+xml": ".svg"}
_TAGS = re.compile(r"<[^>]+>")


def strip_ansi(text: str) -> str:
    """Text without colour or cursor escape sequences (for NO_COLOR and plain pipes)."""
    return ANSI.sub("", text)


def color_wanted(stream: TextIO | None = None) -> bool:
    """Colour unless NO_COLOR is set (any value, per no-color.org) or output is not a terminal."""
    if "NO_COLOR" in os.environ:
        return False
    stream = stream or sys.stdout
    return bool(getattr(stream, "isatty", lambda: False)())


def html_to_text(html: str) -> str:
    """A rough plain-text form of HTML: tags dropped, common entities decoded."""
    import html as _html
    text = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</tr>|</h\d>|</li>", "\n", html)
    text = _html.unescape(_TAGS.sub("", text))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def best_text(data: dict) -> tuple[str, list[str]]:
    """(text to show, mime types left unshown) for a display's mime bundle."""
    rich = [m for m in data if m != "text/plain"]
    if "text/plain" in data:
        return _as_str(data["text/plain"]), rich
    for mime in ("text/markdown", "text/latex", "application/json", "text/html"):
        if mime in data:
            value = data[mime]
            if mime == "application/json":
                import json
                text = json.dumps(value, indent=2)
            elif mime == "text/html":
                text = html_to_text(_as_str(value))
            else:
                text = _as_str(value)
            return text, [m for m in rich if m != mime]
    return "", rich


def _as_str(value: object) -> str:
    if isinstance(value, list):
        return "".join(str(v) for v in value)
    return str(value)


def detect_image_protocol(env: dict | None = None) -> str | None:
    """'kitty', 'iterm2' or 'sixel' when the environment says the terminal shows images, else None
    (a Renderer may still ask the terminal itself whether it draws sixel, see `probe_sixel`)."""
    env = os.environ if env is None else env
    forced = env.get("JUP_IMAGE_PROTOCOL", "").lower()
    if forced in ("kitty", "iterm2", "sixel"):
        return forced
    if forced in ("none", "file"):
        return None
    if env.get("KITTY_WINDOW_ID") or env.get("TERM") == "xterm-kitty":
        return "kitty"
    if env.get("TERM_PROGRAM") in ("iTerm.app", "WezTerm") or env.get("LC_TERMINAL") == "iTerm2":
        return "iterm2"
    from jup.terminal.sixel import env_says_sixel
    if env_says_sixel(env):
        return "sixel"
    return None


def may_probe_sixel(env: dict | None = None) -> bool:
    """Whether asking the terminal about sixel is allowed: not when JUP_IMAGE_PROTOCOL decides."""
    env = os.environ if env is None else env
    return not env.get("JUP_IMAGE_PROTOCOL")


def _pixel_width(stream: TextIO) -> int | None:
    """The window's width in pixels, if the terminal tells (TIOCGWINSZ), to fit images in it."""
    try:
        import fcntl
        import struct
        import termios
        packed = fcntl.ioctl(stream.fileno(), termios.TIOCGWINSZ, b"\0" * 8)
        width = struct.unpack("HHHH", packed)[2]
    except (ImportError, OSError, ValueError, AttributeError, io.UnsupportedOperation):
        return None
    return width or None


def image_escape(protocol: str, b64: str) -> str:
    """The escape sequence that draws a base64 PNG inline."""
    b64 = "".join(b64.split())
    if protocol == "iterm2":
        import base64
        size = len(base64.b64decode(b64))
        return f"\x1b]1337;File=inline=1;size={size}:{b64}\x07\n"
    chunks = [b64[i:i + 4096] for i in range(0, len(b64), 4096)] or [""]
    out = []
    for i, chunk in enumerate(chunks):
        more = 1 if i < len(chunks) - 1 else 0
        head = "a=T,f=100," if i == 0 else ""
        out.append(f"\x1b_G{head}m={more};{chunk}\x1b\\")
    return "".join(out) + "\n"


def save_image(mime: str, value: object, directory: str | None = None) -> str:
    """Write image data to a temp file the user can open; returns its path."""
    import base64
    import tempfile
    fd, path = tempfile.mkstemp(prefix="jup-image-", suffix=_SUFFIX.get(mime, ".bin"), dir=directory)
    with os.fdopen(fd, "wb") as f:
        if mime == "image/svg+xml":
            f.write(_as_str(value).encode())
        else:
            f.write(base64.b64decode(_as_str(value)))
    return path


_ANSI_NAMES = ["black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"]


def ansi_sgr(name: str) -> str:
    """The SGR code of a prompt_toolkit colour name ('ansired', 'ansibrightblue', '#ff8700'...)."""
    name = name.strip().lower()
    if name.startswith("#") and len(name) == 7:
        r, g, b = (int(name[i:i + 2], 16) for i in (1, 3, 5))
        return f"38;2;{r};{g};{b}"
    base = name.removeprefix("ansi")
    bright = base.startswith("bright")
    base = base.removeprefix("bright")
    if base in _ANSI_NAMES:
        return str((90 if bright else 30) + _ANSI_NAMES.index(base))
    return "31"


class Renderer:
    """Writes each output message of a running cell to the terminal as it arrives."""

    def __init__(self, out: TextIO | None = None, err: TextIO | None = None, color: bool | None = None,
                 image_protocol: str | None = None,
                 out_prompt: Callable[[int], str] = lambda n: f"Out[{n}]: ", out_color: str = "ansired",
                 probe_sixel: bool = True):
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.color = color_wanted(self.out) if color is None else color
        self.image_protocol = image_protocol
        #: with no protocol, ask the terminal (once, at the first PNG) whether it draws sixel, unless
        #: JUP_IMAGE_PROTOCOL decides
        self.probe_sixel = probe_sixel and may_probe_sixel()
        self.tty_in = 0  #: the terminal's input fd, read for its answer
        self.out_prompt = out_prompt
        self.out_sgr = ansi_sgr(out_color)
        self.at_line_start = True
        self.had_output = False

    # ---- low level ----------------------------------------------------------------------------

    def write(self, text: str, stream: TextIO | None = None) -> None:
        if not text:
            return
        if not self.color:
            text = strip_ansi(text)
        stream = stream or self.out
        stream.write(text)
        stream.flush()
        self.at_line_start = text.endswith("\n")
        self.had_output = True

    def ensure_newline(self) -> None:
        """End a partial line (e.g. `print(x, end="")`) so the next prompt starts in column 0."""
        if not self.at_line_start:
            self.write("\n")

    def note(self, text: str) -> None:
        self.ensure_newline()
        self.write(f"\x1b[2m[{text}]\x1b[0m\n" if self.color else f"[{text}]\n")

    # ---- messages -----------------------------------------------------------------------------

    def __call__(self, msg: dict) -> None:
        handler = getattr(self, "on_" + msg.get("msg_type", ""), None)
        if handler is not None:
            handler(msg["content"])

    def on_stream(self, content: dict) -> None:
        stream = self.err if content.get("name") == "stderr" else self.out
        if stream is not self.out:
            self.out.flush()
        self.write(content.get("text", ""), stream)

    def on_execute_result(self, content: dict) -> None:
        text, rich = best_text(content.get("data", {}))
        prompt = self.out_prompt(content.get("execution_count") or 0)
        if "\n" in text:
            prompt += "\n"
        self.ensure_newline()
        self.write(f"\x1b[{self.out_sgr}m{prompt}\x1b[0m" if self.color else prompt)
        self.write(text + "\n")
        self._rich(content.get("data", {}), rich)

    def on_display_data(self, content: dict) -> None:
        data = content.get("data", {})
        text, rich = best_text(data)
        if text and not (set(rich) & set(IMAGE_TYPES) and text.startswith("<")):
            self.ensure_newline()
            self.write(text + "\n")
        self._rich(data, rich)

    on_update_display_data = on_display_data

    def on_error(self, content: dict) -> None:
        tb = content.get("traceback") or [f"{content.get('ename', 'Error')}: {content.get('evalue', '')}"]
        self.ensure_newline()
        self.write("\n".join(tb) + "\n", self.err)

    def on_clear_output(self, content: dict) -> None:
        self.write("\r\x1b[2K" if self.color else "\r")

    def _rich(self, data: dict, unshown: list[str]) -> None:
        images = [m for m in IMAGE_TYPES if m in unshown]
        for mime in images[:1]:
            protocol = self._protocol_for_png() if mime == "image/png" else None
            escape, why = (self._image_escape(protocol, _as_str(data[mime])) if protocol else (None, ""))
            if escape:
                self.ensure_newline()  # the escape is the picture itself: never stripped as colour
                self.out.write(escape)
                self.out.flush()
                self.at_line_start = True
            else:
                path = save_image(mime, data[mime])
                self.note(f"{mime} saved to {path}" + (f"; not drawn as sixel: {why}" if why else ""))
        others = [m for m in unshown if m not in IMAGE_TYPES]
        if others:
            self.note(f"also {', '.join(others)}: open this cell in a notebook to see it")

    def _protocol_for_png(self) -> str | None:
        """The image protocol to draw with; the first time, with none set, asks the terminal
        whether it draws sixel (only when stdin and our output are both a tty)."""
        if self.image_protocol is None and self.probe_sixel:
            self.probe_sixel = False  # asked once per renderer, whatever the answer
            from jup.terminal.sixel import query_sixel
            try:
                out_fd = self.out.fileno()
            except (AttributeError, ValueError, io.UnsupportedOperation):
                return None
            self.out.flush()
            if query_sixel(self.tty_in, out_fd):
                self.image_protocol = "sixel"
        return self.image_protocol

    def _image_escape(self, protocol: str, b64: str) -> tuple[str | None, str]:
        """(escape drawing the base64 PNG, or None with the reason it cannot be drawn)."""
        if protocol != "sixel":
            return image_escape(protocol, b64), ""
        import base64

        from jup.terminal.sixel import SixelUnavailable, encode_png
        try:
            return encode_png(base64.b64decode(b64), max_width=_pixel_width(self.out)) + "\n", ""
        except (SixelUnavailable, ValueError) as e:
            return None, str(e)
