"""The quick entry-point scan behind plugin discovery: what it finds, and that it is never stale."""

from __future__ import annotations

import importlib.metadata as md
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from jup_cli_helpers import JUP, clean_env

from jup.core.entrypoints import EntryPoint, scan
from jup.core.pluginhost import NAMESPACE

PLUGIN = '''from jup.core import hookimpl, SubcommandSpec

@hookimpl
def jup_subcommands():
    return SubcommandSpec(name="scanhello", run=lambda argv: print("hello from scan") or 0,
                          description="says hello")
'''


def _dist(folder: Path, dist: str, text: str) -> Path:
    meta = folder / f"{dist}-1.0.dist-info"
    meta.mkdir(parents=True)
    (meta / "entry_points.txt").write_text(text)
    return meta


def test_scan_finds_what_importlib_metadata_finds():
    ours = sorted((ep.name, ep.value) for ep in scan(NAMESPACE))
    theirs = sorted({(ep.name, ep.value) for ep in md.entry_points(group=NAMESPACE)})
    assert ours == theirs
    assert ("core-commands", "jup.core.builtin_commands") in ours


def test_sections_comments_and_first_distribution_wins(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    _dist(a, "Demo.Plug", "# comment\n[console_scripts]\nx = y:z\n\n[jup.plugins]\n; note\n"
          "one = demo.one:Plugin.inner [extra]\ntwo=demo.two\n")
    _dist(b, "demo_plug", "[jup.plugins]\nshadowed = demo.old\n")  # same name, later on the path
    _dist(b, "other", "[other.group]\nthree = x\n")
    found = scan(NAMESPACE, [str(a), str(b), str(tmp_path / "missing")])
    assert [(ep.name, ep.value) for ep in found] == [("one", "demo.one:Plugin.inner [extra]"), ("two", "demo.two")]


def test_a_zip_or_an_egg_on_the_path_defers_to_importlib_metadata(tmp_path):
    archive = tmp_path / "eggs.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("x.py", "")
    assert scan(NAMESPACE, [str(archive)]) is None
    egg = tmp_path / "old-1.0-py3.11.egg"
    (egg / "EGG-INFO").mkdir(parents=True)
    assert scan(NAMESPACE, [str(egg)]) is None


def test_load_follows_the_attribute_path_and_ignores_extras():
    ep = EntryPoint("x", "jup.core.entrypoints:EntryPoint.load [fast]", NAMESPACE)
    assert ep.load() is EntryPoint.load
    assert EntryPoint("m", "jup.core.entrypoints", NAMESPACE).load() is sys.modules["jup.core.entrypoints"]


def test_a_plugin_installed_then_removed_shows_on_the_next_start(tmp_path):
    site = tmp_path / "site"
    (site / "scanplug").mkdir(parents=True)
    (site / "scanplug" / "__init__.py").write_text(PLUGIN)
    env = clean_env(tmp_path / "cfg", PYTHONPATH=str(site))

    def jup(*args):
        return subprocess.run([JUP, *args], env=env, capture_output=True, text=True, timeout=60)

    assert "scanhello" not in jup("--help").stdout  # the code alone is no plugin
    meta = _dist(site, "scanplug", "[jup.plugins]\nscanplug = scanplug\n")
    run = jup("scanhello")
    assert (run.returncode, run.stdout.strip()) == (0, "hello from scan"), run.stderr
    shutil.rmtree(meta)  # uninstalled: gone at once, no cache to go stale
    run = jup("scanhello")
    assert run.returncode == 2 and "no command 'scanhello'" in run.stderr


def test_with_a_zip_on_the_path_discovery_still_finds_the_plugins(tmp_path):
    archive = tmp_path / "extra.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("extra_mod.py", "")
    code = ("import sys; from jup.core.pluginhost import get_plugin_manager; h = get_plugin_manager(); "
            "print(h.record('core-commands').status, 'stevedore' in sys.modules)")
    env = clean_env(tmp_path / "cfg", PYTHONPATH=str(archive))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["loaded", "True"], out.stderr  # found through stevedore's full scan
