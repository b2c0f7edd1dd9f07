"""__NAME__ as jup sees it: discovered through its entry point, its hooks answering."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from jup.core.pluginhost import get_plugin_manager

NAME = "__NAME__"


def test_jup_discovers_the_plugin_through_its_entry_point():
    host = get_plugin_manager(reload=True)
    record = host.record(NAME)
    assert record is not None, f"{NAME} is not installed: run `pip install -e .` first"
    assert record.status == "loaded", record.error
    assert record.distribution == NAME
    assert "jup_subcommands" in record.hooks


def test_subcommand_runs_through_the_jup_command():
    jup = Path(sys.executable).parent / "jup"
    out = subprocess.run([str(jup), NAME, "world"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"hello world from {NAME}"


def test_magic_is_offered_to_python_kernels_only():
    host = get_plugin_manager()
    magics = {m.name: m for m in host.collect("jup_magics", language="python")}
    assert magics["__MODULE___hello"].func("there") == "hello there"
    assert "__MODULE___hello" not in {m.name for m in host.collect("jup_magics", language="r")}
