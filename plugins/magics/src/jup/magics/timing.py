"""Timing and profiling magics: %time / %%time, %timeit / %%timeit, %prun / %%prun.

Output follows IPython's wording so that users' habits and notebooks' expectations carry over:
`CPU times: user ..., sys: ..., total: ...` / `Wall time: ...` and
`1.23 µs ± 4.5 ns per loop (mean ± std. dev. of 7 runs, 100,000 loops each)`.
"""

from __future__ import annotations

import ast
import inspect
import io
import itertools
import math
import os
import sys
import textwrap
import time
from typing import Any

from jup.core import UsageError
from jup.magics.args import int_option, magic_spec, split_options

_UNITS = (("s", 1.0), ("ms", 1e3), ("µs", 1e6), ("ns", 1e9))
_AUTORANGE_TARGET = 0.2  # seconds one run should take when the loop count is chosen automatically


def format_time(seconds: float, precision: int = 3) -> str:
    """A duration the way people read it: `1.23 ms`, `456 ns`, `2min 3s`."""
    if seconds >= 60.0:
        parts = []
        rest = seconds
        for suffix, length in (("d", 86400), ("h", 3600), ("min", 60), ("s", 1)):
            value = int(rest // length)
            if value:
                parts.append(f"{value}{suffix}")
                rest -= value * length
        return " ".join(parts)
    if seconds <= 0:
        return "0 ns"
    order = min(max(-int(math.floor(math.log10(seconds)) // 3), 0), 3)
    unit, scale = _UNITS[order]
    return f"{seconds * scale:.{precision}g} {unit}"


def _transform(shell: Any, code: str) -> str:
    transform = getattr(shell, "transform_cell", None)
    return transform(code) if callable(transform) else code


def _flags(shell: Any) -> int:
    """Top-level await in timed code follows the shell's `%autoawait` (on by default)."""
    flags = getattr(shell, "compile_flags", None)
    return flags if isinstance(flags, int) else 0


def _run(shell: Any, code: Any) -> Any:
    """Run a code object in the user namespace; code that awaits runs on the shell's loop."""
    runner = getattr(shell, "run_code_maybe_async", None)
    if runner is not None:
        return runner(code)
    return eval(code, shell.user_ns)


def _split_last_expr(code: str, filename: str, flags: int = 0) -> tuple[Any, Any]:
    """(exec code for all but a trailing expression, eval code for that expression or None)."""
    tree = ast.parse(code, filename, "exec")
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        head = ast.Module(body=tree.body[:-1], type_ignores=[])
        tail = ast.Expression(body=tree.body[-1].value)
        return compile(head, filename, "exec", flags), compile(tail, filename, "eval", flags)
    return compile(tree, filename, "exec", flags), None


def _awaits(source: str) -> bool:
    """Whether `source` awaits at top level (so it has to run on an event loop)."""
    try:
        code = compile(source, "<timed code>", "exec", ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    except SyntaxError:
        return False
    return bool(code.co_flags & inspect.CO_COROUTINE)


class _AsyncTimer:
    """`timeit.Timer` for a statement that awaits: the loop lives in an `async def` made from the
    setup and statement, and each run is one trip through the shell's event loop."""

    def __init__(self, stmt: str, setup: str, shell: Any):
        self.shell = shell
        src = ("async def __jup_timeit(_jup_it, _jup_timer):\n" + textwrap.indent(setup, "    ") +
               "\n    _jup_t0 = _jup_timer()\n    for _jup_i in _jup_it:\n" +
               textwrap.indent(stmt, "        ") + "\n    return _jup_timer() - _jup_t0\n")
        local: dict[str, Any] = {}
        exec(compile(src, "<timeit-async>", "exec"), shell.user_ns, local)
        self._inner = local["__jup_timeit"]

    def timeit(self, number: int) -> float:
        coro = self._inner(itertools.repeat(None, number), time.perf_counter)
        return self.shell._run_coroutine(coro)

    def repeat(self, repeat: int, number: int) -> list[float]:
        return [self.timeit(number) for _ in range(repeat)]


def time_(line: str, cell: str | None = None, *, shell: Any) -> Any:
    """Time one run of a statement or expression (`%time expr`) or of a cell (`%%time`).

    Prints `CPU times: user ..., sys: ..., total: ...` and `Wall time: ...`. With an expression
    (or a cell ending in one) its value is returned, so it shows as the cell's result."""
    if cell is not None and line.strip():
        raise UsageError("%%time takes no arguments: put the code in the cell body.")
    code = cell if cell is not None else line
    if not code.strip():
        raise UsageError("%time needs something to time, e.g. %time sum(range(10**6))")
    compile_start = time.perf_counter()
    body, expr = _split_last_expr(_transform(shell, code), "<timed code>", _flags(shell))
    compile_time = time.perf_counter() - compile_start
    t0, w0 = os.times(), time.perf_counter()
    value = None
    try:
        _run(shell, body)
        if expr is not None:
            value = _run(shell, expr)
    finally:
        w1, t1 = time.perf_counter(), os.times()
        user, system = t1.user - t0.user, t1.system - t0.system
        print(f"CPU times: user {format_time(user)}, sys: {format_time(system)}, "
              f"total: {format_time(user + system)}")
        print(f"Wall time: {format_time(w1 - w0)}")
        if compile_time > 0.1:
            print(f"Compiler time: {compile_time:.2f} s")
    return value


class TimeitResult:
    """What `%timeit -o` returns: the per-loop times of every run, and the summary line as repr."""

    def __init__(self, loops: int, repeat: int, best: float, worst: float, all_runs: list[float],
                 compile_time: float, precision: int):
        self.loops, self.repeat = loops, repeat
        self.best, self.worst = best, worst
        self.all_runs = all_runs  # total seconds of each run (each run is `loops` loops)
        self.compile_time = compile_time
        self._precision = precision
        self.timings = [t / loops for t in all_runs]

    @property
    def average(self) -> float:
        return math.fsum(self.timings) / len(self.timings)

    @property
    def stdev(self) -> float:
        mean = self.average
        return (math.fsum((t - mean) ** 2 for t in self.timings) / len(self.timings)) ** 0.5

    def __str__(self) -> str:
        p = self._precision
        runs = "run" if self.repeat == 1 else "runs"
        loops = "loop" if self.loops == 1 else "loops"
        return (f"{format_time(self.average, p)} ± {format_time(self.stdev, p)} per loop "
                f"(mean ± std. dev. of {self.repeat} {runs}, {self.loops:,} {loops} each)")

    __repr__ = __str__

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(f"<TimeitResult : {self}>")


def timeit_(line: str, cell: str | None = None, *, shell: Any) -> TimeitResult | None:
    """Time a statement over many loops: `%timeit [-n N] [-r R] [-p P] [-q] [-o] statement`, or
    `%%timeit [options] [setup]` with the cell as the statement.

    -n N  loops per run (default: chosen so one run takes at least 0.2 s)
    -r R  runs (default 7); the result is the mean ± std. dev. of the per-loop time over runs
    -p P  significant digits shown (default 3)
    -q    quiet: print nothing      -o  return a TimeitResult
    """
    opts, rest = split_options(line, "n:r:p:qoct", "timeit")
    number = int_option(opts, "n", "timeit")
    repeat = int_option(opts, "r", "timeit", 7)
    precision = int_option(opts, "p", "timeit", 3)
    if number == 0 or repeat == 0:
        raise UsageError("%timeit: -n and -r must be at least 1")
    if cell is None:
        setup, stmt = "pass", rest
    else:
        setup, stmt = rest or "pass", cell
    if not stmt.strip():
        raise UsageError("%timeit needs a statement, e.g. %timeit sum(range(100))")
    stmt = _transform(shell, stmt)
    setup = _transform(shell, setup)
    t0 = time.perf_counter()
    try:
        if _flags(shell) and (_awaits(stmt) or _awaits(setup)) and hasattr(shell, "_run_coroutine"):
            timer: Any = _AsyncTimer(stmt, setup, shell)
        else:
            import timeit

            timer = timeit.Timer(stmt, setup, timer=time.perf_counter, globals=shell.user_ns)
    except SyntaxError as exc:
        raise UsageError(f"%timeit: the statement does not compile: {exc}") from None
    compile_time = time.perf_counter() - t0
    if number is None:
        number = 1
        for index in range(10):  # 1, 10, 100 ... loops until one run is long enough
            number = 10 ** index
            if timer.timeit(number) >= _AUTORANGE_TARGET:
                break
    runs = timer.repeat(repeat, number)
    best, worst = min(runs) / number, max(runs) / number
    result = TimeitResult(number, repeat, best, worst, runs, compile_time, precision)
    if not opts.get("q"):
        if worst > 4 * best and best > 0 and worst > 1e-6:
            print(f"The slowest run took {worst / best:.2f} times longer than the fastest. "
                  "This could mean that an intermediate result is being cached.")
        print(result)
        if compile_time > 0.1:
            print(f"Compiler time: {compile_time:.2f} s")
    return result if opts.get("o") else None


def prun(line: str, cell: str | None = None, *, shell: Any) -> Any:
    """Run code under the profiler and print where the time went:
    `%prun [-s KEY]... [-l LIMIT] [-T FILE] [-D FILE] [-q] [-r] statement` (or `%%prun` on a cell).

    -s KEY   sort by KEY (time, cumulative, calls, name ...; default time)
    -l N     show only N lines          -T FILE  also write the report to FILE
    -D FILE  dump raw stats to FILE     -q       print nothing   -r  return the pstats.Stats
    """
    opts, rest = _prun_options(line)
    code = cell if cell is not None else rest
    if not code.strip():
        raise UsageError("%prun needs code to profile, e.g. %prun sum(range(10**6))")
    code = _transform(shell, code)
    import cProfile  # here, not at module import: idle kernels need not load the profiler
    import pstats

    prof = cProfile.Profile()
    try:
        prof.runctx(code, shell.user_ns, shell.user_ns)
    except SystemExit:
        pass
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out)
    keys = opts.get("s") or ["time"]
    try:
        stats.sort_stats(*keys)
    except KeyError:
        raise UsageError(f"%prun: unknown sort key in {keys}; use time, cumulative, calls, "
                         "name, filename, ncalls, tottime ...") from None
    limit = opts.get("l")
    stats.print_stats(*([int(limit)] if limit is not None else []))
    report = out.getvalue()
    if not opts.get("q"):
        sys.stdout.write(report)
    if opts.get("T"):
        with open(opts["T"], "w", encoding="utf-8") as f:
            f.write(report)
        print(f"*** Profile printout saved to text file {opts['T']!r}.")
    if opts.get("D"):
        stats.dump_stats(opts["D"])
        print(f"*** Profile stats marshalled to file {opts['D']!r}.")
    return stats if opts.get("r") else None


def _prun_options(line: str) -> tuple[dict[str, Any], str]:
    opts, rest = split_options(line, "s:l:T:D:qr", "prun", repeatable="s")
    if "l" in opts:
        try:
            int(opts["l"])
        except ValueError:
            raise UsageError(f"%prun: -l wants a number of lines, not {opts['l']!r}") from None
    return opts, rest


MAGICS = [magic_spec(time_, "time", "both"), magic_spec(timeit_, "timeit", "both"),
          magic_spec(prun, "prun", "both")]
