"""`IPython.utils.capture`: `with capture_output() as c:` keeps what the block prints and displays
(`c.stdout`, `c.stderr`, `c.outputs`) instead of showing it; `c.show()` shows it later.

Libraries and notebooks use it to silence or collect output; it swaps the shell's publisher and
`sys.stdout`/`sys.stderr` for the block, and restores them whatever happens.
"""

from __future__ import annotations

import io
import sys
from typing import Any

from jup.python.shell import current


class RichOutput:
    """One captured display: its mime bundle, shown again when displayed."""

    def __init__(self, data: dict | None = None, metadata: dict | None = None, transient: dict | None = None,
                 update: bool = False):
        self.data, self.metadata = data or {}, metadata or {}
        self.transient, self.update = transient or {}, update

    def display(self) -> None:
        shell = current()
        if shell is not None:
            shell.publisher.display(self.data, self.metadata, self.transient, self.update)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> tuple[dict, dict]:
        return self.data, self.metadata


class CapturedIO:
    """What a capture kept; calling it (or `.show()`) replays it into the current cell."""

    def __init__(self, stdout: io.StringIO | None, stderr: io.StringIO | None, outputs: list[RichOutput]):
        self._stdout, self._stderr, self.outputs = stdout, stderr, outputs

    @property
    def stdout(self) -> str:
        return self._stdout.getvalue() if self._stdout is not None else ""

    @property
    def stderr(self) -> str:
        return self._stderr.getvalue() if self._stderr is not None else ""

    def show(self) -> None:
        for text, stream in ((self.stdout, sys.stdout), (self.stderr, sys.stderr)):
            if text:
                stream.write(text)
                stream.flush()
        for out in self.outputs:
            out.display()

    __call__ = show

    def __str__(self) -> str:
        return self.stdout


class _Keeper:
    """The shell's publisher during a capture: keeps displays, passes everything else on."""

    def __init__(self, real: Any, outputs: list[RichOutput] | None):
        self._real, self._outputs = real, outputs

    def display(self, data: dict, metadata: dict, transient: dict, update: bool) -> None:
        if self._outputs is None:
            self._real.display(data, metadata, transient, update)
        else:
            self._outputs.append(RichOutput(data, metadata, transient, update))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


class _Text(io.StringIO):
    encoding = "utf-8"

    def isatty(self) -> bool:
        return False


class capture_output:  # noqa: N801 - IPython's name
    """Context manager capturing stdout, stderr and rich displays (each can be left shown)."""

    def __init__(self, stdout: bool = True, stderr: bool = True, display: bool = True):
        self.stdout, self.stderr, self.display = stdout, stderr, display
        self._saved: tuple | None = None

    def __enter__(self) -> CapturedIO:
        shell = current()
        out = _Text() if self.stdout else None
        err = _Text() if self.stderr else None
        outputs: list[RichOutput] = []
        self._saved = (sys.stdout, sys.stderr, shell, shell.publisher if shell is not None else None)
        if shell is not None and self.display:
            shell.publisher = _Keeper(shell.publisher, outputs)
        if out is not None:
            sys.stdout = out
        if err is not None:
            sys.stderr = err
        return CapturedIO(out, err, outputs)

    def __exit__(self, *exc: Any) -> None:
        assert self._saved is not None
        sys.stdout, sys.stderr, shell, publisher = self._saved
        if shell is not None:
            shell.publisher = publisher
        self._saved = None


__all__ = ["CapturedIO", "RichOutput", "capture_output"]
