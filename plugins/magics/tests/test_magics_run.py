"""%run executes a script as a real `__main__` module (so what it defines pickles), with -i, -t,
-m and script arguments, then pushes its names into the user namespace; in-process and through a
real kernel."""

from __future__ import annotations

import sys

import pytest
from test_magics_kernel import execute, stream_text

SCRIPT = """\
import pickle, sys
class Point:
    def __init__(self, x, y):
        self.x, self.y = x, y
def norm1(p):
    return abs(p.x) + abs(p.y) + OFFSET
OFFSET = 0
back = pickle.loads(pickle.dumps(Point(3, -4)))  # pickle finds Point in sys.modules['__main__']
print('in script:', __name__, sys.argv[1:], type(back).__qualname__, norm1(back))
"""


def test_run_is_a_real_main_module_and_leaves_its_names(sess, tmp_path):
    (tmp_path / "geo.py").write_text(SCRIPT)
    main_before, argv_before = sys.modules["__main__"], list(sys.argv)
    _, out, _ = sess.run("%run geo.py --fast 'x y'")
    assert "in script: __main__ ['--fast', 'x y'] Point 7" in out
    assert sys.modules["__main__"] is main_before and sys.argv == argv_before
    ns = sess.shell.user_ns
    assert ns["Point"].__module__ == "__main__" and ns["OFFSET"] == 0
    sess.run("norm1(Point(1, 1))")  # its functions still see the script's globals
    assert sess.results() == [{"text/plain": "2"}]
    _, out, _ = sess.run("%run geo.py")  # again: a fresh module, the old one is let go
    assert "in script: __main__ [] Point 7" in out
    assert list(sess.shell._run_main_modules) == [str(tmp_path / "geo.py")]


def test_run_i_t_and_m_together(sess, tmp_path):
    (tmp_path / "usens.py").write_text("total = base * 2\n")
    sess.run("base = 21")
    _, out, _ = sess.run("%run -i -t usens.py")
    assert sess.shell.user_ns["total"] == 42
    assert "CPU timings (estimated):" in out and "Wall time:" in out
    _, out, _ = sess.run("%run -t -N 3 usens.py", ok=False)  # without -i the script cannot see `base`
    assert sess.errors()[0]["ename"] == "NameError"
    (tmp_path / "h3r_tool.py").write_text(
        "import sys\nclass Tool: pass\nif __name__ == '__main__':\n    print('tool', sys.argv[1:])\n")
    sys.path.insert(0, str(tmp_path))
    try:
        _, out, _ = sess.run("%run -m h3r_tool --all")
    finally:
        sys.path.remove(str(tmp_path))
    assert "tool ['--all']" in out and "Tool" in sess.shell.user_ns
    sess.run("%run -m h3r_no_such_module", ok=False)
    assert "no module named 'h3r_no_such_module'" in sess.errors()[0]["evalue"]
    sess.run("%run -N x usens.py", ok=False)
    assert sess.errors()[0]["ename"] == "UsageError"


def test_run_through_a_real_kernel_pickles_after_the_run(kernel):
    reply, _ = execute(kernel, f"with open('geo_k.py', 'w') as f:\n    f.write({SCRIPT!r})")
    assert reply["content"]["status"] == "ok"
    reply, msgs = execute(kernel, "%run geo_k.py a1")
    assert reply["content"]["status"] == "ok", reply["content"]
    assert "in script: __main__ ['a1'] Point 7" in stream_text(msgs)
    # a later cell pickles an object of the script's class: the user namespace is __main__
    reply, msgs = execute(kernel, "import pickle\np = pickle.loads(pickle.dumps(Point(5, 6)))\n"
                                  "print(type(p) is Point, norm1(p))")
    assert stream_text(msgs).strip() == "True 11"
    reply, msgs = execute(kernel, "%run -t geo_k.py")
    assert "Wall time:" in stream_text(msgs)


@pytest.mark.parametrize("line", ["%run -q x.py", "%run 'unclosed"])
def test_run_bad_arguments_are_usage_errors(sess, line):
    sess.run(line, ok=False)
    assert sess.errors()[0]["ename"] == "UsageError"
