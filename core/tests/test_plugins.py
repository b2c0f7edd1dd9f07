"""The plugin host in-process: registering, calling through broken plugins, blocking, discovery
through the real entry points, tracing, and the hook reference kept in step with the hookspecs."""

from __future__ import annotations

import inspect
import io
import subprocess
import sys
import types

import pytest
from jup_cli_helpers import ROOT, ensure_fixture_plugins

from jup.core import FrontendSpec, hookimpl, hookspecs, trace
from jup.core import pluginhost as plugins
from jup.core.pluginhost import PluginHost, get_plugin_manager


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    """No inherited jup settings; the process-wide host is restored after each test."""
    for var in ("JUP_BLOCK_PLUGINS", "JUP_ALLOW_PLUGINS", "JUP_TRACE_PLUGINS", "JUPFIXTURE_BROKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("JUP_CONFIG_DIR", str(tmp_path / "config"))
    saved = plugins._HOST
    yield
    plugins._HOST = saved


def plugin(**hooks) -> types.SimpleNamespace:
    """A plugin object whose attributes are hook implementations."""
    return types.SimpleNamespace(**{name: hookimpl(func) for name, func in hooks.items()})


def frontends(*names):
    return lambda: [FrontendSpec(n, lambda argv: 0) for n in names]


def test_register_records_hooks_and_call_collects_results():
    host = PluginHost()
    rec = host.register(plugin(jup_frontends=frontends("a"), jup_kernels=lambda: []), "first")
    host.register(plugin(jup_frontends=frontends("b", "c")), "second")
    assert (rec.status, rec.hooks) == ("loaded", ["jup_frontends", "jup_kernels"])
    # pluggy order: the plugin registered last answers first
    assert [s.name for s in host.collect("jup_frontends")] == ["b", "c", "a"]
    assert [name for name, _ in host.call_each("jup_frontends")] == ["second", "first"]
    assert host.call("jup_kernels") == [[]]


def test_hook_that_raises_is_skipped_with_one_warning(capsys):
    host = PluginHost()
    host.register(plugin(jup_frontends=frontends("good")), "good")

    def boom():
        raise RuntimeError("disk on fire")

    host.register(plugin(jup_frontends=boom), "bad", distribution="bad-dist", version="9")
    for _ in range(3):
        assert [s.name for s in host.collect("jup_frontends")] == ["good"]
    err = capsys.readouterr().err.splitlines()
    assert err == ["jup: warning: plugin 'bad' (distribution bad-dist 9) raised RuntimeError in "
                   "jup_frontends: disk on fire; its answer is skipped."]
    assert host.record("bad").error == "jup_frontends raised RuntimeError: disk on fire"
    with pytest.raises(RuntimeError, match="disk on fire"):  # raw pluggy calls keep pluggy's semantics
        host.hook.jup_frontends()


def test_call_first_takes_the_first_answer_from_a_working_plugin(capsys):
    from jup.core import Branding

    host = PluginHost()
    host.register(plugin(jup_branding=lambda: Branding(name="base")), "base")
    host.register(plugin(jup_branding=lambda: None), "silent")
    assert host.call_first("jup_branding").name == "base"

    def broken():
        raise KeyError("logo")

    host.register(plugin(jup_branding=broken), "org")
    assert host.call_first("jup_branding").name == "base"
    assert "plugin 'org' raised KeyError in jup_branding" in capsys.readouterr().err
    assert PluginHost().call_first("jup_branding") is None


def test_hook_arguments_are_passed_by_name_and_subsets_are_allowed():
    host = PluginHost()
    host.register(plugin(jup_magics=lambda language: [language.upper()]), "full")
    host.register(plugin(jup_magics=lambda: ["any"]), "none")
    assert host.call("jup_magics", language="python") == [["any"], ["PYTHON"]]
    with pytest.raises(TypeError, match="jup_magics needs argument 'language'"):
        host.call("jup_magics")


def test_a_name_cannot_be_registered_twice():
    from jup.core import PluginError

    host = PluginHost()
    host.register(plugin(jup_kernels=lambda: ["one"]), "same")
    with pytest.raises(PluginError, match="'same' is registered already"):
        host.register(plugin(jup_kernels=lambda: ["two"]), "same")
    assert host.record("same").status == "loaded" and host.collect("jup_kernels") == ["one"]


def test_unknown_hook_name_is_a_clear_error():
    with pytest.raises(AttributeError, match="jup_nope is not a jup hook"):
        PluginHost().call("jup_nope")


def test_misspelled_hook_fails_that_plugin_only(capsys):
    host = PluginHost()
    rec = host.register(plugin(jup_kernel=lambda: []), "typo")
    good = host.register(plugin(jup_kernels=lambda: ["k"]), "fine")
    assert rec.status == "failed" and "jup_kernel" in rec.error and "did you mean jup_kernels?" in rec.error
    assert good.status == "loaded" and host.collect("jup_kernels") == ["k"]
    host.pm.check_pending()  # nothing unknown left registered
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and "plugin 'typo' was not loaded" in lines[0]


def test_wrong_hook_signature_fails_that_plugin():
    host = PluginHost()
    rec = host.register(plugin(jup_magics=lambda language, colour: []), "sig")
    assert rec.status == "failed" and "colour" in rec.error


def test_blocked_and_not_allowed_plugins_are_not_registered():
    host = PluginHost(blocked={"b": "blocked by test"}, allowed=["a", "b"])
    assert host.register(plugin(jup_kernels=lambda: ["a"]), "a").status == "loaded"
    assert host.register(plugin(jup_kernels=lambda: ["b"]), "b").error == "blocked by test"
    rec = host.register(plugin(jup_kernels=lambda: ["c"]), "c")
    assert rec.status == "blocked" and "allow-list" in rec.error
    assert host.collect("jup_kernels") == ["a"]
    host.apply_filters({"a": "blocked later"}, None)
    assert host.collect("jup_kernels") == [] and host.record("a").status == "blocked"


def test_trace_reports_each_plugin_answer():
    host = PluginHost()
    out = io.StringIO()
    host._trace = trace.enable(host.pm, out)
    host.register(plugin(jup_kernels=lambda: ["k"]), "tracer")
    host.call("jup_kernels")
    host.hook.jup_kernels()
    text = out.getvalue()
    assert "jup-trace: tracer.jup_kernels() -> ['k']" in text
    assert "jup-trace: call jup_kernels() on [tracer]" in text and "jup-trace: jup_kernels -> [['k']]" in text


def test_discovery_through_real_entry_points():
    ensure_fixture_plugins()
    host = get_plugin_manager(reload=True)
    rec = host.record("fixture-sample")
    assert (rec.status, rec.distribution, rec.version) == ("loaded", "jupfixture-sample", "1.2.3")
    assert host.record("core-commands").distribution == "jup-core"
    assert "fixture-hello" in [s.name for s in host.collect("jup_frontends")]
    assert get_plugin_manager() is host  # cached per process
    blocked = get_plugin_manager(blocked=["fixture-sample"])
    assert blocked is not host and blocked.record("fixture-sample").status == "blocked"
    assert "fixture-hello" not in [s.name for s in blocked.collect("jup_frontends")]


def test_env_block_applies_to_a_default_host(monkeypatch):
    ensure_fixture_plugins()
    monkeypatch.setenv("JUP_BLOCK_PLUGINS", " fixture-sample , ")
    host = get_plugin_manager(reload=True)
    assert host.record("fixture-sample").error == "blocked by JUP_BLOCK_PLUGINS"


def test_importing_the_plugin_module_does_not_import_stevedore():
    code = "import sys, jup.core.pluginhost, jup.core.app; print('stevedore' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr


# ---- the hook reference -------------------------------------------------------------------------

def _hookspec_names() -> list[str]:
    return [n for n, f in vars(hookspecs).items() if n.startswith("jup_") and inspect.isfunction(f)
            and hasattr(f, "jup_spec")]


def test_every_hookspec_is_documented_in_its_docstring():
    """A plugin author reads, for every hook, when it is called, what to return, and whether the first
    answer wins or all are collected; and what the docstring says matches how pluggy calls it."""
    for name in _hookspec_names():
        func = getattr(hookspecs, name)
        doc = " ".join((func.__doc__ or "").split())
        assert doc.startswith("Called"), f"{name}: open the docstring with when jup calls it"
        assert "Return" in doc or "return" in doc, f"{name}: say what it returns"
        first = bool(func.jup_spec.get("firstresult"))
        says_first = "first non-None result wins" in doc
        says_all = "All results are collected" in doc or "every implementation is called" in doc
        assert says_first != says_all, f"{name}: say either 'first non-None result wins' or 'All results are collected'"
        assert says_first == first, (f"{name}: the docstring says {'first wins' if says_first else 'all collected'} "
                                     f"but the hookspec has firstresult={first}")


def test_hooks_doc_is_up_to_date():
    res = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen_hooks_doc.py"), "--check"],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr


def test_every_hookspec_has_a_section_in_hooks_doc():
    text = (ROOT / "docs" / "hooks.md").read_text()
    for name in _hookspec_names():
        assert f"\n## {name}\n" in text, f"docs/hooks.md lacks a section for {name}"
