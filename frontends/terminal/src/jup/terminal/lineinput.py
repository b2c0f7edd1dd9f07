"""Answering a kernel's `input()` / `getpass()` at a prompt_toolkit prompt, with line editing.

Every mode asks here: the shell's event loop for an out-of-process kernel, the in-process executor's
helper thread (in a loop of its own) for the in-process one. Answers keep a history of their own,
never mixed with the cells'. Ctrl-C raises KeyboardInterrupt and Ctrl-D on an empty line EOFError,
for the caller to turn into the same exception in the user's code.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable

from jup.terminal.bridge import EOF_ANSWER

__all__ = ["EOF_ANSWER", "ask_line", "ask_line_blocking", "terminal_is_interactive"]

_answers = None  # the InMemoryHistory of typed answers, made on first use


def _history():
    global _answers
    if _answers is None:
        from prompt_toolkit.history import InMemoryHistory
        _answers = InMemoryHistory()
    return _answers


def terminal_is_interactive() -> bool:
    """True when both ends of the real terminal are a tty (a piped stdin gets no prompt_toolkit)."""
    try:
        return sys.__stdin__.isatty() and sys.__stdout__.isatty()
    except (AttributeError, ValueError):  # closed or missing streams
        return False


async def ask_line(prompt: str, password: bool = False,
                   abandoned: Callable[[], bool] | None = None, poll: float = 0.1) -> str:
    """One line typed at `prompt` (hidden when `password`), edited like the shell's input.

    `abandoned()`, checked every `poll` seconds, ends the prompt with EOFError when the kernel no
    longer waits (its cell ended some other way).
    """
    from prompt_toolkit import PromptSession
    from prompt_toolkit.formatted_text import ANSI
    from prompt_toolkit.history import DummyHistory
    from prompt_toolkit.input import create_input
    from prompt_toolkit.output import create_output

    # the real terminal (in-process, sys.stdout is the running cell's stream); a hidden answer is
    # never recalled
    session: PromptSession = PromptSession(
        history=DummyHistory() if password else _history(), input=create_input(sys.__stdin__),
        output=create_output(stdout=sys.__stdout__), enable_history_search=False)
    watcher = None
    if abandoned is not None:
        async def watch() -> None:
            while not abandoned():  # ends with the prompt (cancelled below) or when abandoned
                await asyncio.sleep(poll)  # polling a condition, not synchronising
            if session.app.is_running:
                session.app.exit(exception=EOFError("the cell ended while waiting for input"))
        watcher = asyncio.get_running_loop().create_task(watch())
    try:
        # handle_sigint=False: the tty is raw while we ask, so Ctrl-C is a key; and pt's own SIGINT
        # handler would replace the shell's (which interrupts the cell) when it is removed again
        # ANSI: a prompt coloured with escape sequences shows its colours, not the escapes
        return await session.prompt_async(ANSI(prompt), is_password=password, handle_sigint=False)
    finally:
        if watcher is not None:
            watcher.cancel()


def ask_line_blocking(prompt: str, password: bool = False,
                      abandoned: Callable[[], bool] | None = None) -> str:
    """`ask_line` from a thread without an event loop (the in-process executor's helper)."""
    return asyncio.run(ask_line(prompt, password, abandoned))
