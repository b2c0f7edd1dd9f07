"""Configuration in-process: the layers and their order, where each value came from, and the
messages a user gets for a bad file, an unknown option or a wrong type."""

from __future__ import annotations

import json
import re

import pytest
from jup_cli_helpers import ensure_fixture_plugins
from traitlets import Bool, CaselessStrEnum, Dict, Int, List, Unicode
from traitlets.config import Configurable

from jup.core import ConfigError, config, paths
from jup.core import pluginhost as plugins
from jup.core.config import (
    describe_trait,
    effective_config,
    generate_config,
    get_config,
    load_config,
    load_config_file,
    register_configurable,
)


class Probe(Configurable):
    """Options of every common kind, to exercise parsing and validation."""

    count = Int(1, help="How many.").tag(config=True)
    verbose = Bool(False, help="Say more.").tag(config=True)
    label = Unicode("x", help="A label.").tag(config=True)
    sizes = List(Int(), help="Sizes.").tag(config=True)
    mode = CaselessStrEnum(["fast", "safe"], default_value="safe", help="Mode.").tag(config=True)
    extra = Dict(help="Extra settings.").tag(config=True)
    internal = Int(0)  # not configurable


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    """User and system config dirs under tmp; no inherited jup settings; globals restored."""
    ensure_fixture_plugins()
    for var in ("JUP_BLOCK_PLUGINS", "JUP_ALLOW_PLUGINS", "JUP_TRACE_PLUGINS", "JUPFIXTURE_BROKEN"):
        monkeypatch.delenv(var, raising=False)
    user, system = tmp_path / "user", tmp_path / "system"
    user.mkdir()
    system.mkdir()
    monkeypatch.setenv("JUP_CONFIG_DIR", str(user))
    monkeypatch.setattr(paths, "jup_system_config_dirs", lambda: [str(system)])
    register_configurable(Probe)
    saved = plugins._HOST, config._CURRENT
    yield user, system
    plugins._HOST, config._CURRENT = saved
    config._REGISTRY.pop("Probe", None)


def write(d, name, content):
    path = d / name
    path.write_text(json.dumps(content) if isinstance(content, dict) else content)
    return str(path)


def test_layers_later_wins_and_sources_are_kept(isolated):
    user, system = isolated
    cfg, src = load_config()
    assert cfg.SampleFixture.greeting == "hello from plugin defaults"
    assert src.source("SampleFixture.greeting") == "defaults from plugin fixture-sample"
    sys_json = write(system, "jup_config.json", {"SampleFixture": {"greeting": "system"}, "Probe": {"count": 2}})
    cfg, src = load_config()
    assert (cfg.SampleFixture.greeting, src.source("SampleFixture.greeting")) == ("system", sys_json)
    user_py = write(user, "jup_config.py", "c.SampleFixture.greeting = 'user'\nc.Probe.label = 'py'\n")
    user_json = write(user, "jup_config.json", {"Probe": {"label": "json"}})
    cfg, src = load_config()
    assert (cfg.SampleFixture.greeting, src.source("SampleFixture.greeting")) == ("user", user_py)
    assert (cfg.Probe.label, src.source("Probe.label")) == ("json", user_json)  # json after py in a dir
    assert (cfg.Probe.count, src.source("Probe.count")) == (2, sys_json)
    cfg, src = load_config(["--Probe.count=5", "--SampleFixture.greeting=cli"])
    assert (cfg.Probe.count, src.source("Probe.count")) == (5, "command line")
    assert cfg.SampleFixture.greeting == "cli"
    assert src.source("Probe.verbose") == "default"
    # any Configurable reads the result through get_config()
    assert Probe(config=get_config()).count == 5


def test_effective_config_lists_every_known_option_with_its_source(isolated):
    user, _ = isolated
    write(user, "jup_config.json", {"Probe": {"sizes": [3]}, "Unread": {"x": 1}})
    rows = {key: (value, source) for key, value, source in effective_config(*load_config())}
    assert rows["Probe.sizes"] == ([3], str(user / "jup_config.json"))
    assert rows["Probe.mode"] == ("safe", "default")
    assert rows["Plugins.blocked"] == ([], "default")
    assert "Probe.internal" not in rows
    assert rows["Unread.x"][1].endswith("(unused)")


def test_command_line_values_are_converted_to_the_option_type(isolated):
    cfg, _ = load_config(["--Probe.count=7", "--Probe.verbose=true", "--Probe.sizes=1", "--Probe.sizes=2",
                          "--Probe.mode=FAST", "--Probe.label=a=b"])
    probe = Probe(config=cfg)
    assert (probe.count, probe.verbose, probe.sizes, probe.mode, probe.label) == (7, True, [1, 2], "fast", "a=b")
    cfg, _ = load_config(["--Plugins.blocked=['x', 'y']"])
    assert cfg.Plugins.blocked == ["x", "y"]


@pytest.mark.parametrize("arg, message", [
    ("--Probe.count=many", "On the command line: Probe.count must be an integer, got 'many'."),
    ("--Probe.mode=slow", "Probe.mode must be one of 'fast', 'safe'"),
    ("--Probe.internal=3", "Probe.internal is not an option of Probe."),
    ("--Probe=3", "'--Probe=3' is not of the form --Class.option=value."),
    ("--Nobody.x=1", "no installed part of jup has options under 'Nobody'"),
])
def test_bad_command_line_values(isolated, arg, message):
    with pytest.raises(ConfigError) as err:
        load_config([arg])
    assert message in str(err.value)


@pytest.mark.parametrize("name, text, message", [
    ("jup_config.json", {"Probe": {"count": "3"}}, ": Probe.count must be an integer, got '3'. Fix the value"),
    ("jup_config.json", {"Probe": {"sizes": [1, "2"]}}, "Probe.sizes must be a list of integers, got [1, '2']"),
    ("jup_config.json", {"Probe": {"mode": "slow"}}, "Probe.mode must be one of 'fast', 'safe', got 'slow'"),
    ("jup_config.json", {"Probe": {"cout": 1}}, "Probe.cout is not an option of Probe. Did you mean Probe.count?"),
    ("jup_config.json", {"Probe": 3}, "'Probe' must be an object of options"),
    ("jup_config.json", {"probe": {"count": 1}}, "'probe' is not a class name"),
    ("jup_config.json", '{"Probe": {"count": 1,}}', "line 1 column 23: not valid JSON (Expecting property name"),
    ("jup_config.py", "c.Probe.count = 'x'\n", "Probe.count must be an integer, got 'x'"),
    ("jup_config.py", "c.Probe.count = (\n", "line 1: Python syntax error"),
    ("jup_config.py", "\n\nraise OSError('nope')\n", "line 3: running the file raised OSError: nope"),
])
def test_bad_file_names_file_option_and_fix(isolated, name, text, message):
    user, _ = isolated
    path = write(user, name, text)
    with pytest.raises(ConfigError) as err:
        load_config()
    assert str(err.value).startswith(f"In {path}")
    assert message in str(err.value)


def test_a_bad_system_file_is_reported_by_its_own_path(isolated):
    _, system = isolated
    path = write(system, "jup_config.json", {"Plugins": {"allowed": "core-commands"}})
    with pytest.raises(ConfigError, match=re.escape(f"In {path}: Plugins.allowed must be a list of strings")):
        load_config()


def test_unknown_section_is_a_warning(isolated, capsys):
    user, _ = isolated
    write(user, "jup_config.json", {"Prob": {"count": 1}})
    load_config()
    assert "no installed part of jup reads section 'Prob'; it is ignored. Did you mean Probe?" in \
        capsys.readouterr().err


def test_lazy_list_edits_in_python_files(isolated):
    user, system = isolated
    write(system, "jup_config.json", {"Plugins": {"blocked": ["terminal"]}})
    write(user, "jup_config.py", "c.Plugins.blocked.append('fixture-sample')\n")
    cfg, _ = load_config()
    host = plugins.get_plugin_manager()
    assert config.Plugins(config=cfg).blocked == ["terminal", "fixture-sample"]
    assert host.record("fixture-sample").status == "blocked"
    assert host.record("terminal").status == "blocked"


def test_plugin_defaults_can_block_plugins_and_bad_defaults_are_skipped(isolated, capsys):
    from jup.core.pluginhost import PluginHost

    host = plugins.get_plugin_manager(blocked=[], allowed=None)
    assert isinstance(host, PluginHost)
    org = type("Org", (), {"jup_config_defaults": staticmethod(_hookimpl(lambda: {"Plugins": {"blocked":
                                                                                               ["terminal"]}}))})
    bad = type("Bad", (), {"jup_config_defaults": staticmethod(_hookimpl(lambda: {"Probe": {"count": "x"}}))})
    host.register(org, "org")
    host.register(bad, "bad")
    cfg, src = config.load_config()  # same filters: the host above (with both plugins) is reused
    assert src.source("Plugins.blocked") == "defaults from plugin org"
    assert host.record("terminal").status == "blocked"
    assert "Probe.count must be an integer, got 'x'. Fix the value or remove it. These defaults are skipped." in \
        capsys.readouterr().err
    assert "count" not in cfg.Probe


def _hookimpl(func):
    from jup.core import hookimpl

    return hookimpl(func)


def test_generated_file_loads_back_with_every_option_at_its_default(isolated):
    user, _ = isolated
    text = generate_config()
    assert "# How many.\n# Takes an integer.\n# c.Probe.count = 1\n" in text
    assert "# c.Probe.mode = 'safe'" in text and "# c.Probe.extra = {}" in text
    assert "internal" not in text
    path = write(user, "jup_config.py", re.sub(r"^# (c\.)", r"\1", text, flags=re.M))
    cfg, src = load_config()
    probe = Probe(config=cfg)
    assert (probe.count, probe.mode, probe.sizes, probe.extra) == (1, "safe", [], {})
    assert src.source("Probe.count") == path
    assert load_config_file(path)["Plugins"]["blocked"] == []


def test_unreadable_file_is_a_config_error(isolated):
    user, _ = isolated
    (user / "jup_config.json").mkdir()  # a directory where a file should be
    with pytest.raises(ConfigError, match="Cannot read config file"):
        load_config_file(str(user / "jup_config.json"))


def test_describe_trait_in_plain_words():
    traits = Probe.class_traits()
    assert describe_trait(traits["sizes"]) == "a list of integers"
    assert describe_trait(traits["verbose"]) == "true or false"
    assert describe_trait(config.Plugins.class_traits()["blocked"]) == "a list of strings"
