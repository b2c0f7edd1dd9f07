"""Incremental highlighting: the same colours as lexing the whole cell, for far less work per key."""

from __future__ import annotations

import random

from prompt_toolkit.document import Document
from prompt_toolkit.formatted_text.utils import split_lines
from prompt_toolkit.styles.pygments import pygments_token_to_classname
from pygments.lexers import PythonLexer

from jup.terminal.lexer import IncrementalPygmentsLexer

CELL = '''import os

def greet(name):
    """Say hello.

    Over several lines, with 'quotes' and # no comment
    """
    text = f"hello {name}" + \\
        "!"
    return text  # done

values = [1, 2,
          3]
s = \'\'\'open
'''


def full(text: str) -> list[list[tuple[str, str]]]:
    """What lexing the whole document afresh gives, line by line."""
    lexer = PythonLexer(stripnl=False, stripall=False, ensurenl=False)
    tokens = (("class:" + pygments_token_to_classname(t), v) for _, t, v in lexer.get_tokens_unprocessed(text))
    return [[f for f in line if f[1]] for line in split_lines(list(tokens))]


def shown(lexer: IncrementalPygmentsLexer, text: str) -> list[list[tuple[str, str]]]:
    doc = Document(text)
    get_line = lexer.lex_document(doc)
    return [get_line(i) for i in range(len(doc.lines))]


def test_typing_through_a_cell_matches_a_full_lex_at_every_key():
    lexer = IncrementalPygmentsLexer(PythonLexer)
    for n in range(len(CELL) + 1):  # every prefix: unterminated strings, half a docstring...
        assert shown(lexer, CELL[:n]) == full(CELL[:n]), f"after typing {CELL[:n]!r}"


def test_edits_anywhere_match_a_full_lex():
    lexer = IncrementalPygmentsLexer(PythonLexer)
    rng = random.Random(4)
    text = CELL
    for _ in range(300):  # insert and delete at random places, quotes and newlines included
        pos = rng.randrange(len(text) + 1)
        if rng.random() < 0.6 or not text:
            text = text[:pos] + rng.choice(['"""', "'", "\n", "x", "#", "\\", " ", "(", "def f():\n"]) + text[pos:]
        else:
            text = text[:pos] + text[pos + rng.randint(1, 4):]
        assert shown(lexer, text) == full(text), text


def test_typing_at_the_end_of_a_long_cell_relexes_one_line():
    lexer = IncrementalPygmentsLexer(PythonLexer)
    cell = "\n".join(f"value_{i} = {i} * 2  # line {i}" for i in range(199)) + "\nfinal = "
    shown(lexer, cell)
    assert lexer.relexed_from == 0
    shown(lexer, cell + "a")
    assert lexer.relexed_from == 199
    inside = '"""doc\n' + cell + "\n"  # all of it inside an open string: no line starts afresh
    shown(lexer, inside)
    shown(lexer, inside + "b")
    assert lexer.relexed_from == 0
