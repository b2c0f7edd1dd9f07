"""Tracebacks users read: cells named `Cell In[N]`, the failing line marked, four %xmode levels,
SyntaxError pointing at the column, chained exceptions, deep recursion folded."""

from __future__ import annotations

import pytest

from jup.python.traceback import strip_ansi

CELL = "def f(a):\n    b = a * 2\n    return b / 0\nf(3)"


def traceback_of(shell, code: str) -> str:
    shell.publisher.clear()
    shell.run_cell(code)
    (err,) = shell.publisher.of("error")
    return strip_ansi("\n".join(err["traceback"]))


def test_context_mode_is_the_default(shell):
    text = traceback_of(shell, CELL)
    assert text.startswith("-" * 75 + "\nZeroDivisionError")
    assert "Traceback (most recent call last)" in text
    assert "Cell In[1], line 4\n" in text and "----> 4 f(3)" in text
    assert "Cell In[1], line 3, in f(a)" in text and "----> 3     return b / 0" in text
    assert text.endswith("ZeroDivisionError: division by zero")
    assert "shell.py" not in text  # the shell's own frames are hidden


def test_verbose_shows_local_values(shell):
    shell.xmode = "verbose"
    text = traceback_of(shell, CELL)
    assert "a = 3" in text and "b = 6" in text


def test_plain_is_pythons_layout(shell):
    shell.xmode = "Plain"
    text = traceback_of(shell, CELL)
    assert text.startswith("Traceback (most recent call last):")
    assert "File Cell In[1], line 3, in f\n    return b / 0" in text


def test_minimal_is_one_line(shell):
    shell.xmode = "Minimal"
    assert traceback_of(shell, CELL) == "ZeroDivisionError: division by zero"


def test_unknown_mode_lists_the_choices(shell):
    with pytest.raises(ValueError, match="choose one of Plain, Context, Verbose, Minimal"):
        shell.xmode = "loud"


def test_syntax_error_points_at_the_column(shell):
    text = traceback_of(shell, "x = 1\ny = (x +* 2)")
    assert text.splitlines() == ["  Cell In[1], line 2", "    y = (x +* 2)", "            ^",
                                 "SyntaxError: invalid syntax"]


def test_colours_are_ansi(shell):
    shell.run_cell("1/0")
    (err,) = shell.publisher.of("error")
    assert "\x1b[" in "".join(err["traceback"])


def test_chained_exceptions_show_both(shell):
    text = traceback_of(shell, "try:\n    {}['k']\nexcept KeyError as e:\n    raise ValueError('bad') from e")
    assert text.index("KeyError: 'k'") < text.index("direct cause") < text.index("ValueError: bad")


def test_deep_recursion_is_folded(shell):
    text = traceback_of(shell, "def r(): return r()\nr()")
    assert "[... skipping similar frames: r at line 1" in text
    assert len(text.splitlines()) < 30


def test_library_frames_show_their_file(shell):
    text = traceback_of(shell, "import json\njson.loads('{')")
    assert "json/decoder.py" in text and "JSONDecodeError" in text


def test_exception_whose_str_fails(shell):
    text = traceback_of(shell, "class E(Exception):\n    def __str__(self): raise RuntimeError\nraise E")
    assert "exception str() failed" in text
