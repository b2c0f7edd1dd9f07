"""What every benchmark shares: a result row, the side-by-side table, the JSON record, timing helpers.

A benchmark module `bench_NAME.py` defines `run(quick: bool) -> list[Result]`; `benchmarks/run.py`
calls it, prints the table and saves the JSON. Ratios are always jup / peer of the measured quantity,
so a time wants a ratio below its target and a rate one above.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

#: where JSON records go; JUP_BENCH_RESULTS moves them (the smoke test uses a temporary dir)
RESULTS = Path(os.environ.get("JUP_BENCH_RESULTS") or Path(__file__).resolve().parent / "results")


@dataclass
class Result:
    """One measure of jup beside its peer."""

    measure: str
    unit: str
    jup: float | None
    peer: float | None
    higher_is_better: bool = False
    target: float | None = None  #: the ratio jup/peer must be <= this (or >= for rates)
    absolute: float | None = None  #: or jup itself must be <= this (e.g. warm start in ms)
    floor: str = ""  #: what this machine can do at best, when known
    note: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.jup is None or not self.peer:
            return None
        return self.jup / self.peer

    @property
    def met(self) -> bool | None:
        """Whether the target holds; None when it could not be measured."""
        if self.absolute is not None and self.jup is not None:
            return self.jup <= self.absolute
        if self.target is None or self.ratio is None:
            return None
        return self.ratio >= self.target if self.higher_is_better else self.ratio <= self.target

    def target_text(self) -> str:
        if self.absolute is not None:
            return f"≤ {self.absolute:g} {self.unit}"
        if self.target is None:
            return ""
        return f"{'≥' if self.higher_is_better else '≤'} {self.target:g}×"


def fmt(v: float | None) -> str:
    if v is None:
        return "n/a"
    if v == 0:
        return "0"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.3g}"


def table(title: str, results: list[Result], peer_name: str) -> str:
    """The side-by-side table a person reads."""
    head = ["measure", "jup", peer_name, "ratio", "target", "met"]
    rows = [[f"{r.measure} ({r.unit})", fmt(r.jup), fmt(r.peer),
             "n/a" if r.ratio is None else f"{r.ratio:.3g}×", r.target_text(),
             {True: "yes", False: "NO", None: "-"}[r.met]] for r in results]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows, strict=False)]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    out = [title, line.format(*head), line.format(*("-" * w for w in widths))]
    out += [line.format(*row) for row in rows]
    notes = [f"  {r.measure}: {r.note}" for r in results if r.note]
    floors = [f"  {r.measure}: floor {r.floor}" for r in results if r.floor]
    return "\n".join(out + (["notes:"] + notes if notes else []) + floors)


def machine() -> dict:
    """Enough about the machine to compare runs."""
    try:
        load = os.getloadavg()
    except OSError:
        load = None
    return {"python": sys.version.split()[0], "platform": platform.platform(), "cpus": os.cpu_count(),
            "loadavg": load}


def save(name: str, results: list[Result], peer_name: str, started: float) -> Path:
    """Write benchmarks/results/NAME-<time>.json and NAME-latest.json."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    record = {"benchmark": name, "peer": peer_name,
              "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
              "seconds": round(time.time() - started, 1), "machine": machine(),
              "results": [{**asdict(r), "ratio": r.ratio, "met": r.met} for r in results]}
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(started))
    path = RESULTS / f"{name}-{stamp}.json"
    text = json.dumps(record, indent=1)
    path.write_text(text)
    (RESULTS / f"{name}-latest.json").write_text(text)
    return path


def median_time(fn: Callable[[], object], reps: int, warmup: int = 3) -> float:
    """Median wall time of `fn()` in seconds over `reps` runs after `warmup` unmeasured ones."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def interleaved(fns: dict[str, Callable[[], float]], rounds: int) -> dict[str, list[float]]:
    """Run each measuring function once per round, alternating, so drift in machine load hits all."""
    out: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(rounds):
        for k, fn in fns.items():
            out[k].append(fn())
    return out


def main(name: str, run: Callable[[bool], list[Result]], peer_name: str) -> None:
    """Let a bench module run alone: `python benchmarks/bench_x.py [--quick]`."""
    quick = "--quick" in sys.argv
    started = time.time()
    results = run(quick)
    print(table(f"{name}: jup vs {peer_name}", results, peer_name))
    print(f"saved {save(name, results, peer_name, started)}")
