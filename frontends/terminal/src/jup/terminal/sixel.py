"""Sixel: PNG images drawn in terminals that speak DEC sixel graphics (xterm -ti 340, foot, mlterm,
WezTerm, Windows Terminal, konsole...), and asking a terminal whether it does.

The encoder needs Pillow (matplotlib brings it) to decode and quantise the PNG to at most 255
colours; the sixel stream itself is written here. A sixel is one column of six pixels: the image is
cut into bands six pixels high, and each band is painted once per colour it uses, the colour's
columns as characters `?`+bits, runs compressed as `!count char`, `$` back to the band's start,
`-` to the next band.
"""

from __future__ import annotations

import io
import os
import re
import select
import time
from typing import Any

DCS, ST = "\x1bP", "\x1b\\"
DA1_QUERY = b"\x1b[c"
_DA1_REPLY = re.compile(rb"\x1b\[\?([0-9;]*)c")
_RUN = re.compile(rb"(.)\1{3,}")  # four or more of one sixel: shorter as `!n` + char
_TRANSPARENT = 255  # palette index of pixels left as they are (alpha below half)


class SixelUnavailable(RuntimeError):
    """The image cannot be drawn as sixel here (no Pillow, or not a picture Pillow reads)."""


_TABLES: dict[tuple[int, int], bytes] = {}


def _table(row: int, colour: int) -> bytes:
    """Translates a row of palette indexes to the row's sixel bit where the pixel is `colour`, else 0."""
    key = (row, colour)
    table = _TABLES.get(key)
    if table is None:
        table = _TABLES[key] = bytes(colour) + bytes((1 << row,)) + bytes(255 - colour)
    return table


def _band_line(rows: list[bytes], colour: int, width: int, offset: int) -> bytes:
    """One colour's sixels across a band: each row's bit where the pixel has `colour`, plus `?`."""
    total = offset
    for r, row in enumerate(rows):  # the bits of different rows never overlap: adding is OR-ing
        total += int.from_bytes(row.translate(_table(r, colour)), "big")
    return total.to_bytes(width, "big")


def _rle(line: bytes) -> bytes:
    return _RUN.sub(lambda m: b"!%d%c" % (len(m.group(0)), m.group(1)[0]), line)


def _indexed(png: bytes, max_width: int | None) -> tuple[Any, dict[int, tuple], bool]:
    """(palette image, {index: (r, g, b)} of the colours it uses, has transparent pixels) from PNG bytes."""
    try:
        from PIL import Image
    except ImportError:
        raise SixelUnavailable("drawing sixel needs Pillow; `pip install Pillow`, or set "
                               "TerminalShell.image_protocol to 'file'.") from None
    try:
        img = Image.open(io.BytesIO(png))
        img.load()
    except Exception as e:
        raise SixelUnavailable(f"the image could not be read ({type(e).__name__}: {e})") from None
    if max_width and img.width > max_width:  # wider than the window: scale down, keep the aspect
        img = img.resize((max_width, max(1, round(img.height * max_width / img.width))))
    rgba = img.convert("RGBA")
    alpha = rgba.getchannel("A")
    clear = alpha.point(lambda a: 255 if a < 128 else 0)
    has_clear = clear.getbbox() is not None
    quant = rgba.convert("RGB").quantize(colors=255, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    if has_clear:
        quant.paste(_TRANSPARENT, mask=clear.convert("1"))
    flat = quant.getpalette() or []
    used = sorted(i for _, i in quant.getcolors(256) or [] if i != _TRANSPARENT or not has_clear)
    palette = {i: tuple(flat[3 * i:3 * i + 3]) for i in used if 3 * i + 2 < len(flat)}
    return quant, palette, has_clear


def encode_png(png: bytes, max_width: int | None = None) -> str:
    """The sixel stream (DCS ... ST) that draws `png`; SixelUnavailable if it cannot be made."""
    quant, palette, has_clear = _indexed(png, max_width)
    width, height = quant.size
    data = quant.tobytes()
    # P2=1: pixels no colour paints keep the terminal's background (our transparency)
    out = [f'{DCS}0;1;0q"1;1;{width};{height}'.encode()]
    for i, (r, g, b) in palette.items():
        out.append(b"#%d;2;%d;%d;%d" % (i, round(r * 100 / 255), round(g * 100 / 255), round(b * 100 / 255)))
    offset = int.from_bytes(b"?" * width, "big")
    for top in range(0, height, 6):
        rows = [data[y * width:(y + 1) * width] for y in range(top, min(top + 6, height))]
        colours = sorted(set(b"".join(rows)) - ({_TRANSPARENT} if has_clear else set()))
        lines = []
        for colour in colours:
            line = _band_line(rows, colour, width, offset).rstrip(b"?")
            lines.append(b"#%d" % colour + _rle(line))
        out.append(b"$".join(lines))
        out.append(b"-" if top + 6 < height else b"")
    out.append(ST.encode())
    return b"".join(out).decode("ascii")


# ---- asking the terminal ------------------------------------------------------------------------

def parse_da1(reply: bytes) -> bool | None:
    """Whether a Primary Device Attributes reply (`ESC [ ? 62 ; 4 ; 22 c`) lists sixel (4);
    None if `reply` holds no such answer."""
    m = _DA1_REPLY.search(reply)
    if m is None:
        return None
    return "4" in m.group(1).decode().split(";")[1:]  # the first number is the terminal class


def query_sixel(in_fd: int = 0, out_fd: int = 1, timeout: float = 0.3) -> bool | None:
    """Ask the terminal on `in_fd`/`out_fd` (both ttys) whether it draws sixel: True/False from its
    DA1 reply, None if it is no terminal or did not answer within `timeout` seconds.

    Reads the tty with echo off, so the reply never shows; keys typed meanwhile are lost.
    """
    try:
        import termios
    except ImportError:  # not a POSIX terminal
        return None
    if not (os.isatty(in_fd) and os.isatty(out_fd)):
        return None
    try:
        saved = termios.tcgetattr(in_fd)
    except termios.error:
        return None
    quiet = list(saved)
    quiet[3] &= ~(termios.ICANON | termios.ECHO)  # lflags: byte by byte, not shown
    quiet[6] = list(saved[6])
    quiet[6][termios.VMIN], quiet[6][termios.VTIME] = 0, 0
    got = b""
    try:
        termios.tcsetattr(in_fd, termios.TCSANOW, quiet)
        os.write(out_fd, DA1_QUERY)
        deadline = time.monotonic() + timeout
        for _ in range(256):  # bounded: a reply is a few dozen bytes, read in one or two chunks
            left = deadline - time.monotonic()
            if left <= 0:
                break
            ready, _, _ = select.select([in_fd], [], [], left)
            if not ready:
                break
            chunk = os.read(in_fd, 1024)
            if not chunk:
                break
            got += chunk
            answer = parse_da1(got)
            if answer is not None:
                return answer
    except OSError:
        return None
    finally:
        termios.tcsetattr(in_fd, termios.TCSANOW, saved)
    return None


def env_says_sixel(env: dict) -> bool:
    """A TERM that names sixel (`xterm-sixel`, `mlterm`, `foot`...): no need to ask the terminal."""
    term = env.get("TERM", "").lower()
    return "sixel" in term or term.startswith(("mlterm", "foot", "yaft", "contour"))
