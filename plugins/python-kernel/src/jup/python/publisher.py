"""Where the shell's output goes. A kernel sends it over iopub; a plain shell (the terminal
running Python in-process, a script) prints it. Both are one small interface, so the shell never
needs to know which it has."""

from __future__ import annotations

import sys
from typing import Any, Protocol


class Publisher(Protocol):
    """What the shell calls to show output; `error` is optional (stderr is used without it)."""

    def display(self, data: dict, metadata: dict, transient: dict, update: bool) -> None: ...
    def stream(self, name: str, text: str) -> None: ...
    def clear_output(self, wait: bool) -> None: ...
    def execute_result(self, count: int, data: dict, metadata: dict) -> None: ...
    def payload(self, payload: dict) -> None: ...


class PrintPublisher:
    """Prints text/plain; what the shell uses when no kernel is attached."""

    def __init__(self) -> None:
        self.payloads: list[dict] = []

    def display(self, data: dict, metadata: dict, transient: dict, update: bool) -> None:
        text = data.get("text/plain")
        if text is not None:
            self.stream("stdout", str(text) + "\n")

    def stream(self, name: str, text: str) -> None:
        out = sys.stderr if name == "stderr" else sys.stdout
        out.write(text)
        out.flush()

    def clear_output(self, wait: bool) -> None:
        pass

    def execute_result(self, count: int, data: dict, metadata: dict) -> None:
        self.stream("stdout", f"Out[{count}]: {data.get('text/plain', '')}\n")

    def payload(self, payload: dict) -> None:
        if payload.get("source") == "page":
            data = payload.get("data", {})
            self.stream("stdout", str(data.get("text/plain", "")) + "\n")
        else:
            self.payloads.append(payload)

    def error(self, ename: str, evalue: str, traceback: list[str]) -> None:
        self.stream("stderr", "\n".join(traceback) + "\n")


class RecordingPublisher:
    """Keeps everything published, in order, as (kind, content) pairs: a test double for plugin
    authors and for the shell's own tests."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict]] = []

    def display(self, data: dict, metadata: dict, transient: dict, update: bool) -> None:
        self.events.append(("update_display_data" if update else "display_data",
                            {"data": data, "metadata": metadata, "transient": transient}))

    def stream(self, name: str, text: str) -> None:
        self.events.append(("stream", {"name": name, "text": text}))

    def clear_output(self, wait: bool) -> None:
        self.events.append(("clear_output", {"wait": wait}))

    def execute_result(self, count: int, data: dict, metadata: dict) -> None:
        self.events.append(("execute_result", {"execution_count": count, "data": data,
                                               "metadata": metadata}))

    def payload(self, payload: dict) -> None:
        self.events.append(("payload", payload))

    def error(self, ename: str, evalue: str, traceback: list[str]) -> None:
        self.events.append(("error", {"ename": ename, "evalue": evalue, "traceback": traceback}))

    def of(self, kind: str) -> list[dict]:
        """The contents of every event of one kind."""
        return [c for k, c in self.events if k == kind]

    def clear(self) -> None:
        self.events.clear()


def publisher_error(pub: Any, ename: str, evalue: str, traceback: list[str]) -> None:
    """Report an error through `pub.error` when it has one, else as stderr text."""
    err = getattr(pub, "error", None)
    if err is not None:
        err(ename, evalue, traceback)
    else:
        pub.stream("stderr", "\n".join(traceback) + "\n")
