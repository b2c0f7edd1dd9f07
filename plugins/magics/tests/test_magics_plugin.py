"""Magics arrive as plugins: ours through the `jup_magics` hook's entry point, a third party's the
same way once its package is pip-installed; %lsmagic lists them and `%name?` shows their help."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from jup.magics.plugin import GROUPS, all_magics, jup_magics

ROOT = Path(__file__).resolve().parents[3]
FIXTURE = ROOT / "tests" / "fixtures" / "thirdparty-magic"

LINE = {"alias", "autoawait", "cd", "config", "debug", "env", "history", "load", "lsmagic",
        "matplotlib", "pdb", "pip", "precision", "prun", "pwd", "recall", "rerun", "reset", "run",
        "save", "set_env", "time", "timeit", "who", "who_ls", "whos", "xmode"}
CELL = {"bash", "capture", "html", "javascript", "latex", "markdown", "script", "sh", "svg", "time",
        "timeit", "writefile"}


def test_the_hook_offers_every_magic_to_python_only():
    specs = jup_magics(language="python")
    line = {s.name for s in specs if s.kind in ("line", "both")}
    cell = {s.name for s in specs if s.kind in ("cell", "both")}
    assert LINE <= line and CELL <= cell
    assert jup_magics(language="r") == []
    assert all(s.help for s in all_magics()), "every magic has help for %name?"
    assert len(GROUPS) >= 6


def test_lsmagic_and_magic_help(sess):
    _, out, _ = sess.run("%lsmagic")
    assert "Available line magics:" in out and "Available cell magics:" in out
    assert "%timeit" in out and "%%writefile" in out
    sess.run("%timeit?")
    page = [p for p in sess.payloads() if p["source"] == "page"]
    assert page and "mean ± std. dev." in page[0]["data"]["text/plain"]


def test_unknown_magic_is_a_usage_error(sess):
    sess.run("%no_such_magic_h3b", ok=False)
    err = sess.errors()[0]
    assert err["ename"] == "UsageError" and "not found" in err["evalue"]


def test_display_cell_magics_publish_their_mimetype(sess):
    for magic, mime in (("html", "text/html"), ("javascript", "application/javascript"),
                        ("latex", "text/latex"), ("markdown", "text/markdown"),
                        ("svg", "image/svg+xml")):
        sess.run(f"%%{magic}\nBODY {magic}")
        [data] = sess.displays()
        assert data[mime] == f"BODY {magic}" and "text/plain" in data
    sess.run("%%html --nonsense\n<b>", ok=False)
    assert sess.errors()[0]["ename"] == "UsageError"


def test_precision_xmode_config_autoawait(sess):
    sess.run("%precision 2")
    sess.run("3.14159")
    assert sess.results() == [{"text/plain": "3.14"}]
    sess.run("%precision")
    sess.run("3.14159")
    assert sess.results() == [{"text/plain": "3.14159"}]
    sess.run("%precision nonsense", ok=False)
    assert sess.errors()[0]["ename"] == "UsageError"
    _, out, _ = sess.run("%xmode Minimal")
    assert out.strip() == "Exception reporting mode: Minimal" and sess.shell.xmode == "Minimal"
    sess.run("%xmode Loud", ok=False)
    assert "Plain, Context, Verbose, Minimal" in sess.errors()[0]["evalue"]
    _, out, _ = sess.run("%config")
    assert "Shell" in out
    sess.run("%config Shell.pdb = True")
    assert sess.shell.pdb is True
    sess.run("%config Shell.no_such_option = 1", ok=False)
    assert "has no option" in sess.errors()[0]["evalue"]
    sess.run("%autoawait off")
    _, out, _ = sess.run("%autoawait")
    assert "off" in out


def test_matplotlib_agg(sess):
    pytest.importorskip("matplotlib", reason="matplotlib is a test requirement")
    sess.run("%matplotlib agg")
    import matplotlib
    assert matplotlib.get_backend().lower() == "agg"
    sess.run("%matplotlib --bogus", ok=False)
    assert sess.errors()[0]["ename"] == "UsageError"


@pytest.mark.timeout(180)
def test_a_third_party_magic_package_is_found_by_its_entry_point(tmp_path):
    # the way scripts/setup --test installs it (editable), so the two never fight over the install
    install = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                              "--no-build-isolation", "--config-settings", "editable_mode=compat",
                              "-e", str(FIXTURE)], capture_output=True, text=True, timeout=170)
    assert install.returncode == 0, install.stderr
    code = textwrap.dedent("""
        from jup.python.publisher import RecordingPublisher
        from jup.python.shell import Shell
        sh = Shell(RecordingPublisher(), user_ns={}, config={"history": False})
        r = sh.run_cell("%shout hello there")
        print([e[1]["data"]["text/plain"] for e in sh.publisher.events if e[0] == "execute_result"])
        sh.publisher.events.clear()
        sh.run_cell("%shout")
        print([e[1]["evalue"] for e in sh.publisher.events if e[0] == "error"])
        sh.run_cell("%%shout\\nquiet words\\n")
        sh.run_cell("%lsmagic")
    """)
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0] == "[\"'HELLO THERE!'\"]"
    assert "%shout needs something to shout" in lines[1]
    assert "QUIET WORDS" in res.stdout
    assert "%shout" in res.stdout and "%%shout" in res.stdout


def test_magics_complete_and_inspect_like_any_name(sess):
    reply = sess.shell.completer.complete("%tim")
    assert reply["matches"] == ["%time", "%timeit", "%%time", "%%timeit"]
    reply = sess.shell.completer.complete("%%wri")
    assert reply["matches"] == ["%%writefile"]
    reply = sess.shell.inspector.inspect("%timeit", 7, 0)
    assert reply["found"] and "mean ± std. dev." in reply["data"]["text/plain"]
    assert "Type: line and cell magic" in reply["data"]["text/plain"]
