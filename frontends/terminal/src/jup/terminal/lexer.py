"""Syntax highlighting that re-lexes only from the edited line, not the whole cell, on each key.

prompt_toolkit asks for every line of a wrapped multi-line input on each redraw (to know its height),
and its PygmentsLexer starts afresh for every new document, so a 200-line cell was lexed whole on
every keystroke (~5 ms). Here the lines before the first changed one keep their fragments from the
last document, and pygments restarts at the nearest earlier line that begins outside any multi-line
token (a triple-quoted string, a backslash continuation), which is where a lexer is in its start state.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from prompt_toolkit.document import Document
from prompt_toolkit.lexers import Lexer
from prompt_toolkit.styles.pygments import pygments_token_to_classname
from pygments.token import Comment, Text

Fragments = list[tuple[str, str]]
_SAFE_LINE_ENDS = (Text, Comment)  # a newline lexed as one of these ends a line in the start state


class IncrementalPygmentsLexer(Lexer):
    """A prompt_toolkit lexer over a pygments lexer class that reuses the unchanged leading lines."""

    def __init__(self, pygments_lexer_cls: type):
        self.pygments_lexer = pygments_lexer_cls(stripnl=False, stripall=False, ensurenl=False)
        self._classes: dict[Any, str] = {}
        self._lines: list[str] = []  # the last document's lines ...
        self._frags: list[Fragments] = []  # ... their fragments ...
        self._safe_start: list[bool] = []  # ... and whether the lexer is in its start state at each
        self.relexed_from = 0  #: the line the last lex_document restarted at (for tests)

    def _class(self, token: Any) -> str:
        cls = self._classes.get(token)
        if cls is None:
            cls = self._classes[token] = "class:" + pygments_token_to_classname(token)
        return cls

    def _restart_line(self, lines: list[str]) -> int:
        """The last line to restart lexing at: unchanged so far, and begun in the start state."""
        same = 0
        limit = min(len(lines), len(self._lines))
        while same < limit and lines[same] == self._lines[same]:
            same += 1
        if same == len(lines) == len(self._lines):
            return same  # nothing changed
        for r in range(min(same, len(self._safe_start) - 1), 0, -1):
            if self._safe_start[r]:
                return r
        return 0

    def _lex(self, lines: list[str], start: int) -> None:
        frags: list[Fragments] = [[]]
        safe: list[bool] = [True]
        for _pos, token, value in self.pygments_lexer.get_tokens_unprocessed("\n".join(lines[start:])):
            cls = self._class(token)
            parts = value.split("\n")
            for i, part in enumerate(parts):
                if i:
                    frags.append([])
                    safe.append(any(token in kind for kind in _SAFE_LINE_ENDS)
                                and not parts[i - 1].endswith("\\"))
                if part:
                    frags[-1].append((cls, part))
        self._frags = (self._frags[:start] + frags)[:len(lines)]
        self._safe_start = (self._safe_start[:start] + safe)[:len(lines)]
        self._lines = list(lines)

    def lex_document(self, document: Document) -> Callable[[int], Fragments]:
        lines = document.lines
        start = self._restart_line(lines)
        if start < len(lines) or len(lines) != len(self._lines):
            self._lex(lines, start)
        self.relexed_from = start
        frags = self._frags

        def get_line(lineno: int) -> Fragments:
            return frags[lineno] if 0 <= lineno < len(frags) else []

        return get_line
