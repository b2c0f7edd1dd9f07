"""Kernels are found from plugins and from Jupyter's kernelspec dirs, and jup kernels can be installed
where Jupyter tools look for them."""

from __future__ import annotations

import json
import logging

import pytest

from jup.core.errors import NoSuchKernel
from jup.core.kernelspec import (
    KernelSpec,
    find_kernel_specs,
    get_kernel_spec,
    install_kernel_spec,
    remove_kernel_spec,
)
from jup.core.specs import KernelSpecInfo
from jup.core.testing import fake_kernel_spec


@pytest.fixture
def jpath(tmp_path, monkeypatch):
    """An isolated Jupyter path: JUPYTER_PATH and the user data dir both under tmp."""
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "path"))
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


def write_spec(root, name, data):
    d = root / "kernels" / name
    d.mkdir(parents=True)
    (d / "kernel.json").write_text(json.dumps(data) if isinstance(data, dict) else data)
    return d


def test_jupyter_kernelspec_dirs_are_found(jpath):
    d = write_spec(jpath / "path", "ir", {"argv": ["R", "--slave", "-f", "{connection_file}"],
                                         "display_name": "R", "language": "R", "env": {"A": "1"}})
    spec = find_kernel_specs()["ir"]
    assert spec.source == "jupyter" and spec.resource_dir == str(d)
    assert spec.language == "R" and spec.env == {"A": "1"} and spec.interrupt_mode == "signal"
    assert spec.launch_argv("/tmp/c.json") == ["R", "--slave", "-f", "/tmp/c.json"]
    assert get_kernel_spec("ir").display_name == "R"


def test_first_directory_on_the_path_wins(jpath):
    write_spec(jpath / "path", "k", {"argv": ["first"], "display_name": "First"})
    write_spec(jpath / "data", "k", {"argv": ["second"], "display_name": "Second"})
    assert find_kernel_specs()["k"].display_name == "First"
    assert get_kernel_spec("k").argv == ["first"]


def test_plugin_kernels_are_listed_and_win_over_directories(jpath):
    write_spec(jpath / "path", "echo", {"argv": ["not-this"], "display_name": "Dir echo"})
    specs = find_kernel_specs()
    assert specs["echo"].source == "plugin", "the echo-kernel plugin declares 'echo'"
    assert specs["echo"].argv[-2:] == ["-f", "{connection_file}"]


def test_broken_kernel_json_is_reported_and_others_still_work(jpath, caplog):
    write_spec(jpath / "path", "broken", "{not json")
    write_spec(jpath / "path", "fine", {"argv": ["x"], "display_name": "Fine"})
    with caplog.at_level(logging.WARNING):
        specs = find_kernel_specs()
    assert "fine" in specs and "broken" not in specs
    assert "broken" in caplog.text and "not a usable kernelspec" in caplog.text


def test_unknown_kernel_lists_what_there_is(jpath):
    write_spec(jpath / "path", "mine", {"argv": ["x"]})
    with pytest.raises(NoSuchKernel, match=r"No kernel named 'nope'\. Available: .*mine"):
        get_kernel_spec("nope")


def test_install_writes_kernel_json_jupyter_tools_read(jpath):
    prefix = jpath / "prefix"
    info = KernelSpecInfo(name="python-ish", display_name="Py (jup)", language="python",
                          argv=["py", "-f", "{connection_file}"], install_name="jup-pyish",
                          interrupt_mode="message")
    path = install_kernel_spec(info, prefix=str(prefix))
    assert path == str(prefix / "share" / "jupyter" / "kernels" / "jup-pyish")
    data = json.loads((prefix / "share/jupyter/kernels/jup-pyish/kernel.json").read_text())
    assert data["argv"] == ["py", "-f", "{connection_file}"] and data["interrupt_mode"] == "message"
    assert data["metadata"]["jup"]["kernel"] == "python-ish" and data["display_name"] == "Py (jup)"


def test_install_by_name_user_and_remove(jpath):
    path = install_kernel_spec("echo", user=True)
    assert path.startswith(str(jpath / "data"))
    found = get_kernel_spec("echo")  # the plugin still wins by name
    assert found.source == "plugin"
    assert remove_kernel_spec("echo") == path
    with pytest.raises(NoSuchKernel, match="No installed kernelspec named 'echo'"):
        remove_kernel_spec("echo")


def test_install_refuses_bad_names(jpath):
    bad = KernelSpec(name="a/b", argv=["x"])
    with pytest.raises(NoSuchKernel, match="cannot be a kernelspec directory name"):
        install_kernel_spec(bad, prefix=str(jpath))


def test_fake_kernel_spec_round_trips_through_a_directory(jpath):
    path = install_kernel_spec(fake_kernel_spec(), prefix=str(jpath / "p"))
    again = KernelSpec.from_dir(path)
    assert again.argv == fake_kernel_spec().argv and again.language == "python"


def test_a_bare_python_in_argv_means_this_interpreter(jpath):
    import sys
    write_spec(jpath / "path", "native", {"argv": ["python", "-m", "ipykernel_launcher", "-f", "{connection_file}"]})
    assert get_kernel_spec("native").launch_argv("c.json") == [sys.executable, "-m", "ipykernel_launcher",
                                                               "-f", "c.json"]


def test_cli_install_sys_prefix_writes_into_the_running_environment(tmp_path):
    """`jup kernelspec install echo --sys-prefix` run by an environment's Python puts kernel.json in
    that environment's share/jupyter, where Jupyter tools run from it look; the other flags are
    exclusive and say so."""
    import os
    import site
    import subprocess
    import sys

    env_dir = tmp_path / "env"  # a scratch environment that sees this one's packages (jup included)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)], check=True, timeout=120)
    scratch_site = next((env_dir / "lib").glob("python3*/site-packages"))
    ours = [p for p in site.getsitepackages() if os.path.isdir(p)]
    (scratch_site / "borrow.pth").write_text("".join(f"import site; site.addsitedir({p!r})\n" for p in ours))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "VIRTUAL_ENV"))}
    env.update(JUPYTER_DATA_DIR=str(tmp_path / "user-data"), JUPYTER_CONFIG_DIR=str(tmp_path / "user-config"),
               JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"))
    python = str(env_dir / "bin" / "python")
    jup = [python, "-c", "import sys; from jup.core.app import main; sys.exit(main())", "kernelspec"]

    res = subprocess.run(jup + ["install", "echo", "--sys-prefix"], capture_output=True, text=True,
                         timeout=60, env=env)
    assert res.returncode == 0, res.stderr
    kernel_json = env_dir / "share" / "jupyter" / "kernels" / "echo" / "kernel.json"
    assert f"in {kernel_json.parent}" in res.stdout
    assert json.loads(kernel_json.read_text())["argv"][-2:] == ["-f", "{connection_file}"]
    assert not (tmp_path / "user-data").exists(), "--sys-prefix must not write to the user's directory"
    find = ("from jupyter_client.kernelspec import KernelSpecManager;"
            "print(KernelSpecManager().find_kernel_specs()['echo'])")
    seen = subprocess.run([python, "-c", find], capture_output=True, text=True, timeout=60, env=env)
    assert seen.stdout.strip() == str(kernel_json.parent), seen.stderr

    both = subprocess.run(jup + ["install", "echo", "--sys-prefix", "--prefix", str(tmp_path / "p")],
                          capture_output=True, text=True, timeout=60, env=env)
    assert both.returncode == 2 and "not allowed with argument" in both.stderr, both.stderr
    assert not (tmp_path / "p").exists()
