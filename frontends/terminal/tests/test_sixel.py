"""Images as sixel: the stream drawn for a PNG, asking a terminal whether it draws sixel (a real pty
plays the terminal), and what a person at such a terminal sees from a cell that shows an image."""

from __future__ import annotations

import base64
import io
import os
import re
import sys
import threading
import time

import pytest

from jup.terminal.render import Renderer, detect_image_protocol
from jup.terminal.sixel import SixelUnavailable, encode_png, env_says_sixel, parse_da1, query_sixel

Image = pytest.importorskip("PIL.Image", reason="the sixel encoder needs Pillow (matplotlib brings it)")

RED, BLUE, WHITE = (255, 0, 0), (0, 0, 255), (255, 255, 255)


def png_of(img) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "png")
    return buf.getvalue()


def decode(stream: str) -> tuple[dict, dict[int, tuple], dict[tuple[int, int], int], int]:
    """A small sixel reader: (header numbers, palette in percent, {(x, y): colour}, band count)."""
    assert stream.startswith("\x1bP") and stream.endswith("\x1b\\"), "DCS ... ST"
    body = stream[2:-2]
    params, _, body = body.partition("q")
    m = re.match(r'"(\d+);(\d+);(\d+);(\d+)', body)
    header = {"params": params, "width": int(m.group(3)), "height": int(m.group(4))}
    body = body[m.end():]
    palette: dict[int, tuple] = {}
    pixels: dict[tuple[int, int], int] = {}
    x = band = 0
    colour = None
    for tok in re.finditer(r"#(\d+)(?:;2;(\d+);(\d+);(\d+))?|!(\d+)([?-~])|([?-~])|(\$)|(-)", body):
        if tok.group(1) is not None:
            colour = int(tok.group(1))
            if tok.group(2) is not None:
                palette[colour] = tuple(int(tok.group(i)) for i in (2, 3, 4))
            continue
        if tok.group(8):
            x = 0
            continue
        if tok.group(9):
            x, band = 0, band + 1
            continue
        count, char = (int(tok.group(5)), tok.group(6)) if tok.group(5) else (1, tok.group(7))
        bits = ord(char) - 63
        for _ in range(count):
            for row in range(6):
                if bits & (1 << row):
                    assert (x, band * 6 + row) not in pixels, "a pixel painted twice"
                    pixels[(x, band * 6 + row)] = colour
            x += 1
    return header, palette, pixels, band + 1


def test_a_small_png_becomes_a_sixel_stream_with_its_colours_bands_and_transparency():
    img = Image.new("RGBA", (10, 13), RED + (255,))
    for y in range(13):
        for x in range(5, 10):
            img.putpixel((x, y), BLUE + (255,))
    img.putpixel((0, 12), (0, 0, 0, 0))  # one transparent pixel, bottom left
    stream = encode_png(png_of(img))

    header, palette, pixels, bands = decode(stream)
    assert (header["width"], header["height"]) == (10, 13)
    assert header["params"].split(";")[1] == "1", "unpainted pixels keep the background"
    assert bands == 3, "ceil(13 / 6) bands"
    assert sorted(palette.values()) == [(0, 0, 100), (100, 0, 0)], "two colours, in percent"
    by_rgb = {rgb: n for n, rgb in palette.items()}
    assert pixels[(0, 0)] == by_rgb[(100, 0, 0)] and pixels[(9, 12)] == by_rgb[(0, 0, 100)]
    assert (0, 12) not in pixels, "the transparent pixel is not painted"
    assert len(pixels) == 10 * 13 - 1, "every other pixel painted exactly once"
    assert "!5" in stream, "runs are compressed"


def test_many_colours_fit_in_a_255_colour_palette_and_wide_images_are_scaled_to_the_window():
    img = Image.new("RGB", (300, 40))
    img.putdata([(x % 256, (x * 7) % 256, y * 6) for y in range(40) for x in range(300)])
    header, palette, pixels, bands = decode(encode_png(png_of(img), max_width=150))
    assert (header["width"], header["height"]) == (150, 20)
    assert 2 < len(palette) <= 255
    assert bands == 4 and len(pixels) == 150 * 20


def test_bytes_that_are_no_image_are_refused_with_a_reason():
    with pytest.raises(SixelUnavailable, match="could not be read"):
        encode_png(b"not a png at all")


def test_renderer_draws_png_as_sixel_when_told_and_saves_otherwise(tmp_path, monkeypatch):
    b64 = base64.b64encode(png_of(Image.new("RGB", (4, 4), WHITE))).decode()
    msg = {"msg_type": "display_data", "content": {"data": {"text/plain": "<Image>", "image/png": b64}}}
    out = io.StringIO()
    Renderer(out=out, err=out, color=False, image_protocol="sixel")(msg)
    assert out.getvalue().startswith("\x1bP0;1;0q") and out.getvalue().endswith("\x1b\\\n")

    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile
    monkeypatch.setattr(tempfile, "tempdir", None)
    bad = {"msg_type": "display_data", "content": {"data": {"image/png": base64.b64encode(b"junk").decode()}}}
    out = io.StringIO()
    Renderer(out=out, err=out, color=False, image_protocol="sixel")(bad)
    assert re.search(r"image/png saved to \S+; not drawn as sixel: the image could not be read", out.getvalue())


def test_environment_hints_and_the_override():
    assert detect_image_protocol({"TERM": "xterm-sixel"}) == "sixel"
    assert detect_image_protocol({"TERM": "foot"}) == "sixel"
    assert detect_image_protocol({"TERM": "xterm-256color", "JUP_IMAGE_PROTOCOL": "sixel"}) == "sixel"
    assert detect_image_protocol({"TERM": "mlterm", "JUP_IMAGE_PROTOCOL": "file"}) is None
    assert detect_image_protocol({"TERM": "xterm-kitty"}) == "kitty", "kitty's own protocol is preferred"
    assert not env_says_sixel({"TERM": "xterm-256color"})


def test_device_attribute_replies():
    assert parse_da1(b"\x1b[?62;4;6;22c") is True
    assert parse_da1(b"\x1b[?64;1;2;4;6;9;15;18;21;22c") is True
    assert parse_da1(b"\x1b[?1;2c") is False
    assert parse_da1(b"\x1b[?4;2c") is False, "the first number is the class, not a feature"
    assert parse_da1(b"typed keys\x1b[?62;4c") is True
    assert parse_da1(b"\x1b[?62;4") is None, "an unfinished reply"


class FakeTerminal:
    """A pty whose far end answers the DA1 query with `reply` (or stays silent)."""

    def __init__(self, reply: bytes | None):
        self.master, self.slave = os.openpty()
        self.reply = reply
        self.seen = b""
        self.thread = threading.Thread(target=self._answer, daemon=True)
        self.thread.start()

    def _answer(self) -> None:
        import select
        deadline = time.monotonic() + 5
        while b"\x1b[c" not in self.seen and time.monotonic() < deadline:
            ready, _, _ = select.select([self.master], [], [], 0.1)
            if ready:
                self.seen += os.read(self.master, 1024)
        if self.reply is not None and b"\x1b[c" in self.seen:
            os.write(self.master, self.reply)

    def echoed(self) -> bytes:
        """What came back to the terminal's screen after the query (the app's echo, if any)."""
        import select
        got = b""
        while select.select([self.master], [], [], 0.2)[0]:
            got += os.read(self.master, 1024)
        return got

    def close(self) -> None:
        self.thread.join(timeout=6)
        os.close(self.master)
        os.close(self.slave)


@pytest.mark.parametrize("reply,expected", [(b"\x1b[?62;4;22c", True), (b"\x1b[?1;2c", False), (None, None)])
def test_asking_a_terminal_in_a_pty(reply, expected):
    term = FakeTerminal(reply)
    try:
        start = time.monotonic()
        assert query_sixel(term.slave, term.slave, timeout=0.5) is expected
        assert time.monotonic() - start < 2, "the query is bounded by its timeout"
        term.thread.join(timeout=6)
        assert term.seen == b"\x1b[c"
        assert b"\x1b[?" not in term.echoed(), "the reply is read with echo off, never shown"
    finally:
        term.close()


def test_no_query_when_not_a_terminal():
    r, w = os.pipe()
    try:
        assert query_sixel(r, w, timeout=0.5) is None
        os.close(w)
        assert os.read(r, 100) == b"", "nothing was written to a pipe"
    finally:
        os.close(r)


def test_renderer_asks_the_terminal_once_at_the_first_png():
    b64 = base64.b64encode(png_of(Image.new("RGB", (4, 4), RED))).decode()
    msg = {"msg_type": "display_data", "content": {"data": {"image/png": b64}}}
    term = FakeTerminal(b"\x1b[?62;4c")
    try:
        with open(term.slave, "w", closefd=False) as out:
            r = Renderer(out=out, err=out, color=False)
            r.tty_in = term.slave
            r(msg)
            r(msg)
            assert r.image_protocol == "sixel"
        screen = term.echoed()
        assert screen.count(b"\x1bP0;1;0q") == 2 and screen.count(b"\x1b[c") == 0, "asked once"
    finally:
        term.close()
    assert term.seen.count(b"\x1b[c") == 1


# ---- a person at a sixel terminal ----------------------------------------------------------------

SHOW_PNG = ("import io; from PIL import Image as P; b = io.BytesIO(); P.new('RGB', (12, 12), 'red')"
            ".save(b, 'png'); from IPython.display import display, Image; display(Image(data=b.getvalue()))")


def _spawn(private_env, *args: str, env: dict | None = None):
    pexpect = pytest.importorskip("pexpect")
    full = {k: v for k, v in os.environ.items() if k != "JUP_IMAGE_PROTOCOL"}  # the test's env decides
    full.update({**private_env, "TERM": "xterm-256color", **(env or {})})
    return pexpect.spawn(sys.executable, ["-m", "jup.terminal", *args], env=full, timeout=30,
                         dimensions=(40, 100))


def test_a_cell_run_at_a_terminal_that_answers_sixel_draws_the_image(private_env):
    child = _spawn(private_env, "-c", SHOW_PNG)
    try:
        child.expect_exact("\x1b[c")  # the shell asks the terminal (us) at the first image
        child.send("\x1b[?62;4;22c")
        child.expect_exact('\x1bP0;1;0q"1;1;12;12')
        child.expect_exact("\x1b\\")
        child.expect(pytest.importorskip("pexpect").EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0


def test_a_terminal_without_sixel_gets_the_file_path(private_env):
    child = _spawn(private_env, "-c", SHOW_PNG)
    try:
        child.expect_exact("\x1b[c")
        child.send("\x1b[?1;2c")
        child.expect(r"image/png saved to (\S+\.png)")
        path = child.match.group(1).decode()
    finally:
        child.close(force=True)
    assert os.path.getsize(path) > 0
    os.unlink(path)


@pytest.mark.parametrize("forced", ["sixel", "file"])
def test_jup_image_protocol_decides_without_asking_the_terminal(private_env, forced):
    pexpect = pytest.importorskip("pexpect")
    child = _spawn(private_env, "-c", SHOW_PNG, env={"JUP_IMAGE_PROTOCOL": forced})
    try:
        child.expect(pexpect.EOF)
        out = child.before
    finally:
        child.close(force=True)
    assert b"\x1b[c" not in out, "no question when the environment decides"
    if forced == "sixel":
        assert out.count(b'\x1bP0;1;0q"1;1;12;12') == 1 and b"saved to" not in out
    else:
        path = re.search(rb"image/png saved to (\S+\.png)", out).group(1).decode()
        assert b"\x1bP" not in out
        os.unlink(path)


def test_the_interactive_shell_with_the_override_draws_sixel_without_asking(private_env):
    pexpect = pytest.importorskip("pexpect")
    child = _spawn(private_env, "--TerminalShell.image_protocol=sixel")
    try:
        for _ in range(20):  # answer the cursor position requests prompt_toolkit sends, until a prompt
            i = child.expect([r"\x1b\[6n", r"In \[1\]: "])
            if i == 0:
                child.send("\x1b[1;1R")
            else:
                break
        child.sendline(SHOW_PNG)
        out = b""
        for _ in range(20):
            i = child.expect([r"\x1b\[6n", r"\x1b\\"], timeout=30)
            out += child.before + child.after
            if i == 0:
                child.send("\x1b[1;1R")
            else:
                break
        assert b'\x1bP0;1;0q"1;1;12;12' in out
        assert b"\x1b[c" not in out, "an override means no question to the terminal"
        child.sendline("exit")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
