"""%precision reaches numpy's arrays too; %autoawait really switches top-level await;
%time and %timeit accept code that awaits."""

from __future__ import annotations

import pytest

np = pytest.importorskip("numpy", reason="numpy is a test requirement (scripts/test-requirements.txt)")


def test_precision_sets_and_restores_numpy_print_precision(sess):
    np.set_printoptions(precision=8)
    try:
        sess.run("import numpy as np\na = np.array([1/3, 2/3])")
        result, _, _ = sess.run("%precision 3")
        assert sess.results() == [{"text/plain": "'%.3f'"}]
        assert np.get_printoptions()["precision"] == 3
        sess.run("a")
        assert sess.results() == [{"text/plain": "array([0.333, 0.667])"}]
        sess.run("1/3")
        assert sess.results() == [{"text/plain": "0.333"}]
        sess.run("%precision %.2e")  # a %-format is for floats only: numpy keeps 3
        assert np.get_printoptions()["precision"] == 3
        sess.run("%precision")
        assert sess.results() == [{"text/plain": "'%r'"}]
        assert np.get_printoptions()["precision"] == 8
        sess.run("a")
        assert sess.results() == [{"text/plain": "array([0.33333333, 0.66666667])"}]
        sess.run("%precision -1", ok=False)
        assert sess.errors()[0]["ename"] == "UsageError"
    finally:
        np.set_printoptions(precision=8)


AWAITABLE = "import asyncio\nasync def twice(x):\n    await asyncio.sleep(0)\n    return 2 * x\n"


def test_autoawait_is_on_by_default_and_off_makes_await_a_syntax_error(sess):
    sess.run(AWAITABLE)
    sess.run("await twice(21)")
    assert sess.results() == [{"text/plain": "42"}]
    _, out, _ = sess.run("%autoawait")
    assert out.strip() == "IPython-style autoawait is on, using asyncio"
    sess.run("%autoawait off")
    assert sess.shell.autoawait is False
    result, _, _ = sess.run("y = await twice(1)", ok=False)
    err = sess.errors()[0]
    assert err["ename"] == "SyntaxError" and "outside" in err["evalue"]
    assert "y" not in sess.shell.user_ns and result.error_before_exec is not None
    sess.run("async def f():\n    return await twice(2)\nc = f()\nc.close()")  # awaits in functions still fine
    sess.run("%autoawait on")
    sess.run("await twice(5)")
    assert sess.results() == [{"text/plain": "10"}]
    sess.run("%autoawait trio", ok=False)
    assert "use on or off" in sess.errors()[0]["evalue"]


def test_time_and_timeit_accept_top_level_await(sess):
    sess.run(AWAITABLE)
    _, out, _ = sess.run("%time await twice(4)")
    assert "Wall time:" in out and sess.results() == [{"text/plain": "8"}]
    _, out, _ = sess.run("%%time\nv = await twice(3)\nv + 1")
    assert "Wall time:" in out and sess.results() == [{"text/plain": "7"}]
    _, out, _ = sess.run("%timeit -n 5 -r 2 await twice(1)")
    assert "per loop (mean ± std. dev. of 2 runs, 5 loops each)" in out
    _, out, _ = sess.run("%%timeit -n 3 -r 1 k = 1\nawait twice(k)")
    assert "(mean ± std. dev. of 1 run, 3 loops each)" in out
    sess.run("r = %timeit -o -q -n 2 -r 2 await asyncio.sleep(0.01)")
    assert sess.shell.user_ns["r"].best >= 0.009  # the await really ran (and was timed)
    sess.run("%autoawait off")
    sess.run("%time await twice(4)", ok=False)
    assert sess.errors()[0]["ename"] == "SyntaxError"
