"""When to restart a crashed kernel, and the events a frontend shows about it.

A kernel that keeps dying must not be restarted forever: at most `max_restarts` within `window`
seconds, each after a growing delay; then the manager gives up with a `died` event.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from jup.core.errors import KernelDied

#: event names (a crash gives restarting, then restarted or, after too many, died; docs/protocol.md)
EVENTS = ("restarting", "restarted", "died", "unresponsive", "responsive", "started", "shutdown")


@dataclass(frozen=True)
class KernelEvent:
    """Something a frontend should tell the user: `name` is one of EVENTS.

    `error` carries why the kernel died (for restarting and died); `restarts` counts automatic
    restarts within the current window.
    """

    name: str
    manager: Any
    error: KernelDied | None = None
    restarts: int = 0

    @property
    def message(self) -> str:
        """One sentence for the user."""
        if self.name == "restarting":
            return f"{self.error} Restarting it (attempt {self.restarts})."
        if self.name == "died":
            return f"{self.error} It kept dying, so it was not restarted again."
        if self.name == "unresponsive":
            return ("The kernel does not answer its heartbeat; it may be stuck in C code. Interrupt it, "
                    "or restart it (its state will be lost).")
        return _PLAIN.get(self.name, f"The kernel: {self.name}.")


#: what the events without an error say
_PLAIN = {"started": "The kernel started.", "restarted": "The kernel restarted.",
          "responsive": "The kernel answers its heartbeat again.", "shutdown": "The kernel was shut down."}


class RestartPolicy:
    """Counts restarts in a sliding window and says how long to wait before the next."""

    def __init__(self, max_restarts: int = 5, window: float = 60.0, backoff: float = 0.05,
                 max_backoff: float = 5.0):
        self.max_restarts, self.window = max_restarts, window
        self.backoff, self.max_backoff = backoff, max_backoff
        self._times: deque[float] = deque()

    def _trim(self, now: float) -> None:
        while self._times and now - self._times[0] > self.window:
            self._times.popleft()

    def allow(self, now: float | None = None) -> bool:
        """Whether one more automatic restart is allowed now."""
        now = time.monotonic() if now is None else now
        self._trim(now)
        return len(self._times) < self.max_restarts

    def record(self, now: float | None = None) -> int:
        """Note a restart; how many happened in the window, this one included."""
        now = time.monotonic() if now is None else now
        self._trim(now)
        self._times.append(now)
        return len(self._times)

    def delay(self) -> float:
        """Seconds to wait before the next restart: doubling with each recent one."""
        return min(self.max_backoff, self.backoff * (2 ** max(0, len(self._times) - 1)))
