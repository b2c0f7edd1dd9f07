"""What the editor asks the kernel while a person types: completions, calltips, and past inputs."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterable

from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document
from prompt_toolkit.history import InMemoryHistory

from jup.core.errors import JupError
from jup.terminal.bridge import KernelBridge
from jup.terminal.render import strip_ansi


class KernelCompleter(Completer):
    """Tab completion from the kernel's complete_reply, with types when the kernel gives them."""

    def __init__(self, bridge: KernelBridge):
        self.bridge = bridge

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterable[Completion]:
        return []  # only the async path is used: the answer comes over the wire

    async def get_completions_async(self, document: Document,
                                    complete_event: CompleteEvent) -> AsyncGenerator[Completion, None]:
        pos = document.cursor_position
        try:
            reply = await self.bridge.complete(document.text, pos)
        except JupError:
            return
        if reply.get("status", "ok") != "ok":
            return
        typed = (reply.get("metadata") or {}).get("_jupyter_types_experimental")
        if typed:
            items = [(t.get("text", ""), t.get("start", reply.get("cursor_start", pos)),
                      t.get("type") or "", t.get("signature") or "") for t in typed]
        else:
            start = reply.get("cursor_start", pos)
            items = [(m, start, "", "") for m in reply.get("matches") or []]
        seen = set()
        for text, start, kind, signature in items:
            if not text or text in seen:
                continue
            seen.add(text)
            meta = kind + (f" {signature}" if signature and len(signature) < 40 else "")
            yield Completion(text, start_position=min(0, start - pos), display_meta=meta or None)


def calltip_from_inspect(reply: dict) -> str:
    """One line for the toolbar: the signature from an inspect_reply (detail 0), or ''."""
    if not reply.get("found"):
        return ""
    text = strip_ansi((reply.get("data") or {}).get("text/plain", ""))
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    for ln in lines:
        low = ln.lower()
        if low.startswith(("signature:", "init signature:", "call signature:")):
            return ln.split(":", 1)[1].strip()
    return lines[0] if lines else ""


def kernel_history(entries: list[str]) -> InMemoryHistory:
    """A prompt_toolkit history pre-filled with the kernel's past inputs (oldest first).

    New inputs are kept in memory only: the kernel records them in its own database.
    """
    return InMemoryHistory(history_strings=entries)
