"""Display formatters are plugins: a third-party distribution (tests/fixtures/formatter-plugin,
found only through its `jup.plugins` entry point) adds a formatter for a type and one for a mime
type of its own; a formatter that raises leaves the user with text/plain and a reason on stderr."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from pykernel_helpers import outputs, run, start_kernel, stdout_of

from jup.core import FormatterSpec, hookimpl
from jup.core.pluginhost import PluginHost
from jup.python.publisher import RecordingPublisher
from jup.python.shell import Shell

FIXTURE = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "formatter-plugin"
UNITS = "application/vnd.h3p.units+json"


@pytest.fixture(scope="module")
def installed():
    """The fixture distribution, installed the way scripts/setup --test does (editable)."""
    try:
        import h3p_fmt  # noqa: F401
        return
    except ImportError:
        pass
    res = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                          "--no-build-isolation", "--config-settings", "editable_mode=compat",
                          "-e", str(FIXTURE)], capture_output=True, text=True, timeout=170)
    assert res.returncode == 0, res.stderr


def test_hook_specs_reach_the_formatter_on_first_display(capsys):
    calls = []

    def money(obj):
        calls.append(obj)
        return f"<i>{obj}</i>"

    def boom(obj):
        raise ValueError("no luck")

    class Plugin:  # registered in a real plugin host, as embedding code would
        @hookimpl
        def jup_display_formatters(self):
            return [FormatterSpec("text/html", money, "decimal.Decimal"),
                    FormatterSpec("text/plain", boom, "fractions.Fraction")]
    host = PluginHost()
    host.register(Plugin(), "h3p-inline-formatters")
    sh = Shell(RecordingPublisher(), user_ns={}, plugin_host=host, config={"history": False})
    assert sh.formatter.before_first_use is not None  # nothing loaded before the first value
    sh.run_cell("import decimal, fractions\ndecimal.Decimal('1.5')")
    data = sh.publisher.of("execute_result")[-1]["data"]
    assert data == {"text/html": "<i>1.5</i>", "text/plain": "Decimal('1.5')"}
    sh.run_cell("fractions.Fraction(3, 4)")
    data = sh.publisher.of("execute_result")[-1]["data"]
    assert data["text/plain"].startswith("<fractions.Fraction object")  # the repr that cannot fail
    err = capsys.readouterr().err
    assert "text/plain formatter" in err and "boom" in err and "ValueError: no luck" in err


def test_a_shell_without_plugins_never_loads_them():
    sh = Shell(RecordingPublisher(), user_ns={}, load_plugins=False, config={"history": False})
    assert sh.formatter.before_first_use is None
    sh.run_cell("1.5")
    assert sh.publisher.of("execute_result")[-1]["data"] == {"text/plain": "1.5"}


def test_third_party_formatters_in_process(installed, tmp_path):
    code = textwrap.dedent("""
        from jup.python.publisher import RecordingPublisher
        from jup.python.shell import Shell
        sh = Shell(RecordingPublisher(), user_ns={}, config={"history": False})
        sh.run_cell("from h3p_fmt import Celsius, Broken\\nCelsius(21.5)")
        print(sorted(sh.publisher.of("execute_result")[-1]["data"].items()))
        sh.run_cell("class Q:\\n    units = 'm/s'\\ndisplay(Q())")
        print(sh.publisher.of("display_data")[-1]["data"]["application/vnd.h3p.units+json"])
        sh.run_cell("Broken()")
        print(sh.publisher.of("execute_result")[-1]["data"])
    """)
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0] == "[('text/html', '<b>21.5</b>&nbsp;&deg;C'), ('text/plain', '21.5 °C')]"
    assert lines[1] == "{'units': 'm/s'}"
    assert lines[2] == "{'text/plain': 'Broken()'}"
    assert "h3p_fmt.plugin.broken_html" in res.stderr
    assert "RuntimeError: the h3p formatter is broken on purpose; showing text/plain instead" in res.stderr


@pytest.mark.timeout(90)
def test_third_party_formatters_through_a_real_kernel(installed, tmp_path):
    kp = start_kernel(tmp_path)
    kc = kp.kc
    try:
        reply, msgs = run(kc, "from h3p_fmt import Celsius, Broken\nCelsius(-3)")
        assert reply["content"]["status"] == "ok"
        data = outputs(msgs, "execute_result")[0]["data"]
        assert data == {"text/plain": "-3 °C", "text/html": "<b>-3</b>&nbsp;&deg;C"}
        reply, msgs = run(kc, "Broken()")
        assert reply["content"]["status"] == "ok"
        assert outputs(msgs, "execute_result")[0]["data"] == {"text/plain": "Broken()"}
        assert "broken on purpose; showing text/plain instead" in stdout_of(msgs, "stderr")
        _, msgs = run(kc, "class V:\n    units = 'K'\ndisplay(V())")
        assert outputs(msgs, "display_data")[0]["data"][UNITS] == {"units": "K"}
    finally:
        kp.stop()
