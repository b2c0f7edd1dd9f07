"""Work for the kernel's idle moments: a GUI toolkit's events (`%gui tk`, `%matplotlib qt`) and
one-off background warm-ups.

Why here: cells run on the kernel's main thread, which is also the only thread a GUI toolkit may
use. Between cells that thread waits for the next request; the kernel base calls its `idle_hook`
every `idle_interval` seconds while it waits, and this module's `IdleScheduler` is that hook. When
nothing is scheduled the hook is removed, so an idle kernel sleeps instead of polling.

Once the user's code uses asyncio, the shell hands its event loop to the scheduler: a `LoopWaiter`
becomes the kernel's `idle_waiter`, so between cells the main thread waits *inside* that loop
(background tasks run with no polling delay; the request queue wakes it with
`call_soon_threadsafe`), and cells run as tasks of the same loop.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

__all__ = ["IdleScheduler", "LoopWaiter", "register_gui", "gui_names", "scheduler"]

#: GUI name -> factory returning a function that processes the toolkit's pending events once.
_GUIS: dict[str, Callable[[], Callable[[], None]]] = {}
_ALIASES = {"qt5": "qt", "qt6": "qt", "qtagg": "qt", "tkagg": "tk", "gtk": "gtk3", "gtk3agg": "gtk3",
            "gtk4agg": "gtk4", "wxagg": "wx"}


def register_gui(name: str, factory: Callable[[], Callable[[], None]]) -> None:
    """Teach the kernel a GUI toolkit: `factory()` (called on `%gui name`, on the main thread) sets
    the toolkit up and returns a function that handles its pending events without blocking."""
    _GUIS[name] = factory


def gui_names() -> list[str]:
    return sorted(_GUIS)


def canonical(name: str) -> str:
    return _ALIASES.get(name.lower(), name.lower())


def scheduler(kernel: Any) -> IdleScheduler | None:
    """The kernel's scheduler (made on first use); None when the kernel has no idle hook to offer
    (in-process kernels: their host's own loop runs them)."""
    if kernel is None or getattr(kernel, "in_process", False) or not hasattr(kernel, "idle_hook"):
        return None
    sched = getattr(kernel, "_jup_idle_scheduler", None)
    if sched is None:
        sched = IdleScheduler(kernel)
        kernel._jup_idle_scheduler = sched
    return sched


class IdleScheduler:
    """The kernel's idle hook: steps the active GUI toolkit and runs one-off tasks once the kernel
    has been idle long enough (so they never slow a burst of requests)."""

    def __init__(self, kernel: Any):
        self.kernel = kernel
        self.gui: str | None = None
        self._gui_step: Callable[[], None] | None = None
        self._tasks: list[tuple[float, Callable[[], None]]] = []
        self._idle_since: float | None = None
        self._last = 0.0
        self.waiter: LoopWaiter | None = None

    # ---- what to do -----------------------------------------------------------------------------

    def call_when_idle(self, func: Callable[[], None], after: float = 0.5) -> None:
        """Run `func` once on the main thread after the kernel has been idle for `after` seconds."""
        self._tasks.append((after, func))
        self._update()

    def set_gui(self, name: str | None) -> str | None:
        """Process `name`'s events while idle (None or "" stops); returns the canonical name.
        Raises ValueError for an unknown toolkit or one that cannot start here."""
        if not name:
            self.gui, self._gui_step = None, None
            self._update()
            return None
        gui = canonical(name)
        factory = _GUIS.get(gui)
        if factory is None:
            raise ValueError(f"Unknown GUI {name!r}; choose one of {', '.join(gui_names())}.")
        try:
            step = factory()
        except ImportError as e:
            raise ValueError(f"The {gui} toolkit is not available ({e}); install it or use "
                             "%matplotlib inline.") from None
        self.gui, self._gui_step = gui, step
        self._update()
        return gui

    def use_loop(self, loop: Any) -> None:
        """Run this asyncio loop whenever the kernel waits for requests (None: stop doing so)."""
        if loop is None:
            self.waiter = None
        elif self.waiter is None or self.waiter.loop is not loop:
            self.waiter = LoopWaiter(loop, self)
        self._update()

    def _update(self) -> None:
        self.kernel.idle_hook = self if (self._gui_step is not None or self._tasks) else None
        self.kernel.idle_waiter = self.waiter

    # ---- the hook -------------------------------------------------------------------------------

    def __call__(self) -> None:
        now = time.monotonic()
        interval = float(getattr(self.kernel, "idle_interval", 0.05))
        if self._idle_since is None or now - self._last > 3 * interval:  # work ran in between
            self._idle_since = now - interval
        self._last = now
        step = self._gui_step
        if step is not None:
            try:
                step()
            except Exception as e:
                self.gui, self._gui_step = None, None
                self._say(f"The GUI event loop stopped ({type(e).__name__}: {e}); run %gui again "
                          "to restart it.")
        if self._tasks:
            idle_for = now - self._idle_since
            due = [t for t in self._tasks if t[0] <= idle_for]
            self._tasks = [t for t in self._tasks if t[0] > idle_for]
            for _, func in due:
                try:
                    func()
                except Exception as e:
                    self._say(f"A background task failed ({type(e).__name__}: {e}).")
        self._update()

    def _say(self, text: str) -> None:
        import sys
        try:
            sys.__stderr__.write(f"jup kernel: {text}\n")
        except Exception:
            pass


class LoopWaiter:
    """The kernel's `idle_waiter` for an asyncio loop: the loop runs until a request comes.

    `wake` may come from any thread at any time. It always notes that it came (`_pending`) and
    only while a wait is armed does it poke the loop (a write to its self-pipe), so the requests
    that arrive while cells run cost no loop turns. A wait arms first and then looks at
    `_pending`: of a racing wake and wait, at least one sees the other, so no wake is lost (at
    worst a wait ends early, and the kernel just looks at its queue once more)."""

    def __init__(self, loop: Any, owner: IdleScheduler | None = None):
        self.loop = loop
        self.owner = owner
        self._waiting = False  # the loop runs for `wait`: the stop callback may stop it
        self._armed = False  # a wait is about to run or runs: wakes must reach the loop
        self._pending = False
        self._parents: Any = None  # task -> the request that was running when it was made
        self._attach()

    def __repr__(self) -> str:
        return f"<LoopWaiter {self.loop!r}>"

    def _attach(self) -> None:
        """Report the loop's unhandled errors under the cell that made the failing task."""
        import weakref
        self._parents = weakref.WeakKeyDictionary()
        if self.loop.get_exception_handler() is None:
            self.loop.set_exception_handler(self._report)
        if self.loop.get_task_factory() is None:
            self.loop.set_task_factory(self._make_task)

    def _make_task(self, loop: Any, coro: Any, **kwargs: Any) -> Any:
        import asyncio
        task = asyncio.Task(coro, loop=loop, **kwargs)
        kernel = self.owner.kernel if self.owner is not None else None
        parent = kernel.get_parent() if kernel is not None else None
        if parent is not None:
            self._parents[task] = parent
        return task

    def wake(self) -> None:
        """From any thread: end the current (or the next) `wait` soon."""
        self._pending = True
        if self._armed:
            self.loop.call_soon_threadsafe(self._stop_if_waiting)

    def _stop_if_waiting(self) -> None:
        if self._waiting:
            self.loop.stop()

    def wait(self, timeout: float | None) -> None:
        """Run the loop until `wake` or `timeout` seconds; an idle loop sleeps in its selector."""
        loop = self.loop
        if loop.is_closed() or loop.is_running():  # closed by the user, or run by another thread
            if self.owner is not None:
                self.owner.use_loop(None)
            return
        self._armed = True
        if self._pending:  # a request came since the last wait: the kernel looks at its queue
            self._armed = self._pending = False
            return
        timer = loop.call_later(timeout, self._stop_if_waiting) if timeout is not None else None
        self._waiting = True
        try:
            loop.run_forever()
        except SystemExit as e:  # sys.exit() in a background task: not the kernel's end
            self._write(f"A background task called sys.exit({e.code!r}); the kernel carries on "
                        "(restart the kernel to end it).\n", None)
        finally:
            self._waiting = self._armed = self._pending = False
            if timer is not None:
                timer.cancel()

    def run(self, fn: Callable[[], Any]) -> None:
        """Run `fn` (a comm message's handler) as a task of the loop, so that the widget callbacks
        it calls can use `asyncio.create_task`, as in ipykernel. Its errors propagate."""
        loop = self.loop
        if loop.is_closed() or loop.is_running():
            fn()
            return

        async def call() -> None:
            fn()
        task = loop.create_task(call())
        for _ in range(100):  # bounded: each round ends with fn done or one escaped SystemExit
            try:
                loop.run_until_complete(task)
                return
            except SystemExit as e:  # from a background task, not from fn: not the kernel's end
                if task.done():
                    return
                self._write(f"A background task called sys.exit({e.code!r}); the kernel carries on "
                            "(restart the kernel to end it).\n", None)

    # ---- errors -----------------------------------------------------------------------------------

    def _report(self, loop: Any, context: dict) -> None:
        """asyncio's exception handler: the traceback goes to stderr under the task's cell. Called
        at odd moments (a task's garbage collection), so the text is written on the loop's next
        turn, not here."""
        import traceback
        message = context.get("message") or "Unhandled exception in the event loop"
        exc = context.get("exception")
        future = context.get("future") or context.get("task")
        parent = self._parents.get(future) if future is not None else None
        lines = [f"{message}\n"]
        if future is not None:
            lines.append(f"{future!r}\n")
        if exc is not None:
            lines.extend(traceback.format_exception(type(exc), exc, exc.__traceback__))
        text = "".join(lines)
        try:
            loop.call_soon_threadsafe(self._write, text, parent)
        except RuntimeError:  # the loop is closed
            self._write(text, parent)

    def _write(self, text: str, parent: dict | None) -> None:
        import sys
        kernel = self.owner.kernel if self.owner is not None else None
        stream = getattr(kernel, "stderr", None)
        try:
            if stream is not None and parent is not None:
                stream.write(text, parent)
            else:
                sys.stderr.write(text)
        except Exception:
            self._say(text)

    def _say(self, text: str) -> None:
        import sys
        try:
            sys.__stderr__.write(f"jup kernel: {text}")
        except Exception:
            pass


# ---- toolkits -----------------------------------------------------------------------------------

def _tk() -> Callable[[], None]:
    import _tkinter
    import tkinter
    interp = tkinter.Tcl()  # Tcl's event queue is per thread: this one serves every Tk window

    def step() -> None:
        for _ in range(1000):  # bounded: a flood of events cannot keep the kernel from its requests
            if not interp.tk.dooneevent(_tkinter.DONT_WAIT):
                break
    return step


def _qt() -> Callable[[], None]:
    try:
        from matplotlib.backends.qt_compat import QtCore, QtWidgets  # honours QT_API
    except ImportError:
        try:
            from PySide6 import QtCore, QtWidgets  # type: ignore[no-redef]
        except ImportError:
            from PyQt6 import QtCore, QtWidgets  # type: ignore[no-redef]
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(["jup"])

    def step() -> None:
        app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 20)
    return step


def _glib() -> Callable[[], None]:
    from gi.repository import GLib
    ctx = GLib.MainContext.default()

    def step() -> None:
        for _ in range(1000):
            if not ctx.iteration(False):
                break
    return step


def _wx() -> Callable[[], None]:
    import wx
    app = wx.GetApp() or wx.App(False)

    def step() -> None:
        app.Yield(True)
    return step


register_gui("tk", _tk)
register_gui("qt", _qt)
register_gui("gtk3", _glib)
register_gui("gtk4", _glib)
register_gui("wx", _wx)
