"""Code-quality gates: ruff is clean over the whole repository, and the import contracts hold, so the
core never depends on a plugin and plugins meet only through the core's hooks and the wire."""

from __future__ import annotations

import configparser
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CONTRACTS = ROOT / ".importlinter"


def _tool(name: str) -> str:
    exe = BIN / name
    if not exe.exists():
        pytest.fail(f"{name} is not installed in {BIN}; run scripts/setup --test (it installs "
                    "scripts/test-requirements.txt).")
    return str(exe)


def installed_portions(env: dict | None = None) -> list[str]:
    """The jup.* portions importable by this interpreter (PEP 420: one per installed distribution)."""
    code = ("import json, pkgutil, jup; print(json.dumps(sorted("
            "'jup.' + m.name for m in pkgutil.iter_modules(jup.__path__) if m.ispkg)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         timeout=60, check=True)
    return json.loads(out.stdout)


def _lines(value: str) -> list[str]:
    return [v.strip() for v in value.split() if v.strip()]


def contracts_for(portions: list[str]) -> configparser.ConfigParser:
    """The checked-in contracts, fitted to what is installed: absent portions dropped, new ones added."""
    cfg = configparser.ConfigParser()
    cfg.read(CONTRACTS)
    others = [p for p in portions if p != "jup.core"]
    listed = _lines(cfg["importlinter"]["root_packages"])
    roots = [p for p in listed if p in portions] + [p for p in portions if p not in listed]
    cfg["importlinter"]["root_packages"] = "\n" + "\n".join(roots)
    core = cfg["importlinter:contract:core-imports-no-plugin"]
    if others:
        core["forbidden_modules"] = "\n" + "\n".join(others)
    else:
        cfg.remove_section("importlinter:contract:core-imports-no-plugin")
    indep = cfg["importlinter:contract:plugins-are-independent"]
    if len(others) >= 2:
        indep["modules"] = "\n" + "\n".join(others)
    else:
        cfg.remove_section("importlinter:contract:plugins-are-independent")
    return cfg


def lint_imports(tmp_path: Path, portions: list[str], env: dict | None = None):
    cfg = contracts_for(portions)
    path = tmp_path / "contracts.ini"
    with open(path, "w") as f:
        cfg.write(f)
    return subprocess.run([_tool("lint-imports"), "--no-cache", "--no-logo", str(path)], cwd=tmp_path,
                          capture_output=True, text=True, env=env, timeout=300)


def test_ruff_is_clean_over_the_repository():
    res = subprocess.run([_tool("ruff"), "check", "--no-cache", "--output-format=concise", "."],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, (
        "ruff found problems; fix them (many with `.venv/bin/ruff check --fix PATH`):\n" + res.stdout
        + res.stderr)


def test_checked_in_contracts_cover_the_known_distributions():
    cfg = configparser.ConfigParser()
    cfg.read(CONTRACTS)
    roots = set(_lines(cfg["importlinter"]["root_packages"]))
    assert {"jup.core", "jup.echo", "jup.python", "jup.magics", "jup.terminal"} <= roots
    indep = set(_lines(cfg["importlinter:contract:plugins-are-independent"]["modules"]))
    assert "jup.core" not in indep and {"jup.python", "jup.terminal"} <= indep


def test_import_contracts_hold(tmp_path):
    portions = installed_portions()
    assert "jup.core" in portions, "jup.core is not importable; run scripts/setup"
    res = lint_imports(tmp_path, portions)
    assert res.returncode == 0, "an import contract is broken:\n" + res.stdout + res.stderr
    assert "BROKEN" not in res.stdout and "KEPT" in res.stdout


def test_a_plugin_reaching_into_another_is_caught(tmp_path):
    """Prove the gate bites: two throw-away portions of the namespace, one importing the other."""
    site = tmp_path / "site"
    for name, body in (("h6probe_a", "from jup.h6probe_b import thing\n"), ("h6probe_b", "thing = 1\n")):
        pkg = site / "jup" / name
        pkg.mkdir(parents=True)
        (pkg / "__init__.py").write_text(body)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    portions = installed_portions(env)
    assert {"jup.h6probe_a", "jup.h6probe_b", "jup.core"} <= set(portions)
    res = lint_imports(tmp_path, portions, env)
    assert res.returncode != 0
    assert "jup.h6probe_a" in res.stdout and "BROKEN" in res.stdout
