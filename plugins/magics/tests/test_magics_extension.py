"""%load_ext / %unload_ext / %reload_ext with a real extension module written to disk, as the
many packages that ship `load_ipython_extension` expect."""

from __future__ import annotations

import sys
import textwrap

import pytest

EXT = """
def load_ipython_extension(ip):
    ip.user_ns['EXT_STATE'] = ip.user_ns.get('EXT_STATE', []) + ['loaded {version}']
    ip.register_magic_function(lambda line: 'ext says ' + line, 'line', 'extmagic')
def unload_ipython_extension(ip):
    ip.user_ns['EXT_STATE'].append('unloaded')
"""


@pytest.fixture
def ext_dir(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    names = ("jupext_demo", "jupext_plain", "jupext_noload")
    (tmp_path / "jupext_demo.py").write_text(textwrap.dedent(EXT.format(version=1)))
    (tmp_path / "jupext_plain.py").write_text("def load_ipython_extension(ip):\n    ip.user_ns['P'] = 1\n")
    (tmp_path / "jupext_noload.py").write_text("X = 1\n")
    yield tmp_path
    for n in names:
        sys.modules.pop(n, None)


def test_load_ext_calls_the_extension_with_the_shell_and_its_magic_works(sess, ext_dir):
    sess.run("%load_ext jupext_demo")
    assert sess.shell.user_ns["EXT_STATE"] == ["loaded 1"]
    result, _, _ = sess.run("%extmagic hi")
    assert sess.results()[0]["text/plain"] == "'ext says hi'"
    _, out, _ = sess.run("%load_ext jupext_demo")
    assert "already loaded" in out and "%reload_ext jupext_demo" in out
    assert sess.shell.user_ns["EXT_STATE"] == ["loaded 1"]


def test_reload_ext_reads_the_new_code_and_unload_ext_calls_unload(sess, ext_dir):
    sess.run("%load_ext jupext_demo")
    # a different size, so a .pyc written in the same second as version 1 is not taken for it
    (ext_dir / "jupext_demo.py").write_text(textwrap.dedent(EXT.format(version="two")))
    sess.run("%reload_ext jupext_demo")
    assert sess.shell.user_ns["EXT_STATE"] == ["loaded 1", "unloaded", "loaded two"]
    sess.run("%unload_ext jupext_demo")
    assert sess.shell.user_ns["EXT_STATE"][-1] == "unloaded"
    _, out, _ = sess.run("%unload_ext jupext_demo")
    assert "not loaded" in out


def test_extension_without_unload_or_load_function_is_explained(sess, ext_dir):
    sess.run("%load_ext jupext_plain")
    assert sess.shell.user_ns["P"] == 1
    _, out, _ = sess.run("%unload_ext jupext_plain")
    assert "doesn't define how to unload" in out
    _, out, _ = sess.run("%load_ext jupext_noload")
    assert "not an IPython extension" in out
    assert "jupext_noload" not in sess.shell.extension_manager.loaded


def test_missing_module_or_name_is_a_usage_error(sess, ext_dir):
    sess.run("%load_ext no_such_module_jup_xyz", ok=False)
    err = sess.errors()[0]
    assert err["ename"] == "UsageError" and "no module named 'no_such_module_jup_xyz'" in err["evalue"]
    sess.run("%load_ext", ok=False)
    assert "give one module name" in sess.errors()[0]["evalue"]


def test_extension_manager_is_the_ipython_api(sess, ext_dir):
    sess.run("get_ipython().extension_manager.load_extension('jupext_plain')")
    assert sess.shell.user_ns["P"] == 1 and "jupext_plain" in sess.shell.extension_manager.loaded


def test_autoreload_is_built_in_and_refuses_an_unknown_mode(sess, ext_dir):
    sess.run("%load_ext autoreload")
    assert "autoreload" in sess.shell.extension_manager.loaded
    sess.run("%autoreload 7", ok=False)
    assert "unknown mode '7'" in sess.errors()[0]["evalue"]
    _, out, _ = sess.run("%aimport jupext_plain, -jupext_noload\n%aimport")
    assert "jupext_plain" in out.split("Modules to skip")[0] and "jupext_noload" in out.split("Modules to skip")[1]
    hooks = len(sess.shell.events.callbacks["pre_run_cell"])
    sess.run("%unload_ext autoreload")  # no more checks before each cell
    assert len(sess.shell.events.callbacks["pre_run_cell"]) == hooks - 1
