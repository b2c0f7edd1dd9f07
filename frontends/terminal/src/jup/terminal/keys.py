"""Every key binding the shell adds to prompt_toolkit's emacs/vi defaults, declared in one place.

Enter asks the kernel whether the cell is complete (is_complete_request) and either runs it or opens a
new line with the indent the kernel suggests; Esc-Enter always opens a new line; Tab indents at the
start of a line and completes elsewhere; `(` asks the kernel for the signature shown in the toolbar.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from prompt_toolkit.filters import Condition, has_completions, has_focus, has_selection
from prompt_toolkit.key_binding import KeyBindings
from prompt_toolkit.key_binding.key_processor import KeyPressEvent

if TYPE_CHECKING:
    from jup.terminal.shell import Shell

INDENT = "    "
_DEDENT = re.compile(r"^\s*(return|pass|raise|break|continue)\b")


def guess_complete(code: str, language: str) -> dict:
    """is_complete answered locally, for kernels that cannot be asked synchronously."""
    lines = code.split("\n")
    last = lines[-1]
    indent = last[:len(last) - len(last.lstrip())]
    if language == "python":
        import codeop
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                compiled = codeop.compile_command(code + ("\n" if "\n" in code else ""), symbol="exec")
            except (SyntaxError, OverflowError, ValueError):
                return {"status": "invalid"}
        if compiled is None or (len(lines) > 1 and last[:1] in (" ", "\t") and last.strip()):
            if last.rstrip().endswith(":"):
                indent += INDENT
            return {"status": "incomplete", "indent": indent}
        return {"status": "complete"}
    return {"status": "unknown"}


def newline_indent(code: str, kernel_indent: str | None) -> str:
    """The indent for the next line: the kernel's, one step less after return/pass/raise..."""
    last = code.split("\n")[-1]
    current = last[:len(last) - len(last.lstrip())]
    indent = kernel_indent if kernel_indent is not None else current
    if _DEDENT.match(last) and len(indent) >= len(current) and current:
        indent = current[:-len(INDENT)] if current.endswith(INDENT) else ""
    return indent


def build_key_bindings(shell: Shell) -> KeyBindings:
    kb = KeyBindings()
    focused = has_focus("DEFAULT_BUFFER")

    @kb.add("enter", filter=focused & ~has_selection)
    def _enter(event: KeyPressEvent) -> None:
        b = event.current_buffer
        state = b.complete_state
        if state is not None and state.current_completion is not None:
            b.apply_completion(state.current_completion)
            return
        if state is not None:
            b.cancel_completion()
        doc = b.document
        text = b.text
        if not text.strip():
            b.validate_and_handle()
            return
        if "\n" in text and not doc.is_cursor_at_the_end and doc.text_after_cursor.strip():
            b.insert_text("\n" + newline_indent(doc.text_before_cursor, None))
            return
        if "\n" in text and not doc.current_line.strip() and doc.is_cursor_at_the_end:
            b.validate_and_handle()  # an empty last line ends a block, as in IPython
            return
        reply = shell.bridge.is_complete_now(text) or guess_complete(text, shell.language)
        status = reply.get("status")
        if status == "incomplete":
            b.insert_text("\n" + newline_indent(text, reply.get("indent")))
        elif status == "unknown" and "\n" in text and doc.current_line.strip():
            b.insert_text("\n" + newline_indent(text, None))
        else:
            b.validate_and_handle()

    @kb.add("escape", "enter", filter=focused)
    @kb.add("c-o", filter=focused)
    def _newline(event: KeyPressEvent) -> None:
        b = event.current_buffer
        b.insert_text("\n" + newline_indent(b.document.text_before_cursor, None))

    start_of_line = Condition(lambda: shell.current_line_prefix_is_blank())

    @kb.add("tab", filter=focused & start_of_line & ~has_completions)
    def _indent(event: KeyPressEvent) -> None:
        event.current_buffer.insert_text(INDENT)

    @kb.add("backspace", filter=focused & start_of_line & ~has_selection)
    def _dedent(event: KeyPressEvent) -> None:
        b = event.current_buffer
        before = b.document.current_line_before_cursor
        if before and len(before) % len(INDENT) == 0:
            b.delete_before_cursor(len(INDENT))
        else:
            b.delete_before_cursor(1)

    @kb.add("(", filter=focused)
    def _open_paren(event: KeyPressEvent) -> None:
        b = event.current_buffer
        code, pos = b.text, b.cursor_position
        b.insert_text("(")
        shell.request_calltip(code, pos)

    @kb.add(")", filter=focused)
    def _close_paren(event: KeyPressEvent) -> None:
        event.current_buffer.insert_text(")")
        shell.set_toolbar("")

    return kb
