"""What the person sees for each kind of output: text, progress bars, rich data, images, no colour."""

from __future__ import annotations

import base64
import io
import os

from jup.terminal.render import Renderer, best_text, detect_image_protocol, strip_ansi

# a 1x1 transparent PNG
PNG = base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082")).decode()


def render(*msgs: dict, color: bool = False, protocol: str | None = None) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    r = Renderer(out=out, err=err, color=color, image_protocol=protocol)
    for m in msgs:
        r(m)
    r.ensure_newline()
    return out.getvalue(), err.getvalue()


def msg(msg_type: str, **content) -> dict:
    return {"msg_type": msg_type, "content": content, "header": {}, "parent_header": {}}


def test_streams_keep_carriage_returns_so_progress_bars_redraw_in_place():
    out, _ = render(msg("stream", name="stdout", text="10%\r"), msg("stream", name="stdout", text="100%\n"))
    assert out == "10%\r100%\n"


def test_stderr_goes_to_stderr():
    out, err = render(msg("stream", name="stderr", text="careful\n"))
    assert err == "careful\n" and out == ""


def test_result_has_out_prompt_and_multiline_starts_on_next_line():
    out, _ = render(msg("execute_result", execution_count=3, data={"text/plain": "42"}))
    assert out == "Out[3]: 42\n"
    out, _ = render(msg("execute_result", execution_count=4, data={"text/plain": "a\nb"}))
    assert out.startswith("Out[4]: \na\nb")


def test_html_only_display_shows_text_and_a_note():
    text, rest = best_text({"text/html": "<p>Hello&nbsp;<b>there</b></p>"})
    assert text == "Hello\xa0there" and rest == []
    out, _ = render(msg("display_data", data={"text/plain": "<Table>", "text/html": "<table/>"}))
    assert "<Table>" in out and "text/html" in out and "notebook" in out


def test_image_without_a_protocol_is_saved_and_its_path_printed():
    out, _ = render(msg("display_data", data={"text/plain": "<Figure>", "image/png": PNG}))
    path = out.split("saved to ", 1)[1].split("]", 1)[0]
    try:
        with open(path, "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    finally:
        os.unlink(path)


def test_image_inline_with_kitty_and_iterm2():
    out, _ = render(msg("display_data", data={"image/png": PNG}), protocol="kitty")
    assert out.startswith("\x1b_Ga=T,f=100,m=0;") and "saved to" not in out
    out, _ = render(msg("display_data", data={"image/png": PNG}), protocol="iterm2")
    assert out.startswith("\x1b]1337;File=inline=1;")


def test_image_protocol_detection():
    assert detect_image_protocol({"TERM": "xterm-kitty"}) == "kitty"
    assert detect_image_protocol({"TERM_PROGRAM": "iTerm.app"}) == "iterm2"
    assert detect_image_protocol({"TERM": "xterm-256color"}) is None
    assert detect_image_protocol({"TERM": "xterm-kitty", "JUP_IMAGE_PROTOCOL": "file"}) is None


def test_traceback_colour_is_dropped_without_colour_and_kept_with_it():
    tb = msg("error", ename="ValueError", evalue="bad", traceback=["\x1b[31mValueError\x1b[0m: bad"])
    _, err = render(tb, color=False)
    assert err == "ValueError: bad\n"
    _, err = render(tb, color=True)
    assert "\x1b[31m" in err
    assert strip_ansi(err) == "ValueError: bad\n"


def test_unknown_message_types_are_ignored():
    out, err = render(msg("comm_open", comm_id="x"), msg("status", execution_state="idle"))
    assert out == err == ""


def test_out_prompt_colour_from_config_names():
    out = io.StringIO()
    r = Renderer(out=out, err=out, color=True, out_color="ansibrightblue")
    r(msg("execute_result", execution_count=1, data={"text/plain": "1"}))
    assert out.getvalue().startswith("\x1b[94mOut[1]: ")
    out = io.StringIO()
    Renderer(out=out, err=out, color=True, out_color="#ff8700")(
        msg("execute_result", execution_count=2, data={"text/plain": "2"}))
    assert out.getvalue().startswith("\x1b[38;2;255;135;0mOut[2]: ")
