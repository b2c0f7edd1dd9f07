"""Terminal frontend vs IPython, in one run: start to first prompt, `-c pass`, keystroke latency.

    .venv/bin/python benchmarks/bench_terminal.py [--runs 5] [--keys 40] [--kernel NAME]

Start-up is wall time of a fresh process (median of --runs, jup and IPython alternating). First prompt
is measured in a real pty (pexpect) until "In [1]:" is on screen, and "ready to edit" until a key
typed at that moment is echoed: jup shows an instant prompt before its editor runs, so the second
figure says when typing really shows. jup is timed as `python -m jup.terminal` and as `jup run
terminal` (which first discovers plugins), and `-c pass` also with only jup's own plugins (the
development venv has test fixture plugins installed, one of which imports traitlets). Keystroke
latency: a 200-line cell is pasted (bracketed paste), then single keys are typed at its end; each
latency is the time from writing the key to reading the echo of that key back from the terminal. Targets (issue 4): start and `-c pass`
<= 0.4x IPython; keystroke-to-screen < 16 ms. `benchmarks/run.py terminal` calls `run()`, which also
measures the floor: a bare `python -c pass` and a process that only imports prompt_toolkit's
PromptSession (what any prompt_toolkit shell pays before its first prompt).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PY = sys.executable
BIN = Path(PY).parent
ENV_BASE = {"TERM": "xterm-256color", "PAGER": "cat"}
PROMPT1 = r"In \[(?:\x1b\[[0-9;]*m)*1(?:\x1b\[[0-9;]*m)*\]:"  # colour codes may split the prompt


PEER = "ipython"


def _env(tmp: str) -> dict[str, str]:
    env = {**os.environ, **ENV_BASE, "IPYTHONDIR": os.path.join(tmp, "ipython"),
           "JUP_DATA_DIR": os.path.join(tmp, "jup")}
    env.pop("NO_COLOR", None)
    # as on a user's machine, bytecode caches are used and written: with this set, every module
    # edited since its last compile (our working tree, not ipython's site-packages) compiles anew
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def ours(*args: str, kernel: str | None) -> list[str]:
    return [PY, "-m", "jup.terminal", *(["--kernel", kernel] if kernel else []), *args]


def ipython(*args: str) -> list[str]:
    return [str(BIN / "ipython"), "--no-banner", *args]


def time_c_pass(argv: list[str], env: dict, runs: int) -> float:
    import threading

    times = []
    for _ in range(runs):
        t = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # not subprocess.run(timeout=...): its wait polls with sleeps of up to 50 ms, which were
        # counted as start-up time; a watchdog bounds the run instead and waitpid returns at once
        watchdog = threading.Timer(120, proc.kill)
        watchdog.start()
        code = proc.wait()
        times.append(time.perf_counter() - t)
        watchdog.cancel()
        if code != 0:
            raise subprocess.CalledProcessError(code, argv)
    return statistics.median(times)


def spawn(argv: list[str], env: dict):
    import pexpect
    child = pexpect.spawn(argv[0], argv[1:], env=env, encoding="utf-8", dimensions=(50, 120), timeout=60)
    child.delaybeforesend = None  # pexpect's default 50 ms pause would be counted as latency
    return child


PROBE = "zq"  # typed once the prompt shows; in no banner, prompt or escape sequence


def time_prompt_and_ready(argv: list[str], env: dict, runs: int) -> tuple[float, float]:
    """(s to "In [1]:" on screen, s until a key typed right then is echoed: ready to edit), medians.

    A shell may show its prompt before its editor runs (jup's instant prompt): the key typed at
    once waits in the terminal and shows when the editor draws it, so the second figure is when
    a person's typing really appears."""
    prompts, readies = [], []
    for _ in range(runs):
        t = time.perf_counter()
        child = spawn(argv, env)
        try:
            child.expect(PROMPT1)
            prompts.append(time.perf_counter() - t)
            child.send(PROBE)
            child.expect_exact(PROBE)
            readies.append(time.perf_counter() - t)
        finally:
            child.close(force=True)
    return statistics.median(prompts), statistics.median(readies)


def time_first_prompt(argv: list[str], env: dict, runs: int) -> float:
    return time_prompt_and_ready(argv, env, runs)[0]


def keystroke_latency(argv: list[str], env: dict, keys: int) -> tuple[float, float]:
    """(median, p95) ms from writing a key to reading its echo, at the end of a 200-line cell."""
    import pexpect
    child = spawn(argv, env)
    child.expect(PROMPT1)
    cell = "\n".join(f"value_{i} = {i} * 2  # line {i}" for i in range(199)) + "\nfinal = "
    child.send("\x1b[200~" + cell + "\x1b[201~")
    child.expect("final", timeout=30)
    for _ in range(50):  # drain the redraw of the pasted cell (bounded)
        try:
            child.read_nonblocking(65536, timeout=0.3)
        except pexpect.TIMEOUT:
            break
    lat = []
    for i in range(keys):
        ch = "abcdefghijklmnopqrstuvwxyz"[i % 26]
        t = time.perf_counter()
        child.send(ch)
        child.expect_exact(ch, timeout=10)
        lat.append((time.perf_counter() - t) * 1000)
        for _ in range(20):  # read the rest of this redraw before the next key (bounded)
            try:
                child.read_nonblocking(65536, timeout=0.02)
            except pexpect.TIMEOUT:
                break
    child.sendcontrol("c")
    child.close(force=True)
    lat.sort()
    return statistics.median(lat), lat[int(len(lat) * 0.95) - 1]


def _alternating(measure, argvs: list[list[str]], env: dict, runs: int) -> list:
    """Median of `measure` for each argv, one run of each in turn, so load on the (shared) machine
    hits all of them alike; one unmeasured warm-up each (disk cache, bytecode written, jup's
    instant prompt remembered). A measure may return a tuple of figures: each gets its median."""
    for argv in argvs:
        measure(argv, env, 1)
    times: list[list] = [[] for _ in argvs]
    for _ in range(runs):
        for argv, out in zip(argvs, times, strict=True):
            out.append(measure(argv, env, 1))
    medians = []
    for t in times:
        if isinstance(t[0], tuple):
            medians.append(tuple(statistics.median(x) for x in zip(*t, strict=True)))
        else:
            medians.append(statistics.median(t))
    return medians


JUP_ONLY = {"JUP_ALLOW_PLUGINS": "python,magics,terminal"}  # a user's install: no test fixture plugins


def jup_run(*args: str) -> list[str]:
    return [str(BIN / "jup"), "run", "terminal", *args]


def measure(runs: int, keys: int, kernel: str | None = None) -> dict:
    """Every figure, in one run, alternating jup and IPython: seconds (start-up) and ms (keys)."""
    with tempfile.TemporaryDirectory() as tmp:
        env = _env(tmp)
        floor_pt_argv = [PY, "-c", "import asyncio; from prompt_toolkit import PromptSession"]
        f = {}
        f["c_pass"], f["ip_c_pass"], f["floor_py"], f["floor_pt"], f["jup_run_c_pass"] = _alternating(
            time_c_pass, [ours("-c", "pass", kernel=kernel), ipython("-c", "pass"), [PY, "-c", "pass"],
                          floor_pt_argv, jup_run("-c", "pass")], env, runs)
        f["c_pass_jup_only"], = _alternating(time_c_pass, [ours("-c", "pass", kernel=kernel)],
                                             {**env, **JUP_ONLY}, runs)
        (f["prompt"], f["ready"]), (f["ip_prompt"], f["ip_ready"]), (f["jup_run_prompt"], f["jup_run_ready"]) = \
            _alternating(time_prompt_and_ready, [ours(kernel=kernel), ipython(), jup_run()], env, runs)
        f["keys"], f["keys95"] = keystroke_latency(ours(kernel=kernel), env, keys)
        f["ip_keys"], f["ip_keys95"] = keystroke_latency(ipython(), env, keys)
    return f


def run(quick: bool = False) -> list:
    """The measures for benchmarks/run.py: jup's terminal beside IPython's, with the floor."""
    from _common import Result

    f = measure(*((3, 20) if quick else (9, 60)))
    ms = {k: v * 1000 for k, v in f.items()}
    floor = f"python -c pass {ms['floor_py']:.0f} ms; + importing prompt_toolkit {ms['floor_pt']:.0f} ms"
    return [
        Result("-c pass", "ms", ms["c_pass"], ms["ip_c_pass"], target=0.4, floor=floor,
               note=f"`jup run terminal -c pass` {ms['jup_run_c_pass']:.0f} ms; with only jup's own plugins "
                    f"(no test fixtures) {ms['c_pass_jup_only']:.0f} ms"),
        Result("start to first prompt", "ms", ms["prompt"], ms["ip_prompt"], target=0.4, floor=floor,
               note=f"the instant prompt; `jup run terminal` {ms['jup_run_prompt']:.0f} ms"),
        Result("start until typing shows (ready to edit)", "ms", ms["ready"], ms["ip_ready"], target=0.4,
               floor=floor, note=f"a prompt_toolkit shell cannot beat {f['floor_pt'] / f['ip_ready']:.2f}x here; "
                                 f"`jup run terminal` {ms['jup_run_ready']:.0f} ms"),
        Result("keystroke median, 200-line cell", "ms", f["keys"], f["ip_keys"], absolute=16),
        Result("keystroke p95, 200-line cell", "ms", f["keys95"], f["ip_keys95"], absolute=16),
    ]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--keys", type=int, default=40)
    p.add_argument("--kernel", default=None, help="kernel for jup (default: the default kernel)")
    a = p.parse_args()
    f = measure(a.runs, a.keys, a.kernel)
    rows = [
        ("-c pass (s)", f["c_pass"], f["ip_c_pass"]),
        ("  jup run terminal -c pass (s)", f["jup_run_c_pass"], f["ip_c_pass"]),
        ("  only jup's own plugins (s)", f["c_pass_jup_only"], f["ip_c_pass"]),
        ("start to first prompt (s)", f["prompt"], f["ip_prompt"]),
        ("  jup run terminal (s)", f["jup_run_prompt"], f["ip_prompt"]),
        ("start until typing shows (s)", f["ready"], f["ip_ready"]),
        ("  jup run terminal (s)", f["jup_run_ready"], f["ip_ready"]),
        ("keystroke median, 200-line cell (ms)", f["keys"], f["ip_keys"]),
        ("keystroke p95, 200-line cell (ms)", f["keys95"], f["ip_keys95"]),
    ]
    print(f"{'measure':40} {'jup':>10} {'ipython':>10} {'ratio':>7}")
    for name, j, i in rows:
        print(f"{name:40} {j:10.3f} {i:10.3f} {j / i:7.2f}")
    print(f"floor: python -c pass {f['floor_py']:.3f} s; a process importing asyncio and prompt_toolkit's "
          f"PromptSession {f['floor_pt']:.3f} s")
    print("targets: start and -c pass ratio <= 0.40; keystroke < 16 ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
