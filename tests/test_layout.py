"""The repository keeps its promises to a newcomer: the README opens with the two commands, every
distribution declares itself a jup plugin, stands alone, and is installed by scripts/setup."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ROOT / "scripts" / "packages.txt"


def listed_packages() -> list[str]:
    lines = (ln.strip() for ln in PACKAGES.read_text().splitlines())
    return [ln for ln in lines if ln and not ln.startswith("#")]


def present_packages() -> list[str]:
    return [p for p in listed_packages() if (ROOT / p / "pyproject.toml").is_file()]


def pyproject(pkg: str) -> dict:
    with open(ROOT / pkg / "pyproject.toml", "rb") as f:
        return tomllib.load(f)


# ---- README -------------------------------------------------------------------------------------

def test_readme_opens_with_the_two_commands():
    text = (ROOT / "README.md").read_text()
    first_block = re.search(r"```[a-z]*\n(.*?)```", text, re.S)
    assert first_block, "README.md must open with a code block holding the two commands"
    before = text[: first_block.start()]
    assert len(before.splitlines()) <= 6, "the two commands must come first, before any prose"
    commands = [ln for ln in first_block.group(1).splitlines() if ln.strip() and not ln.startswith("#")]
    assert commands == ["scripts/setup && .venv/bin/jup run terminal", "scripts/test"]
    for script in ("scripts/setup", "scripts/test", ".ci/run"):
        assert os.access(ROOT / script, os.X_OK), f"{script} must be executable"


def test_readme_links_resolve():
    text = (ROOT / "README.md").read_text() + (ROOT / "docs" / "index.md").read_text()
    for target in re.findall(r"\]\(((?!https?:)[^)#]+)", text):
        base = ROOT if (ROOT / target).exists() else ROOT / "docs"
        assert (base / target).exists(), f"README/docs index links to missing {target}"


# ---- distributions ------------------------------------------------------------------------------

def test_every_distribution_folder_is_listed_for_setup():
    found = {str(p.parent.relative_to(ROOT)) for p in ROOT.glob("*/*/pyproject.toml")
             if p.parts[-3] in ("plugins", "frontends")}
    missing = found - set(listed_packages())
    assert not missing, f"add {sorted(missing)} to scripts/packages.txt so scripts/setup installs them"
    assert listed_packages()[0] == "core", "core must be installed first"


@pytest.mark.parametrize("pkg", present_packages())
def test_distribution_is_a_jup_plugin_that_stands_alone(pkg):
    meta = pyproject(pkg)
    project = meta["project"]
    assert project["name"].startswith("jup-"), f"{pkg}: distribution names start with jup-"
    assert project.get("requires-python", "").startswith(">=3.11")
    eps = project.get("entry-points", {}).get("jup.plugins")
    assert eps, f"{pkg}/pyproject.toml declares no [project.entry-points.\"jup.plugins\"]"
    src = ROOT / pkg / "src"
    for name, target in eps.items():
        module = target.split(":")[0]
        rel = Path(*module.split("."))
        assert (src / rel).with_suffix(".py").is_file() or (src / rel / "__init__.py").is_file(), (
            f"{pkg}: entry point {name} = {target} names a module that is not in {src}")
    assert not (src / "jup" / "__init__.py").exists(), f"{pkg}: jup is a namespace package, no __init__.py"
    if pkg != "core":
        deps = [re.split(r"[<>=!~ \[;]", d)[0] for d in project.get("dependencies", [])]
        assert "jup-core" in deps, f"{pkg} must depend on jup-core to be installable alone"


def test_core_installs_alone_into_a_scratch_environment(tmp_path):
    """`pip install --no-deps ./core` into an empty environment gives a working jup.core and its
    entry point; its third-party dependencies are borrowed from .venv, jup's editable paths are not."""
    scratch = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(scratch)], check=True, timeout=120)
    site = next((scratch / "lib").glob("python3*/site-packages"))
    deps_dir = next(p for p in map(Path, sys.path) if p.name == "site-packages" and p.is_dir())
    (site / "borrowed-deps.pth").write_text(str(deps_dir) + "\n")
    # pip builds in the source tree: build from a copy so no build/ is left in the checkout.
    src = tmp_path / "core"
    shutil.copytree(ROOT / "core", src, ignore=shutil.ignore_patterns(
        "build", "*.egg-info", "__pycache__", "tests"))
    res = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                          "--no-index", "--target", str(site), str(src)],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    check = ("import json, jup.core, jup.core.protocol, importlib.metadata as md;"
             "d = md.distribution('jup-core');"
             "print(json.dumps([jup.core.__file__, str(d.locate_file('')),"
             " [e.name for e in d.entry_points if e.group == 'jup.plugins']]))")
    out = subprocess.run([str(scratch / "bin" / "python"), "-c", check], capture_output=True, text=True,
                         timeout=60, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    where, dist_root, eps = __import__("json").loads(out.stdout)
    assert where.startswith(str(site)), f"jup.core came from {where}, not the scratch install"
    assert dist_root.startswith(str(site))
    assert eps, "the installed jup-core has no jup.plugins entry point"


def _dependency_links(dists: list[str], into: Path) -> list[str]:
    """Symlink into `into` the installed third-party distributions `dists` need (recursively), and
    nothing else: a scratch environment then sees exactly what `pip install` of `dists` would give it,
    without the network. Returns the distribution names linked."""
    import importlib.metadata as md

    from packaging.requirements import Requirement

    into.mkdir()
    seen: set[str] = set()
    todo = [Requirement(r) for d in dists for r in md.requires(d) or []]
    for _ in range(1000):  # bounded: a dependency closure is far smaller
        if not todo:
            break
        req = todo.pop()
        name = req.name.lower().replace("_", "-")
        if name in seen or name.startswith("jup-") or (req.marker and not req.marker.evaluate({"extra": ""})):
            continue
        seen.add(name)
        dist = md.distribution(name)
        todo += [Requirement(r) for r in dist.requires or []]
        for top in {f.parts[0] for f in dist.files or [] if f.parts[0] != ".." and f.suffix != ".pth"}:
            link, target = into / top, Path(dist.locate_file(top))
            if not link.exists() and target.exists():
                link.symlink_to(target)
    return sorted(seen)


def test_core_and_one_plugin_install_alone_and_the_plugin_works(tmp_path):
    """An organisation builds its own jup from a subset: core and the echo kernel only, installed
    from their folders into an empty environment (dependencies linked from .venv, no network).
    `jup plugins list` shows the echo plugin loaded and nothing that was not installed; `jup
    kernelspec list` offers echo; and the echo kernel starts and answers there."""
    scratch = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(scratch)], check=True, timeout=120)
    site = next((scratch / "lib").glob("python3*/site-packages"))
    linked = _dependency_links(["jup-core", "jup-echo-kernel"], tmp_path / "deps")
    assert "pyzmq" in linked and "traitlets" in linked
    (site / "deps.pth").write_text(str(tmp_path / "deps") + "\n")
    sources = []
    for pkg in ("core", "plugins/echo-kernel"):  # pip builds in place: build copies, keep the checkout clean
        sources.append(tmp_path / "src" / pkg)
        shutil.copytree(ROOT / pkg, sources[-1], ignore=shutil.ignore_patterns(
            "build", "*.egg-info", "__pycache__", "tests"))
    res = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                          "--no-index", "--target", str(site), *map(str, sources)],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUP", "JUPYTER", "PYTHON", "VIRTUAL_ENV"))}
    env.update(HOME=str(home), JUP_CONFIG_DIR=str(home / "config"), JUPYTER_DATA_DIR=str(home / "data"),
               JUPYTER_RUNTIME_DIR=str(home / "runtime"), XDG_CACHE_HOME=str(home / "cache"),
               JUPYTER_PLATFORM_DIRS="1")
    python = str(scratch / "bin" / "python")
    jup = [python, "-c", "import sys; from jup.core.app import main; sys.exit(main())"]

    plugins = subprocess.run(jup + ["plugins", "list"], capture_output=True, text=True, timeout=60,
                             env=env, cwd=tmp_path)
    assert plugins.returncode == 0, plugins.stderr
    rows = {ln.split()[0]: ln.split() for ln in plugins.stdout.splitlines()[1:] if ln.strip()}
    assert set(rows) == {"core-commands", "echo-kernel"}, plugins.stdout
    assert rows["echo-kernel"][1] == "jup-echo-kernel" and rows["echo-kernel"][-1] == "loaded"
    assert "warning" not in plugins.stderr.lower(), plugins.stderr

    specs = subprocess.run(jup + ["kernelspec", "list"], capture_output=True, text=True, timeout=60,
                           env=env, cwd=tmp_path)
    assert specs.returncode == 0, specs.stderr
    names = [ln.split()[0] for ln in specs.stdout.splitlines()[1:] if ln.strip()]
    assert "echo" in names and "python" not in names, specs.stdout

    run = ("import jup.echo, jup.core\n"
           "from jup.core.manager import BlockingKernelManager\n"
           "with BlockingKernelManager('echo') as km:\n"
           "    kc = km.client()\n"
           "    r = kc.execute('hello', reply=True, timeout=20)\n"
           "    kc.stop_channels()\n"
           "print(r['content']['status'], jup.echo.__file__, jup.core.__file__)\n")
    out = subprocess.run([python, "-c", run], capture_output=True, text=True, timeout=90, env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    status, echo_file, core_file = out.stdout.split()
    assert status == "ok"
    assert echo_file.startswith(str(site)) and core_file.startswith(str(site)), out.stdout


# ---- setup --------------------------------------------------------------------------------------

def test_setup_is_idempotent_and_quick_the_second_time():
    env = {**os.environ, "CI": "true"}
    first = subprocess.run(["bash", "scripts/setup", "--test"], cwd=ROOT, capture_output=True, text=True,
                           timeout=900, env=env, stdin=subprocess.DEVNULL)
    assert first.returncode == 0, first.stdout + first.stderr
    t0 = time.monotonic()
    second = subprocess.run(["bash", "scripts/setup", "--test"], cwd=ROOT, capture_output=True, text=True,
                            timeout=120, env=env, stdin=subprocess.DEVNULL)
    took = time.monotonic() - t0
    assert second.returncode == 0, second.stdout + second.stderr
    assert "up to date" in second.stdout
    assert took < 10, f"a second scripts/setup took {took:.1f} s; it should skip pip when nothing changed"
    assert (ROOT / ".venv" / "bin" / "jup").exists(), "scripts/setup did not install the jup command"


def _pane_until(session: str, text: str, timeout: float) -> str:
    """Poll the tmux pane until `text` shows (bounded); return the pane."""
    deadline = time.monotonic() + timeout
    pane = ""
    while time.monotonic() < deadline:
        pane = subprocess.run(["tmux", "capture-pane", "-p", "-t", session], capture_output=True,
                              text=True, timeout=10).stdout
        if text in pane:
            return pane
        time.sleep(0.1)  # polling interval of the screen, not a synchronisation guess
    raise AssertionError(f"{text!r} did not appear within {timeout} s; the screen shows:\n{pane}")


def test_readme_first_command_starts_a_terminal_that_computes(tmp_path):
    """Type the README's first command in a terminal, as a newcomer would, and use what it starts."""
    session = f"jup-readme-{os.getpid()}"
    isolate = " ".join(f"{var}={tmp_path / var.lower()}" for var in (
        "JUPYTER_RUNTIME_DIR", "JUPYTER_DATA_DIR", "JUP_DATA_DIR", "JUP_CONFIG_DIR", "IPYTHONDIR"))
    env_cmd = (f"cd {ROOT} && env -u JUP_BLOCK_PLUGINS {isolate} "
               f"bash -c 'scripts/setup && .venv/bin/jup run terminal'")
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "120", "-y", "40", env_cmd],
                   check=True, timeout=30)
    try:
        _pane_until(session, "In [1]", 120)
        subprocess.run(["tmux", "send-keys", "-t", session, "6*7", "Enter"], check=True, timeout=10)
        assert "42" in _pane_until(session, "In [2]", 60)
        subprocess.run(["tmux", "send-keys", "-t", session, "exit", "Enter"], check=True, timeout=10)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # the session ends when the terminal exits
            if subprocess.run(["tmux", "has-session", "-t", session], capture_output=True,
                              timeout=10).returncode:
                break
            time.sleep(0.1)
        else:
            raise AssertionError("`exit` did not end jup run terminal within 30 s")
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True, timeout=10)


@pytest.mark.parametrize("body, code", [("def test_ok():\n    assert 1\n", 0),
                                        ("def test_broken():\n    assert 0, 'broken'\n", 1),
                                        ("# no tests at all\n", 5)])
def test_scripts_test_reports_failure_by_its_exit_code(tmp_path, body, code):
    """CI trusts scripts/test's exit code (.ci/run passes it on): a failing or empty run is non-zero."""
    (tmp_path / "test_story.py").write_text(body)
    res = subprocess.run(["bash", "scripts/test", str(tmp_path / "test_story.py"), "-q", "-p", "no:cacheprovider"],
                         cwd=ROOT, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
                         env={**os.environ, "CI": "true"})
    assert res.returncode == code, res.stdout[-2000:] + res.stderr[-2000:]


def test_test_module_names_are_unique_across_the_repository():
    """pytest imports test files by basename (default import mode; tests import their conftest and
    helpers by name), so two `test_x.py` in different folders stop the whole run at collection."""
    seen: dict[str, list[str]] = {}
    for top in ("core", "plugins", "frontends", "tests", "plugin-template"):
        for path in (ROOT / top).rglob("test_*.py"):
            rel = path.relative_to(ROOT)
            if any(part in ("fixtures", "template", "build", ".venv", "node_modules") for part in rel.parts):
                continue
            seen.setdefault(path.name, []).append(str(rel))
    dupes = {name: paths for name, paths in seen.items() if len(paths) > 1}
    assert not dupes, f"rename one of each (e.g. prefix it with its distribution): {dupes}"


def test_every_guide_page_is_in_the_index():
    index = (ROOT / "docs" / "index.md").read_text()
    linked = set(re.findall(r"\]\(([^)#]+\.md)", index))
    pages = {p.name for p in (ROOT / "docs").glob("*.md")} - {"index.md"}
    missing = sorted(pages - linked)
    assert not missing, f"add {missing} to docs/index.md so readers find them"
