"""Idle memory (issue 13: <= 0.6x ipykernel's RSS): a kernel that has run one `pass` cell has not
imported what only some cells need. Each module named here loads on first use; importing one at
start again costs every kernel its memory (argparse ~0.4 MiB, pathlib+tempfile ~1.3 MiB, html's
entity table ~0.4 MiB, hashlib/hmac's libcrypto ~3.6 MiB, asyncio ~5 MiB, jedi/pygments/matplotlib far more)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from pykernel_helpers import run, start_kernel, stdout_of

pytestmark = pytest.mark.timeout(120)

#: Loaded by cells, magics, errors or Tab, never by an idle kernel.
DEFERRED = ["asyncio", "argparse", "pygments", "jedi", "matplotlib", "numpy", "pathlib", "tempfile",
            "importlib.resources", "html", "difflib", "cProfile", "pstats", "timeit", "subprocess",
            "IPython", "hashlib", "_hashlib", "hmac"]  # the last three: libcrypto, ~3.6 MiB

PROBE = "import sys as _s, json as _j; print(_j.dumps(sorted(_s.modules)))"


def _modules(kc) -> set[str]:
    reply, msgs = run(kc, PROBE)
    assert reply["content"]["status"] == "ok", reply["content"]
    return set(json.loads(stdout_of(msgs).strip().splitlines()[-1]))


@pytest.fixture
def idle_kernel(tmp_path):
    # Only our kernel's own plugins: a dev venv's test-fixture plugins import what they like.
    kp = start_kernel(tmp_path, {"JUP_ALLOW_PLUGINS": "python,magics"})
    kc = kp.kc
    yield kc
    kp.stop()


def test_idle_kernel_has_not_imported_what_only_some_cells_need(idle_kernel):
    kc = idle_kernel
    reply, _ = run(kc, "pass")
    assert reply["content"]["status"] == "ok"
    loaded = _modules(kc)
    assert "jup.magics.timing" in loaded  # the magics are registered, their heavy imports are not
    assert not [m for m in DEFERRED if m in loaded]


def test_deferred_imports_still_load_when_a_magic_or_an_error_needs_them(idle_kernel):
    kc = idle_kernel
    reply, msgs = run(kc, "%timeit -n 1 -r 1 pass")
    assert reply["content"]["status"] == "ok", reply["content"]
    assert "per loop" in stdout_of(msgs)
    reply, msgs = run(kc, "%%capture --no-stderr out\nprint('kept')")
    assert reply["content"]["status"] == "ok", reply["content"]
    reply, _ = run(kc, "%%capture --bogus\npass")  # argparse's error is still a UsageError
    assert reply["content"]["status"] == "error"
    assert reply["content"]["ename"] == "UsageError"
    loaded = _modules(kc)
    assert {"timeit", "argparse"} <= loaded


def _arena_cap(env_extra: dict) -> str:
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    code = "from jup.python.__main__ import limit_malloc_arenas; print(limit_malloc_arenas())"
    return subprocess.run([sys.executable, "-c", code], env={**env, **env_extra}, capture_output=True,
                          text=True, timeout=60, check=True).stdout.strip()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc only")
def test_kernel_caps_malloc_arenas_unless_the_user_chose_a_number():
    assert _arena_cap({}) == "True"
    assert _arena_cap({"MALLOC_ARENA_MAX": "8"}) == "False"  # the user's setting is left alone
