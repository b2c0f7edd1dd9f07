"""%cd %pwd %env %set_env %alias %pip and the script cell magics, as a user meets them."""

from __future__ import annotations

import os
import sys

import pytest


def test_cd_pwd_and_back(sess, tmp_path):
    (tmp_path / "sub dir").mkdir()
    _, out, _ = sess.run("%cd 'sub dir'")
    assert os.getcwd() == str(tmp_path / "sub dir")
    assert out.strip() == str(tmp_path / "sub dir")
    sess.run("%pwd")
    assert sess.results() == [{"text/plain": repr(str(tmp_path / "sub dir"))}]
    sess.run("%cd -")
    assert os.getcwd() == str(tmp_path)
    assert sess.shell.user_ns["_dh"][-1] == str(tmp_path)


def test_cd_to_a_missing_directory_is_a_usage_error(sess, tmp_path):
    sess.run("%cd /no/such/place", ok=False)
    err = sess.errors()[0]
    assert err["ename"] == "UsageError" and "no such directory: /no/such/place" in err["evalue"]
    assert os.getcwd() == str(tmp_path)


def test_cd_expands_variables(sess, tmp_path):
    (tmp_path / "target").mkdir()
    sess.shell.user_ns["where"] = "target"
    sess.run("%cd $where")
    assert os.getcwd() == str(tmp_path / "target")


def test_env_and_set_env(sess, monkeypatch):
    monkeypatch.delenv("H3B_VAR", raising=False)
    _, out, _ = sess.run("%env H3B_VAR=hello world")
    assert out.strip() == "env: H3B_VAR=hello world" and os.environ["H3B_VAR"] == "hello world"
    sess.run("%env H3B_VAR")
    assert sess.results() == [{"text/plain": "'hello world'"}]
    sess.run("%set_env H3B_VAR again")
    assert os.environ["H3B_VAR"] == "again"
    sess.run("all_env = %env")
    assert sess.shell.user_ns["all_env"]["H3B_VAR"] == "again"
    _, out, _ = sess.run("!echo value=$$H3B_VAR")  # the command started by ! sees it too
    assert "value=again" in out
    sess.run("%env H3B_UNSET_XYZ", ok=False)
    assert "is not set" in sess.errors()[0]["evalue"]
    sess.run("%set_env", ok=False)
    assert sess.errors()[0]["ename"] == "UsageError"
    monkeypatch.delenv("H3B_VAR", raising=False)


def test_writefile_writes_appends_and_says_which(sess, tmp_path):
    _, out, _ = sess.run("%%writefile notes.txt\nfirst line")
    assert out.strip() == "Writing notes.txt"
    _, out, _ = sess.run("%%writefile -a notes.txt\nsecond line")
    assert out.strip() == "Appending to notes.txt"
    _, out, _ = sess.run("%%writefile notes.txt\nfirst line\nsecond line\n")
    assert out.strip() == "Overwriting notes.txt"
    assert (tmp_path / "notes.txt").read_text() == "first line\nsecond line\n"
    sess.run("%%writefile\nno name", ok=False)
    err = sess.errors()[0]
    assert err["ename"] == "UsageError" and "filename" in err["evalue"]


def test_bash_and_sh_stream_output_and_script_captures(sess):
    _, out, err = sess.run("%%bash\necho from bash $((6*7))\necho oops >&2")
    assert "from bash 42" in out and "oops" in err
    _, out, _ = sess.run("%%sh\necho from sh")
    assert "from sh" in out
    sess.run(f"%%script {sys.executable} --out got --err problems\nimport sys\nprint('py out')\n"
             "print('py err', file=sys.stderr)")
    assert sess.shell.user_ns["got"] == "py out\n"
    assert sess.shell.user_ns["problems"] == "py err\n"


def test_failing_script_raises_unless_told_not_to(sess):
    sess.run("%%bash\nexit 3", ok=False)
    assert sess.errors()[0]["ename"] == "CalledProcessError"
    sess.run("%%bash --no-raise-error\nexit 3")
    sess.run("%%script no-such-interpreter-h3b\nx", ok=False)
    assert "not installed or not on PATH" in sess.errors()[0]["evalue"]


def test_alias_defines_a_shell_magic(sess):
    sess.run("%alias greet echo hello %s and %s")
    _, out, _ = sess.run("%greet ann bob")
    assert "hello ann and bob" in out
    _, out, _ = sess.run("%alias")
    assert "greet" in out and "echo hello %s and %s" in out
    sess.run("%greet onlyone", ok=False)
    assert "needs 2 argument(s)" in sess.errors()[0]["evalue"]


@pytest.mark.timeout(120)
def test_pip_runs_this_pythons_pip(sess):
    _, out, _ = sess.run("%pip --version")
    assert "pip " in out and sys.prefix.split(os.sep)[-1] in out
    sess.run("%pip", ok=False)
    assert "needs a pip command" in sess.errors()[0]["evalue"]
