"""The benchmarks keep running as the code under them changes: a quick protocol run end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUN = ROOT / "benchmarks" / "run.py"


def _run(*args: str, env: dict | None = None, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(RUN), *args], capture_output=True, text=True,
                          timeout=timeout, env=env, stdin=subprocess.DEVNULL)


def test_runner_lists_every_benchmark_and_refuses_unknown_names():
    res = _run("--list")
    assert res.returncode == 0, res.stderr
    names = {ln.split()[0] for ln in res.stdout.splitlines() if ln.strip()}
    assert names == {p.stem[len("bench_"):] for p in (ROOT / "benchmarks").glob("bench_*.py")}
    assert {"protocol", "kernel"} <= names
    bad = _run("no-such-bench")
    assert bad.returncode == 2 and "protocol" in bad.stderr


def test_quick_protocol_run_prints_the_table_and_saves_json(tmp_path):
    env = {**os.environ, "JUP_BENCH_RESULTS": str(tmp_path)}
    res = _run("--quick", "protocol", env=env)
    assert res.returncode == 0, res.stdout + res.stderr
    header = next(ln for ln in res.stdout.splitlines() if ln.startswith("measure"))
    assert header.split() == ["measure", "jup", "jupyter_client", "ratio", "target", "met"]
    record = json.loads((tmp_path / "protocol-latest.json").read_text())
    rows = {r["measure"]: r for r in record["results"]}
    sign = rows["sign+verify 1 KB"]
    assert sign["jup"] > 0 and sign["peer"] > 0 and sign["ratio"] == sign["jup"] / sign["peer"]
    assert rows["pass round trip, ipykernel"]["peer"] > 0
    assert record["machine"]["cpus"] >= 1
