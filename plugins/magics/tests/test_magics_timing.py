"""%time, %timeit and %prun print what IPython users expect to read."""

from __future__ import annotations

import re

from jup.magics.timing import format_time

TIMEIT_LINE = re.compile(r"^\d+(\.\d+)? (s|ms|µs|ns) ± \d+(\.\d+)? (s|ms|µs|ns) per loop "
                         r"\(mean ± std\. dev\. of (\d+) runs?, ([\d,]+) loops? each\)$", re.M)


def test_time_prints_cpu_and_wall_time_and_returns_the_value(sess):
    _, out, _ = sess.run("%time sum(range(1000))")
    assert re.search(r"^CPU times: user .+, sys: .+, total: .+$", out, re.M), out
    assert re.search(r"^Wall time: \d+(\.\d+)? (s|ms|µs|ns)$", out, re.M), out
    assert sess.results() == [{"text/plain": "499500"}]


def test_cell_time_runs_the_whole_cell_in_the_namespace(sess):
    _, out, _ = sess.run("%%time\na = 2\nb = a * 21\nb")
    assert "Wall time:" in out
    assert sess.shell.user_ns["b"] == 42
    assert sess.results() == [{"text/plain": "42"}]


def test_timeit_with_fixed_loops_and_runs(sess):
    _, out, _ = sess.run("%timeit -n 20 -r 3 sum(range(50))")
    m = TIMEIT_LINE.search(out)
    assert m, out
    assert m.group(5) == "3" and m.group(6) == "20"


def test_timeit_picks_the_loop_count_itself_with_thousands_separators(sess):
    _, out, _ = sess.run("%timeit -r 2 pass")
    m = TIMEIT_LINE.search(out)
    assert m, out
    loops = int(m.group(6).replace(",", ""))
    assert loops >= 10000 and str(loops).startswith("1")  # a power of ten, long enough for 0.2 s
    if loops >= 1000:
        assert "," in m.group(6)


def test_cell_timeit_uses_the_line_as_setup_and_returns_a_result_with_o(sess):
    sess.run("%%timeit -n 5 -r 2 -o data = list(range(100))\nsorted(data)")
    _, out, _ = sess.run("r = _\nr.loops, r.repeat, len(r.all_runs), r.best <= r.worst")
    assert sess.results() == [{"text/plain": "(5, 2, 2, True)"}]


def test_timeit_usage_errors_are_one_line_not_a_traceback(sess):
    sess.run("%timeit -n abc pass", ok=False)
    err = sess.errors()[0]
    assert err["ename"] == "UsageError"
    assert "-n wants a whole number" in err["evalue"]
    assert len(err["traceback"]) == 1
    sess.run("%timeit -r 0 pass", ok=False)
    assert "at least 1" in sess.errors()[0]["evalue"]
    sess.run("%timeit", ok=False)
    assert "needs a statement" in sess.errors()[0]["evalue"]


def test_prun_reports_the_profile(sess):
    sess.run("def work():\n    return sorted(range(2000), key=lambda x: -x)")
    _, out, _ = sess.run("%prun -l 5 -s cumulative work()")
    assert "function calls" in out and "Ordered by: cumulative time" in out
    assert "work" in out
    sess.run("%prun -s nonsense work()", ok=False)
    assert "unknown sort key" in sess.errors()[0]["evalue"]


def test_format_time_ranges_units():
    assert format_time(0) == "0 ns"
    assert format_time(1.5e-9) == "1.5 ns"
    assert format_time(0.00123) == "1.23 ms"
    assert format_time(2.5e-6) == "2.5 µs"
    assert format_time(12.3456) == "12.3 s"
    assert format_time(125) == "2min 5s"
