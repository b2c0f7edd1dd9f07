"""The `jup` command as a user runs it: a real subprocess of the venv's executable, real plugins
installed from tests/fixtures (a working one and deliberately broken ones)."""

from __future__ import annotations

import json
import re
import time

import pytest
from jup_cli_helpers import ensure_fixture_plugins, run_jup, table_rows

BROKEN = {"JUPFIXTURE_BROKEN": "1"}


@pytest.fixture(scope="session", autouse=True)
def fixture_plugins():
    ensure_fixture_plugins()


@pytest.fixture
def cfg(tmp_path):
    d = tmp_path / "config"
    d.mkdir()
    return d


def warning_lines(stderr: str, needle: str) -> list[str]:
    return [line for line in stderr.splitlines() if needle in line]


# ---- basics -------------------------------------------------------------------------------------

def test_version_answers_without_loading_plugins(cfg):
    start = time.perf_counter()
    res = run_jup("--version", config_dir=cfg, **BROKEN)
    elapsed = time.perf_counter() - start
    assert res.returncode == 0 and re.match(r"jup \d+\.\d+", res.stdout)
    assert res.stderr == ""  # broken plugins were never imported
    assert elapsed < 5


def test_help_lists_builtin_and_plugin_commands(cfg):
    res = run_jup("--help", config_dir=cfg)
    assert res.returncode == 0
    for name in ("run", "kernel", "kernelspec", "plugins", "config"):
        assert re.search(rf"^  {name}\s", res.stdout, re.M), name
    assert re.search(r"fixture-greet .*\[plugin fixture-sample\]", res.stdout)
    assert "--block NAME" in res.stdout


def test_no_command_shows_help_and_fails(cfg):
    res = run_jup(config_dir=cfg)
    assert res.returncode == 2 and "Commands:" in res.stderr


def test_unknown_command_names_the_known_ones(cfg):
    res = run_jup("frobnicate", config_dir=cfg)
    assert res.returncode == 2
    assert "no command 'frobnicate'" in res.stderr and "plugins" in res.stderr


def test_unknown_global_option_is_a_usage_error(cfg):
    res = run_jup("--frob", "plugins", "list", config_dir=cfg)
    assert res.returncode == 2 and "unknown option '--frob'" in res.stderr


def test_crashing_plugin_subcommand_is_one_line_unless_debugging(cfg):
    res = run_jup("fixture-crash", config_dir=cfg)
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert res.stderr.strip() == ("jup: error: command 'fixture-crash' from plugin 'fixture-sample' failed with "
                                  "ZeroDivisionError: integer division or modulo by zero. Set JUP_DEBUG=1 to "
                                  "see the traceback.")
    debug = run_jup("fixture-crash", config_dir=cfg, JUP_DEBUG="1")
    assert debug.returncode == 1 and "Traceback" in debug.stderr and "in crash" in debug.stderr


def test_option_value_may_follow_as_the_next_argument(cfg):
    res = run_jup("--SampleFixture.greeting", "spaced", "--config-dir", str(cfg), "fixture-greet", config_dir=cfg)
    assert res.stdout.strip() == "spaced"
    missing = run_jup("--block", config_dir=cfg)
    assert missing.returncode == 2 and "--block needs a value" in missing.stderr


def test_plugin_subcommand_runs(cfg):
    res = run_jup("fixture-greet", config_dir=cfg)
    assert res.returncode == 0 and res.stdout.strip() == "hello from plugin defaults"


# ---- jup run ------------------------------------------------------------------------------------

def test_run_without_name_lists_installed_frontends(cfg):
    res = run_jup("run", config_dir=cfg)
    assert res.returncode == 0
    assert re.search(r"fixture-hello\s+sample fixture frontend", res.stdout)


def test_run_unknown_frontend_lists_installed_ones(cfg):
    res = run_jup("run", "no-such-frontend", config_dir=cfg)
    assert res.returncode == 2
    assert "no frontend named 'no-such-frontend'" in res.stderr
    assert "fixture-hello" in res.stderr


def test_run_passes_arguments_and_exit_code(cfg):
    ok = run_jup("run", "fixture-hello", "a", "--b", config_dir=cfg)
    assert ok.returncode == 0 and "ran with ['a', '--b']" in ok.stdout
    failed = run_jup("run", "fixture-hello", "fail", config_dir=cfg)
    assert failed.returncode == 3


def test_crashing_frontend_names_itself_and_its_plugin(cfg):
    res = run_jup("run", "fixture-hello", "crash", config_dir=cfg)
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert ("jup: error: frontend 'fixture-hello' (plugin 'fixture-sample') failed with OSError: the fixture "
            "frontend crashed.") in res.stderr


# ---- jup plugins list, broken plugins -----------------------------------------------------------

def test_plugins_list_shows_sample_loaded_and_broken_failed_with_reason(cfg):
    res = run_jup("plugins", "list", config_dir=cfg, **BROKEN)
    assert res.returncode == 0
    rows = table_rows(res.stdout)
    dist, version, hooks, status = rows["fixture-sample"]
    assert (dist, version, status) == ("jupfixture-sample", "1.2.3", "loaded")
    assert hooks == "config_defaults, frontends, kernels, subcommands"
    assert rows["core-commands"][0] == "jup-core" and rows["core-commands"][3] == "loaded"
    assert rows["fixture-broken-import"][3].startswith("failed: import failed: ModuleNotFoundError")
    assert "jupfixture_dependency_that_is_not_installed" in rows["fixture-broken-import"][3]
    assert rows["fixture-broken-import"][0] == "jupfixture-broken"


def test_import_failure_is_one_warning_naming_plugin_and_distribution(cfg):
    res = run_jup("run", config_dir=cfg, **BROKEN)
    assert res.returncode == 0 and "fixture-hello" in res.stdout  # everything else keeps working
    lines = warning_lines(res.stderr, "fixture-broken-import")
    assert len(lines) == 1
    assert "distribution jupfixture-broken 0.0.1" in lines[0]
    assert "--block fixture-broken-import" in lines[0]
    assert "Traceback" not in res.stderr


def test_raising_hook_gives_one_warning_and_the_rest_works(cfg):
    res = run_jup("run", config_dir=cfg, **BROKEN)
    assert res.returncode == 0 and "fixture-hello" in res.stdout and "terminal" in res.stdout
    lines = warning_lines(res.stderr, "raised RuntimeError in jup_frontends")
    assert len(lines) == 1
    assert "plugin 'fixture-raising' (distribution jupfixture-broken 0.0.1)" in lines[0]
    assert "fixture frontend hook is broken on purpose" in lines[0]
    # the same plugin also raises in jup_subcommands: plugin subcommands still work
    greet = run_jup("fixture-greet", config_dir=cfg, **BROKEN)
    assert greet.returncode == 0 and "hello from plugin defaults" in greet.stdout
    assert len(warning_lines(greet.stderr, "raised ValueError in jup_subcommands")) == 1


def test_misspelled_hook_fails_the_plugin_naming_hook_and_function(cfg):
    res = run_jup("plugins", "list", config_dir=cfg, **BROKEN)
    lines = warning_lines(res.stderr, "fixture-misspelled")
    assert len(lines) == 1
    assert "jup_frontend (function jupfixture_broken.misspelled.jup_frontend) is not a jup hook" in lines[0]
    assert "did you mean jup_frontends?" in lines[0]
    assert table_rows(res.stdout)["fixture-misspelled"][3].startswith("failed: jup_frontend")


# ---- blocking and allow-listing -----------------------------------------------------------------

@pytest.mark.parametrize("how", ["flag", "env", "config"])
def test_blocked_plugin_is_not_loaded(cfg, how):
    args, env = [], dict(BROKEN)
    names = "fixture-sample,fixture-broken-import"
    if how == "flag":
        args = ["--block", "fixture-sample", "--block=fixture-broken-import"]
        reason = "blocked by --block"
    elif how == "env":
        env["JUP_BLOCK_PLUGINS"] = names
        reason = "blocked by JUP_BLOCK_PLUGINS"
    else:
        (cfg / "jup_config.json").write_text(json.dumps({"Plugins": {"blocked": names.split(",")}}))
        reason = f"blocked by Plugins.blocked ({cfg / 'jup_config.json'})"
    res = run_jup(*args, "plugins", "list", config_dir=cfg, **env)
    rows = table_rows(res.stdout)
    assert rows["fixture-sample"][3] == f"blocked: {reason}"
    assert rows["fixture-broken-import"][3] == f"blocked: {reason}"
    assert "fixture-broken-import" not in res.stderr  # blocking a broken plugin silences it
    assert rows["terminal"][3] == "loaded"
    run = run_jup(*args, "run", "fixture-hello", config_dir=cfg, **env)
    assert run.returncode == 2 and "no frontend named 'fixture-hello'" in run.stderr


@pytest.mark.parametrize("how", ["env", "config"])
def test_allow_list_loads_only_named_plugins_and_core(cfg, how):
    env = {}
    if how == "env":
        env["JUP_ALLOW_PLUGINS"] = "fixture-sample"
    else:
        (cfg / "jup_config.py").write_text("c.Plugins.allowed = ['fixture-sample']\n")
    res = run_jup("plugins", "list", config_dir=cfg, **BROKEN, **env)
    rows = table_rows(res.stdout)
    assert rows["fixture-sample"][3] == "loaded"
    assert rows["core-commands"][3] == "loaded"
    assert rows["terminal"][3].startswith("blocked: not in the allow-list")
    assert rows["fixture-broken-import"][3].startswith("blocked:")
    assert "warning" not in res.stderr


def test_core_commands_cannot_be_blocked(cfg):
    res = run_jup("--block", "core-commands", "plugins", "list", config_dir=cfg)
    assert res.returncode == 0 and table_rows(res.stdout)["core-commands"][3] == "loaded"


def test_trace_prints_each_hook_call(cfg):
    res = run_jup("run", config_dir=cfg, JUP_TRACE_PLUGINS="1")
    assert res.returncode == 0
    assert re.search(r"^jup-trace: fixture-sample\.jup_frontends\(\) -> \[FrontendSpec\(name='fixture-hello'",
                     res.stderr, re.M)
    assert re.search(r"^jup-trace: core-commands\.jup_subcommands\(\) -> ", res.stderr, re.M)
    quiet = run_jup("run", config_dir=cfg)
    assert "jup-trace" not in quiet.stderr


# ---- configuration ------------------------------------------------------------------------------

def test_config_layers_and_show_sources(cfg):
    res = run_jup("config", "show", config_dir=cfg)
    assert re.search(r"SampleFixture\.greeting\s+'hello from plugin defaults'\s+defaults from plugin "
                     r"fixture-sample", res.stdout)
    assert re.search(r"Plugins\.blocked\s+\[\]\s+default", res.stdout)
    user = cfg / "jup_config.json"
    user.write_text(json.dumps({"SampleFixture": {"greeting": "from the user file"}}))
    res = run_jup("config", "show", config_dir=cfg)
    assert re.search(rf"SampleFixture\.greeting\s+'from the user file'\s+{re.escape(str(user))}", res.stdout)
    assert run_jup("fixture-greet", config_dir=cfg).stdout.strip() == "from the user file"
    res = run_jup("--SampleFixture.greeting=from argv", "config", "show", config_dir=cfg)
    assert re.search(r"SampleFixture\.greeting\s+'from argv'\s+command line", res.stdout)
    after = run_jup("fixture-greet", "--SampleFixture.greeting=after the command", config_dir=cfg)
    assert after.stdout.strip() == "after the command"


def test_config_dir_option_picks_the_user_dir(cfg, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    (other / "jup_config.py").write_text("c.SampleFixture.greeting = 'from --config-dir'\n")
    res = run_jup("--config-dir", str(other), "fixture-greet", config_dir=cfg)
    assert res.stdout.strip() == "from --config-dir"


@pytest.mark.parametrize("name, text, expected", [
    ("jup_config.json", '{"Plugins": {"blocked": 3}}',
     "jup_config.json: Plugins.blocked must be a list of strings, got 3. Fix the value or remove it."),
    ("jup_config.json", '{"Plugins": {"blocked": [1]}}', "Plugins.blocked must be a list of strings, got [1]"),
    ("jup_config.json", '{"Plugins": {"blocked": []},\n "Plugins2": ', "jup_config.json, line 2 column"),
    ("jup_config.json", '["Plugins"]', "must hold one JSON object of sections, got list"),
    ("jup_config.json", '{"Plugins": {"blokced": []}}',
     "Plugins.blokced is not an option of Plugins. Did you mean Plugins.blocked? "
     "Its options are: allowed, blocked."),
    ("jup_config.py", "c.Plugins.blocked = [\n", "jup_config.py, line 1: Python syntax error"),
    ("jup_config.py", "x = 1\nc.Plugins.blocked = undefined_name\n",
     "jup_config.py, line 2: running the file raised NameError"),
    ("jup_config.py", "c.SampleFixture.greeting = 7\n",
     "SampleFixture.greeting must be a string, got 7"),
])
def test_bad_config_stops_with_file_option_and_fix(cfg, name, text, expected):
    (cfg / name).write_text(text)
    res = run_jup("plugins", "list", config_dir=cfg)
    assert res.returncode == 1
    assert res.stdout == ""
    assert f"jup: error: In {cfg / name}" in res.stderr
    assert expected in res.stderr
    assert "Traceback" not in res.stderr


def test_unknown_section_warns_but_runs(cfg):
    (cfg / "jup_config.json").write_text('{"SampleFixtur": {"greeting": "x"}}')
    res = run_jup("fixture-greet", config_dir=cfg)
    assert res.returncode == 0 and res.stdout.strip() == "hello from plugin defaults"
    assert "no installed part of jup reads section 'SampleFixtur'" in res.stderr
    assert "Did you mean SampleFixture?" in res.stderr


@pytest.mark.parametrize("arg, expected", [
    ("--Nope.x=1", "no installed part of jup has options under 'Nope'"),
    ("--Plugins.nope=1", "Plugins.nope is not an option of Plugins"),
])
def test_bad_command_line_option(cfg, arg, expected):
    res = run_jup(arg, "plugins", "list", config_dir=cfg)
    assert res.returncode == 1 and expected in res.stderr


def test_block_from_command_line_config_option(cfg):
    res = run_jup("--Plugins.blocked=fixture-sample", "plugins", "list", config_dir=cfg)
    assert table_rows(res.stdout)["fixture-sample"][3] == "blocked: blocked by Plugins.blocked (command line)"


def test_config_generate_writes_a_file_that_loads_back(cfg, tmp_path):
    target = tmp_path / "gen" / "jup_config.py"
    res = run_jup("config", "generate", "--path", str(target), config_dir=cfg)
    assert res.returncode == 0 and target.exists()
    text = target.read_text()
    assert "# c.Plugins.blocked = []" in text and "# c.SampleFixture.greeting = 'hello from the class default'" in text
    assert "What `jup fixture-greet` prints." in text
    again = run_jup("config", "generate", "--path", str(target), config_dir=cfg)
    assert again.returncode == 1 and "--force" in again.stderr
    # Every option uncommented: the file is valid and sets each option to its default.
    (cfg / "jup_config.py").write_text(re.sub(r"^# (c\.)", r"\1", text, flags=re.M))
    show = run_jup("config", "show", config_dir=cfg)
    assert show.returncode == 0, show.stderr
    assert re.search(r"SampleFixture\.greeting\s+'hello from the class default'\s+" +
                     re.escape(str(cfg / "jup_config.py")), show.stdout)


def test_config_generate_default_path_is_the_user_dir(cfg):
    res = run_jup("config", "generate", config_dir=cfg)
    assert res.returncode == 0 and (cfg / "jup_config.py").exists()
    assert run_jup("config", "show", config_dir=cfg).returncode == 0


# ---- delegated commands -------------------------------------------------------------------------

def test_kernel_needs_a_kernel_name(cfg):
    res = run_jup("kernel", config_dir=cfg)
    assert res.returncode == 2 and "--kernel" in res.stderr


def test_kernelspec_needs_an_action(cfg):
    res = run_jup("kernelspec", config_dir=cfg)
    assert res.returncode == 2 and "list,install,remove" in res.stderr


def test_kernelspec_list_install_and_remove(cfg, tmp_path):
    listed = run_jup("kernelspec", "list", config_dir=cfg)
    assert listed.returncode == 0
    assert re.search(r"^fixture-kernel\s+Fixture kernel\s+\(plugin\)", listed.stdout, re.M)
    prefix = tmp_path / "prefix"
    res = run_jup("kernelspec", "install", "fixture-kernel", "--prefix", str(prefix), config_dir=cfg)
    kernel_json = prefix / "share" / "jupyter" / "kernels" / "fixture-kernel" / "kernel.json"
    assert res.returncode == 0 and str(kernel_json.parent) in res.stdout
    data = json.loads(kernel_json.read_text())
    assert data["display_name"] == "Fixture kernel" and "{connection_file}" in data["argv"]
    env = {"JUPYTER_PATH": str(prefix / "share" / "jupyter")}
    gone = run_jup("kernelspec", "remove", "fixture-kernel", config_dir=cfg, **env)
    assert gone.returncode == 0 and not kernel_json.exists()
    again = run_jup("kernelspec", "remove", "fixture-kernel", config_dir=cfg, **env)
    assert again.returncode == 1 and "No installed kernelspec named 'fixture-kernel'" in again.stderr


def test_kernelspec_install_of_unknown_kernel_names_the_known_ones(cfg, tmp_path):
    res = run_jup("kernelspec", "install", "no-such-kernel", "--prefix", str(tmp_path), config_dir=cfg)
    assert res.returncode == 1
    assert "No kernel named 'no-such-kernel'" in res.stderr and "fixture-kernel" in res.stderr
    assert not (tmp_path / "share").exists()
