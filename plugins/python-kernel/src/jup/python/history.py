"""Input (and optionally output) history in one SQLite database per user, shared by every kernel.

Why this shape: execution must never wait on disk, so inputs are queued in memory and a background
thread writes them in batches; concurrent kernels are safe because the database runs in WAL mode
with a busy timeout; a corrupt file is moved aside with a warning and a fresh one started, so a bad
disk never takes the kernel down. The current session is also kept in memory, so reading it never
waits for the writer.

Addressing (as `%history` and `history_request` use it): a session is a positive number
(absolute), 0 (the current one) or negative (-1 is the previous session); lines start at 1.
"""

from __future__ import annotations

import atexit
import datetime as _dt
import fnmatch
import os
import queue
import re
import signal
import sqlite3
import sys
import threading
import time
import warnings
import weakref
from typing import Any

from jup.core.paths import jup_data_dir

__all__ = ["HistoryManager", "history_path", "parse_range"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (session INTEGER PRIMARY KEY AUTOINCREMENT,
    start TIMESTAMP, end TIMESTAMP, num_cmds INTEGER, remark TEXT);
CREATE TABLE IF NOT EXISTS history (session INTEGER, line INTEGER, source TEXT, source_raw TEXT,
    PRIMARY KEY (session, line));
CREATE TABLE IF NOT EXISTS output_history (session INTEGER, line INTEGER, output TEXT,
    PRIMARY KEY (session, line));
"""

#: seconds the writer gathers a batch: a burst of cells costs one transaction, and a kernel killed
#: outright (SIGKILL, OOM, segfault) loses at most this much; a cell's input is stored as it starts,
#: so the cell that brought the kernel down is in the history
_FLUSH_INTERVAL = 0.02
_BUSY_TIMEOUT_MS = 10000  # how long a writer waits for another kernel's transaction


def _outputs_option(shell: Any) -> bool:
    """Whether results are stored: env JUP_HISTORY_OUTPUTS=0/1 wins, then the shell's config
    `{"HistoryManager": {"store_outputs": ...}}` (IPython's name `db_log_output` is accepted), else on."""
    env = os.environ.get("JUP_HISTORY_OUTPUTS", "").strip().lower()
    if env:
        return env not in ("0", "off", "no", "false")
    conf = getattr(shell, "config", None)
    section = conf.get("HistoryManager") if isinstance(conf, dict) else None
    if isinstance(section, dict):
        for key in ("store_outputs", "db_log_output"):
            if key in section:
                return bool(section[key])
    return True


def history_path() -> str:
    """Where the history lives: `JUP_HISTORY_FILE` (may be `:memory:`), else
    `<jup data dir>/history.sqlite`."""
    return os.environ.get("JUP_HISTORY_FILE") or os.path.join(jup_data_dir(), "history.sqlite")


class HistoryManager:
    """The shell's history: `store_input`/`store_output` are called by the shell after each cell;
    `get_tail`, `get_range`, `search` and `reply` (for `history_request`) read it back."""

    def __init__(self, shell: Any = None, path: str | None = None, enabled: bool = True,
                 store_outputs: bool | None = None):
        self.shell = shell
        self.path = path or history_path()
        self.enabled = enabled
        #: Keep each result's text/plain with its input (on unless turned off, see `_outputs_option`).
        self.store_outputs = _outputs_option(shell) if store_outputs is None else store_outputs
        self._session_no = 0          # set once the database is open
        self.warning: str | None = None  # the last problem met with the database, if any
        self.inputs: dict[int, tuple[str, str]] = {}   # line -> (source, raw), current session
        self.outputs: dict[int, str] = {}
        self._db: sqlite3.Connection | None = None
        self._lock = threading.RLock()
        self._queue: queue.Queue = queue.Queue()
        # set by flush/session/close: cuts the writer's gathering short (cells do not wake it, so a
        # burst of executes does not pay a thread switch per cell)
        self._urgent = threading.Event()
        self._ready = threading.Event()
        self._idle = threading.Condition()
        self._pending = 0
        self._closed = False
        self._writer = threading.Thread(target=self._run_writer, name="jup-history", daemon=True)
        self._writer.start()
        atexit.register(_close_at_exit, weakref.ref(self))  # what is queued reaches the disk

    @property
    def session_number(self) -> int:
        """This kernel's session in the database (0 when history is not saved to disk)."""
        self._ready.wait(10)
        return self._session_no

    # ---- writing (called on the execution thread; never touches the disk) ----------------------

    def store_input(self, count: int, source: str, raw: str | None = None) -> None:
        """Record cell `count`'s translated `source` and what the user typed (`raw`)."""
        raw = source if raw is None else raw
        self.inputs[count] = (source.rstrip("\n"), raw.rstrip("\n"))
        if self.enabled:
            self._put(("in", count, source.rstrip("\n"), raw.rstrip("\n")))

    def store_output(self, count: int, text: str) -> None:
        """Record the text/plain repr of cell `count`'s result (kept only if `store_outputs`)."""
        if not self.store_outputs:
            return
        self.outputs[count] = text
        if self.enabled:
            self._put(("out", count, text))

    def _put(self, item: tuple) -> None:
        with self._idle:
            self._pending += 1
        self._queue.put(item)
        if item[0] not in ("in", "out"):
            self._urgent.set()

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until everything stored so far is on disk; False if that took longer than `timeout`."""
        with self._idle:
            if self._pending == 0 or self._closed:
                return True
        self._put(("flush",))  # tells the writer to stop gathering and write now
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0 or self._closed, timeout)

    def new_session(self) -> None:
        """End the current session and start the next (what `%reset` asks for)."""
        self.flush()
        self.inputs.clear()
        self.outputs.clear()
        self._put(("session",))
        self.flush()

    def close(self, timeout: float = 5.0) -> None:
        """Write what is queued, mark the session's end and stop the writer thread."""
        if self._closed:
            return
        self._queue.put(("close",))
        self._urgent.set()
        self._writer.join(timeout)
        self._closed = True

    # ---- the writer thread ---------------------------------------------------------------------

    def _run_writer(self) -> None:
        try:  # SIGINT is for the thread running cells: one that lands here would wait, unseen
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        except (AttributeError, ValueError, OSError):  # not on this platform
            pass
        try:
            self._open()
        except Exception as exc:  # never let a disk problem stop the kernel
            self._problem(f"could not open the history database {self.path} ({exc}); this kernel "
                          "keeps its history in memory")
        finally:
            self._ready.set()
        stop = False
        while not stop:
            batch = [self._queue.get()]
            # gather whatever else arrives shortly, so a burst of cells costs one transaction;
            # a flush request or a session change cuts the wait short
            if batch[0][0] in ("in", "out"):
                self._urgent.wait(_FLUSH_INTERVAL)
            self._urgent.clear()
            while len(batch) < 1000:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            stop = any(item[0] == "close" for item in batch)
            self._write(batch)
            done = sum(1 for item in batch if item[0] != "close")
            with self._idle:
                self._pending -= done
                self._idle.notify_all()
        with self._idle:
            self._closed = True
            self._idle.notify_all()

    def _write(self, batch: list[tuple]) -> None:
        with self._lock:
            db = self._db
            if db is None:
                return
            try:
                with db:
                    for item in batch:
                        if item[0] == "in":
                            db.execute("INSERT OR REPLACE INTO history VALUES (?, ?, ?, ?)",
                                       (self._session_no, *item[1:]))
                        elif item[0] == "out":
                            db.execute("INSERT OR REPLACE INTO output_history VALUES (?, ?, ?)",
                                       (self._session_no, *item[1:]))
                        elif item[0] in ("session", "close"):
                            self._end_session(db)
                            if item[0] == "session":
                                self._start_session(db)
            except sqlite3.DatabaseError as exc:
                self._problem(f"could not save history to {self.path} ({exc}); this kernel keeps "
                              "its history in memory from now on")
                self._db = None

    def _start_session(self, db: sqlite3.Connection) -> None:
        cur = db.execute("INSERT INTO sessions VALUES (NULL, ?, NULL, NULL, '')",
                         (_dt.datetime.now().isoformat(" "),))
        self._session_no = cur.lastrowid

    def _end_session(self, db: sqlite3.Connection) -> None:
        db.execute("UPDATE sessions SET end=?, num_cmds=? WHERE session=?",
                   (_dt.datetime.now().isoformat(" "), len(self.inputs), self._session_no))

    def _open(self) -> None:
        """Open (or create) the database and start a session; a corrupt file is moved aside."""
        if not self.enabled:
            return
        moved_aside = False
        deadline = time.monotonic() + _BUSY_TIMEOUT_MS / 1000
        for attempt in range(200):  # bounded in count and by the busy timeout
            try:
                db = self._connect()
                with db:
                    self._start_session(db)
                self._db = db
                return
            except sqlite3.DatabaseError as exc:
                # two kernels creating or switching one file to WAL at once: SQLite answers
                # "locked" at once, without its busy handler, so wait a little and try again
                if "locked" in str(exc) and time.monotonic() < deadline:
                    time.sleep(min(0.01 * 2 ** attempt, 0.2))
                    continue
                if not moved_aside and self.path != ":memory:" and _looks_corrupt(exc):
                    moved_aside = True
                    aside = self._move_aside()
                    self._problem(f"the history database {self.path} was corrupt ({exc}); it was "
                                  f"moved to {aside} and a new one started")
                    continue
                self._problem(f"could not open the history database {self.path} ({exc}); this "
                              "kernel keeps its history in memory. Set JUP_HISTORY_FILE to use "
                              "another file.")
                return
            except OSError as exc:
                self._problem(f"could not create the history database {self.path} ({exc}); this "
                              "kernel keeps its history in memory. Set JUP_HISTORY_FILE to use "
                              "another file.")
                return

    def _connect(self) -> sqlite3.Connection:
        if self.path != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        db = sqlite3.connect(self.path, timeout=_BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
        try:
            db.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
            if self.path != ":memory:":
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(_SCHEMA)
            db.execute("SELECT count(*) FROM sessions").fetchone()
        except sqlite3.DatabaseError:
            db.close()
            raise
        return db

    def _move_aside(self) -> str:
        stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        base, ext = os.path.splitext(self.path)
        aside = f"{base}-corrupt-{stamp}{ext}"
        n = 1
        while os.path.exists(aside) and n < 1000:
            aside = f"{base}-corrupt-{stamp}-{n}{ext}"
            n += 1
        os.replace(self.path, aside)
        for suffix in ("-wal", "-shm"):
            if os.path.exists(self.path + suffix):
                try:
                    os.replace(self.path + suffix, aside + suffix)
                except OSError:
                    pass
        return aside

    def _problem(self, message: str) -> None:
        self.warning = message
        warnings.warn(message, RuntimeWarning, stacklevel=2)
        try:
            sys.__stderr__.write(f"jup history: {message}\n")
        except (AttributeError, ValueError, OSError):
            pass

    # ---- reading --------------------------------------------------------------------------------

    def _query(self, sql: str, params: tuple = ()) -> list[tuple]:
        self._ready.wait(10)
        self.flush()
        with self._lock:
            if self._db is None:
                return []
            try:
                return self._db.execute(sql, params).fetchall()
            except sqlite3.DatabaseError as exc:
                self._problem(f"could not read history from {self.path} ({exc})")
                return []

    def _session(self, session: int) -> int:
        """An absolute session number from 0 (current) or a negative (previous) one."""
        return self.session_number + session if session <= 0 else session

    def _rows(self, rows: list[tuple], raw: bool, output: bool) -> list[tuple]:
        out = []
        for session, line, source, source_raw, *rest in rows:
            text = source_raw if raw else source
            out.append((session, line, (text, rest[0]) if output else text))
        return out

    def _current(self, start: int, stop: int | None, raw: bool, output: bool) -> list[tuple]:
        lines = sorted(n for n in self.inputs if n >= start and (stop is None or n < stop))
        sess = self._session_no
        result = []
        for n in lines:
            text = self.inputs[n][1 if raw else 0]
            result.append((sess, n, (text, self.outputs.get(n)) if output else text))
        return result

    def get_range(self, session: int = 0, start: int = 1, stop: int | None = None,
                  raw: bool = True, output: bool = False) -> list[tuple]:
        """Lines `start` <= line < `stop` (None: to the end) of `session`, as
        `(session, line, input)` or `(session, line, (input, output))` tuples."""
        absolute = self._session(session)
        if absolute == self._session_no:
            return self._current(start, stop, raw, output)
        sql = ("SELECT h.session, h.line, h.source, h.source_raw, o.output FROM history h "
               "LEFT JOIN output_history o ON h.session=o.session AND h.line=o.line "
               "WHERE h.session=? AND h.line>=?")
        params: tuple = (absolute, start)
        if stop is not None:
            sql += " AND h.line<?"
            params += (stop,)
        return self._rows(self._query(sql + " ORDER BY h.line", params), raw, output)

    def get_tail(self, n: int = 10, raw: bool = True, output: bool = False,
                 include_latest: bool = True) -> list[tuple]:
        """The last `n` inputs across all sessions, oldest first."""
        sql = ("SELECT h.session, h.line, h.source, h.source_raw, o.output FROM history h "
               "LEFT JOIN output_history o ON h.session=o.session AND h.line=o.line "
               "ORDER BY h.session DESC, h.line DESC LIMIT ?")
        rows = self._query(sql, (n + (0 if include_latest else 1),))
        if not rows and self.inputs:  # no database: the current session is all there is
            rows = [(self._session_no, k, v[0], v[1], self.outputs.get(k))
                    for k, v in sorted(self.inputs.items(), reverse=True)][: n + 1]
        if not include_latest:
            rows = rows[1:]
        return self._rows(list(reversed(rows[:n])), raw, output)

    def search(self, pattern: str = "*", raw: bool = True, output: bool = False,
               n: int | None = None, unique: bool = False) -> list[tuple]:
        """Inputs matching the glob `pattern` (`*` and `?`, as in a shell), oldest first; with `n`,
        only the last n matches; with `unique`, each text once (its latest occurrence)."""
        column = "source_raw" if raw else "source"
        sql = ("SELECT h.session, h.line, h.source, h.source_raw, o.output FROM history h "
               "LEFT JOIN output_history o ON h.session=o.session AND h.line=o.line "
               f"WHERE h.{column} GLOB ? ORDER BY h.session, h.line")
        rows = self._query(sql, (pattern,))
        if not rows and self._db is None:
            rows = [(self._session_no, k, v[0], v[1], self.outputs.get(k))
                    for k, v in sorted(self.inputs.items())
                    if fnmatch.fnmatchcase(v[1 if raw else 0], pattern)]
        if unique:
            seen: dict[str, tuple] = {}
            for row in rows:
                text = row[3] if raw else row[2]
                seen.pop(text, None)
                seen[text] = row
            rows = list(seen.values())
        if n:
            rows = rows[-n:]
        return self._rows(rows, raw, output)

    def reply(self, content: dict) -> dict:
        """The content of a `history_reply` for a `history_request`'s content."""
        raw = bool(content.get("raw", True))
        output = bool(content.get("output", False))
        kind = content.get("hist_access_type", "tail")
        try:
            if kind == "tail":
                history = self.get_tail(int(content.get("n") or 10), raw, output)
            elif kind == "range":
                stop = content.get("stop")
                history = self.get_range(int(content.get("session", 0)),
                                         int(content.get("start", 1) or 1),
                                         None if stop is None else int(stop), raw, output)
            elif kind == "search":
                history = self.search(content.get("pattern", "*"), raw, output,
                                      int(content["n"]) if content.get("n") else None,
                                      bool(content.get("unique", False)))
            else:
                return {"status": "error", "ename": "ValueError",
                        "evalue": f"unknown hist_access_type {kind!r}: use tail, range or search",
                        "traceback": [], "history": []}
        except (TypeError, ValueError) as exc:
            return {"status": "error", "ename": type(exc).__name__,
                    "evalue": f"bad history_request ({exc})", "traceback": [], "history": []}
        return {"status": "ok", "history": [list(h) if not output else [h[0], h[1], list(h[2])]
                                            for h in history]}

    def get_ranges(self, spec: str, raw: bool = True, output: bool = False) -> list[tuple]:
        """Every line a `%history`-style range string names (see :func:`parse_range`)."""
        result: list[tuple] = []
        for session, start, stop in parse_range(spec):
            result.extend(self.get_range(session, start, stop, raw, output))
        return result


_RANGE = re.compile(r"^(?:(~?)(\d+)/)?(\d+)?(?:([-:])(\d+))?$")


def parse_range(spec: str) -> list[tuple[int, int, int | None]]:
    """Parse `%history` ranges into `(session, start, stop)` triples (stop exclusive, None = end).

    `4` line 4 · `4-6` lines 4 to 6 · `4:6` lines 4 and 5 · `~2/` all of the session two back ·
    `~1/3-5` lines 3-5 of the previous session · `12/7` line 7 of session 12. Several ranges are
    separated by spaces. A bad range raises ValueError saying which one.
    """
    triples = []
    for part in spec.split():
        m = _RANGE.match(part)
        if not m:
            raise ValueError(f"bad history range {part!r}: use N, N-M, N:M, ~S/ or S/N-M")
        tilde, sess, start, sep, end = m.groups()
        session = 0
        if sess is not None:
            session = -int(sess) if tilde else int(sess)
        if start is None and sep is None:
            triples.append((session, 1, None))
            continue
        first = int(start) if start is not None else 1
        if sep is None:
            triples.append((session, first, first + 1))
        elif sep == "-":
            triples.append((session, first, int(end) + 1))
        else:
            triples.append((session, first, int(end)))
    return triples


def _close_at_exit(ref: weakref.ref) -> None:
    manager = ref()
    if manager is not None:
        manager.close(timeout=2.0)


def _looks_corrupt(exc: BaseException) -> bool:
    text = str(exc).lower()
    return any(s in text for s in ("not a database", "malformed", "corrupt", "file is encrypted"))
