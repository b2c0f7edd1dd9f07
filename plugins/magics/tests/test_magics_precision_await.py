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
