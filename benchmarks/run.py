"""Run jup's benchmarks side by side with the peers: every `bench_*.py` here, or the ones named.

    .venv/bin/python benchmarks/run.py                  # all
    .venv/bin/python benchmarks/run.py protocol kernel  # by name (bench_protocol.py, bench_kernel.py)
    .venv/bin/python benchmarks/run.py --quick          # fewer repetitions, a smoke run
    .venv/bin/python benchmarks/run.py --list

Each prints a table (measure, jup, peer, ratio, target, met) and is saved as JSON under
benchmarks/results/ (git-ignored). The exit code is 0 even when targets are missed: these are
measurements, not tests; 1 means a benchmark itself crashed.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _common import save, table  # noqa: E402


def available() -> dict[str, Path]:
    """Benchmark name -> file, for every bench_NAME.py beside this runner."""
    return {p.stem[len("bench_"):]: p for p in sorted(HERE.glob("bench_*.py"))}


def load(path: Path):
    spec = importlib.util.spec_from_file_location(f"jup_bench_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Run jup's benchmarks against the peers.")
    ap.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    ap.add_argument("--quick", action="store_true", help="fewer repetitions: a smoke run, not figures")
    ap.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = ap.parse_args(argv)
    benches = available()
    if args.list:
        for name, path in benches.items():
            doc = (load(path).__doc__ or "").strip().splitlines()
            print(f"{name:<12} {doc[0] if doc else ''}")
        return 0
    unknown = [n for n in args.names if n not in benches]
    if unknown:
        print(f"No benchmark named {', '.join(unknown)}; there are: {', '.join(benches)}.", file=sys.stderr)
        return 2
    failed = []
    for name in args.names or list(benches):
        module = load(benches[name])
        peer = getattr(module, "PEER", "peer")
        started = time.time()
        print(f"== {name} (jup vs {peer}){' quick' if args.quick else ''}", flush=True)
        try:
            results = module.run(args.quick)
        except Exception:
            traceback.print_exc()
            failed.append(name)
            continue
        print(table(f"{name}: jup vs {peer}, {time.time() - started:.0f} s", results, peer))
        print(f"saved {save(name, results, peer, started)}\n", flush=True)
    if failed:
        print(f"crashed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
