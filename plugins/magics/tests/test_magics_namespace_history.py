"""%who/%whos/%who_ls/%reset, and the history magics (%history ranges, %recall, %rerun, %load,
%save) over the real SQLite history."""

from __future__ import annotations


def test_who_whos_and_who_ls_show_only_the_users_variables(sess):
    sess.run("import os\nalpha = 1\nbeta = 'text'\ndef gamma(): pass\n_private = 3")
    _, out, _ = sess.run("%who")
    assert out.split() == ["alpha", "beta", "gamma", "os"]
    _, out, _ = sess.run("%who int str")
    assert out.split() == ["alpha", "beta"]
    sess.run("%who_ls function")
    assert sess.results() == [{"text/plain": "['gamma']"}]
    _, out, _ = sess.run("%whos")
    lines = out.splitlines()
    assert lines[0].split() == ["Variable", "Type", "Data/Info"]
    assert any(ln.split()[:3] == ["alpha", "int", "1"] for ln in lines)
    assert any(ln.split()[:2] == ["os", "module"] for ln in lines)
    names = [ln.split()[0] for ln in lines[2:]]
    assert names == ["alpha", "beta", "gamma", "os"]


def test_reset_f_clears_the_namespace_and_reset_asks_first(sess):
    sess.run("doomed = 1")
    sess.shell.kernel = None
    import builtins
    saved = builtins.input
    builtins.input = lambda prompt="": "n"  # the person answers "n"
    try:
        _, out, _ = sess.run("%reset")
    finally:
        builtins.input = saved
    assert "Nothing done." in out and "doomed" in sess.shell.user_ns
    sess.run("%reset -f")
    assert "doomed" not in sess.shell.user_ns
    _, out, _ = sess.run("%who")
    assert "Interactive namespace is empty." in out
    sess.run("%reset -f extra", ok=False)
    assert sess.errors()[0]["ename"] == "UsageError"


def _fill(sess):
    for code in ("a = 1", "b = a + 1", "c = b * 10\nc", "print('hello', c)"):
        sess.run(code)


def test_history_ranges(sess):
    _fill(sess)
    _, out, _ = sess.run("%history -n 2-3")
    assert out.splitlines() == ["2: b = a + 1", "3: c = b * 10", "   c"]
    _, out, _ = sess.run("%history 1:3")
    assert out.splitlines() == ["a = 1", "b = a + 1"]
    _, out, _ = sess.run("%history -n 1 4")
    assert out.splitlines() == ["1: a = 1", "4: print('hello', c)"]
    _, out, _ = sess.run("%history -o 3")
    assert out.splitlines() == ["c = b * 10", "c", "20"]
    _, out, _ = sess.run("%history -p 1")
    assert out.strip() == ">>> a = 1"
    _, out, _ = sess.run("%history -g hello")
    assert "print('hello', c)" in out and "/4:" in out
    _, out, _ = sess.run("%history -l 2")
    assert out.splitlines()[-1].endswith("%history -g hello")
    sess.run("%history 1-x", ok=False)
    assert "bad history range '1-x'" in sess.errors()[0]["evalue"]


def test_history_of_a_previous_session(sess, tmp_path):
    _fill(sess)
    sess.shell.history.flush()
    sess.run("%reset -f")
    sess.shell.history.new_session()
    sess.run("fresh = True")
    _, out, _ = sess.run("%history ~1/1-2")
    assert out.splitlines() == ["a = 1", "b = a + 1"]
    _, out, _ = sess.run("%history -n ~1/4")
    assert out.strip().endswith("/4: print('hello', c)")


def test_history_f_writes_a_file(sess, tmp_path):
    _fill(sess)
    _, out, _ = sess.run("%history -f hist.py 1-2")
    assert (tmp_path / "hist.py").read_text() == "a = 1\nb = a + 1\n"


def test_recall_and_load_put_text_in_the_next_cell(sess, tmp_path):
    _fill(sess)
    sess.run("%recall 2")
    assert sess.payloads()[-1]["source"] == "set_next_input"
    assert sess.payloads()[-1]["text"] == "b = a + 1"
    sess.run("%load 1-2")
    assert sess.payloads()[-1]["text"] == "# %load 1-2\na = 1\nb = a + 1"
    (tmp_path / "lib.py").write_text("import os\n\ndef one():\n    return 1\n\ndef two():\n    return 2\n")
    sess.run("%load lib.py")
    assert sess.payloads()[-1]["text"].startswith("# %load lib.py\nimport os\n")
    sess.run("%load -s two lib.py")
    assert sess.payloads()[-1]["text"] == "# %load -s two lib.py\ndef two():\n    return 2"
    sess.run("%load -r 3-4 lib.py")
    assert sess.payloads()[-1]["text"].endswith("def one():\n    return 1")
    sess.run("%load nothing_like_this", ok=False)
    assert "neither a file" in sess.errors()[0]["evalue"]


def test_rerun_runs_earlier_input_again(sess):
    _fill(sess)
    _, out, _ = sess.run("%rerun 4")
    assert "=== Executing: ===" in out and "hello 20" in out
    sess.run("a = 100")
    _, out, _ = sess.run("%rerun 2")
    assert sess.shell.user_ns["b"] == 101
    _, out, _ = sess.run("%rerun -g print")
    assert "hello 20" in out


def test_save_writes_ranges_to_a_py_file(sess, tmp_path):
    _fill(sess)
    _, out, _ = sess.run("%save mycode 1-2")
    assert "written to file `mycode.py`" in out
    assert (tmp_path / "mycode.py").read_text() == "a = 1\nb = a + 1\n"
    sess.run("%save onlyname", ok=False)
    assert "needs a file name and ranges" in sess.errors()[0]["evalue"]
