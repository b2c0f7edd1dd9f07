"""A plugin author's first ten minutes: generate a plugin, pip install it, see it in
`jup plugins list`, run its own tests, uninstall it and see it gone."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent.parent
GENERATE = HERE / "generate.py"
BIN = Path(sys.executable).parent


def run(*cmd: str, cwd: Path | None = None, timeout: float = 240) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUP")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return subprocess.run(list(cmd), capture_output=True, text=True, timeout=timeout, cwd=cwd, env=env)


def plugin_row(name: str) -> str | None:
    out = run(str(BIN / "jup"), "plugins", "list")
    assert out.returncode == 0, out.stderr
    return next((line for line in out.stdout.splitlines() if line.split()[:1] == [name]), None)


def test_generated_plugin_installs_loads_passes_its_tests_and_uninstalls(tmp_path):
    name = f"jupfixture-tmpl-{uuid.uuid4().hex[:8]}"
    made = run(sys.executable, str(GENERATE), name, "--dest", str(tmp_path), "--description", "test plugin")
    assert made.returncode == 0, made.stderr
    target = tmp_path / name
    assert (target / "src" / name.replace("-", "_") / "plugin.py").exists()
    assert "__NAME__" not in (target / "pyproject.toml").read_text()

    pip = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", str(target)]
    installed = run(*pip)
    assert installed.returncode == 0, installed.stderr
    try:
        row = plugin_row(name)
        assert row is not None and row.split()[1:3] == [name, "0.1.0"] and row.rstrip().endswith("loaded")
        tests = run(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(target / "tests"),
                    cwd=target)
        assert tests.returncode == 0, tests.stdout + tests.stderr
        assert "3 passed" in tests.stdout
    finally:
        removed = run(sys.executable, "-m", "pip", "uninstall", "-y", "-q", name)
    assert removed.returncode == 0, removed.stderr
    assert plugin_row(name) is None


@pytest.mark.parametrize("bad", ["Hello", "9lives", "two--dashes", "ends-", "has space"])
def test_bad_names_are_refused_with_the_rule(tmp_path, bad):
    out = run(sys.executable, str(GENERATE), bad, "--dest", str(tmp_path))
    assert out.returncode == 2
    assert "use lower-case letters, digits and single dashes" in out.stderr
    assert list(tmp_path.iterdir()) == []


def test_existing_target_is_not_overwritten(tmp_path):
    (tmp_path / "jup-hello").mkdir()
    out = run(sys.executable, str(GENERATE), "jup-hello", "--dest", str(tmp_path))
    assert out.returncode == 2 and "exists already" in out.stderr
    assert list((tmp_path / "jup-hello").iterdir()) == []
