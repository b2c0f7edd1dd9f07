"""Helpers for the core tests that drive the real `jup` executable and the fixture plugins.

The fixture distributions (tests/fixtures/sample-plugin, tests/fixtures/broken-plugin) are installed
into the venv by `scripts/setup --test`; `ensure_fixture_plugins()` installs them if they are missing.
"""

from __future__ import annotations

import fcntl
import importlib.metadata as md
import os
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
BIN = Path(sys.executable).parent
JUP = str(BIN / "jup")
FIXTURE_DISTS = {"jupfixture-sample": FIXTURES / "sample-plugin", "jupfixture-broken": FIXTURES / "broken-plugin"}
JUP_ENV_VARS = ("JUP_BLOCK_PLUGINS", "JUP_ALLOW_PLUGINS", "JUP_TRACE_PLUGINS", "JUP_CONFIG_DIR",
                "JUPFIXTURE_BROKEN", "JUP_DEBUG")


def _installed(dist: str) -> bool:
    """Installed, and with the entry points its pyproject.toml declares now (else reinstall)."""
    try:
        found = {ep.name for ep in md.distribution(dist).entry_points if ep.group == "jup.plugins"}
    except md.PackageNotFoundError:
        return False
    with open(FIXTURE_DISTS[dist] / "pyproject.toml", "rb") as fh:
        declared = tomllib.load(fh)["project"]["entry-points"]["jup.plugins"]
    return found == set(declared)


def ensure_fixture_plugins() -> None:
    """Install the fixture plugin distributions into this venv unless they are there already."""
    missing = [d for d in FIXTURE_DISTS if not _installed(d)]
    if not missing:
        return
    with open("/tmp/jupfixture-install.lock", "w") as lock:  # one pip at a time across test runs
        fcntl.flock(lock, fcntl.LOCK_EX)
        for dist in missing:
            if _installed(dist):
                continue
            subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                            "-e", str(FIXTURE_DISTS[dist])], check=True, timeout=300,
                           stdout=subprocess.DEVNULL)


def clean_env(config_dir: Path, **extra: str) -> dict[str, str]:
    """The environment for a `jup` run: no inherited jup settings, the user config in config_dir."""
    env = {k: v for k, v in os.environ.items() if k not in JUP_ENV_VARS}
    env["JUP_CONFIG_DIR"] = str(config_dir)
    env.update(extra)
    return env


def run_jup(*args: str, config_dir: Path, timeout: float = 60, **env: str) -> subprocess.CompletedProcess:
    """Run the venv's `jup` executable as a user would, capturing its output."""
    return subprocess.run([JUP, *args], capture_output=True, text=True, timeout=timeout,
                          env=clean_env(config_dir, **env), cwd=str(config_dir))


def table_rows(stdout: str) -> dict[str, list[str]]:
    """Parse a `jup plugins list` table into {name: [distribution, version, hooks, status]}."""
    lines = stdout.splitlines()
    header = lines[0]
    starts = [header.index(col) for col in ("NAME", "DISTRIBUTION", "VERSION", "HOOKS", "STATUS")]
    rows = {}
    for line in lines[1:]:
        cells = [line[a:b].strip() for a, b in zip(starts, starts[1:] + [None], strict=True)]
        rows[cells[0]] = cells[1:]
    return rows
