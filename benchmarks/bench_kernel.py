"""Kernel: jup's Python kernel (`python -m jup.python -f FILE`) against ipykernel, driven by the same
client (jupyter_client's BlockingKernelClient) on the same machine, in one run, alternating.

Measures and targets (jup / ipykernel; issue 13, with issue 3's looser ones in the JSON):
cold start to kernel_info_reply <= 0.25x; warm-pool start <= 5 ms; `pass` reply + idle <= 0.25x;
1000 pipelined executes >= 12x the rate; 200k print lines >= 3x the rate (and no more stream
messages); a 5 MiB display_data <= 0.5x; interrupt of `while True: pass` <= 0.2x; idle RSS <= 0.6x.
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Result, main  # noqa: E402

NAME = "kernel"
PEER = "ipykernel"
PY = sys.executable
ARGV = {"jup": [PY, "-m", "jup.python"], "peer": [PY, "-m", "ipykernel_launcher"]}
if os.environ.get("JUP_BENCH_KERNEL_ARGV"):  # e.g. to bench another build: "python -m jup.python"
    ARGV["jup"] = os.environ["JUP_BENCH_KERNEL_ARGV"].split()

# (issue 13 target, issue 3 target, floor on this machine from issue 13)
TARGETS = {
    "cold start": (0.25, 0.35, "~36 ms for a minimal signed kernel"),
    "pass round trip": (0.25, 0.3, "~0.25 ms"),
    "1000 pipelined executes": (12.0, 5.0, "~10k requests/s"),
    "200k print lines": (3.0, 2.0, "~1.6M lines/s"),
    "5 MiB display_data": (0.5, 0.5, ""),
    "interrupt while True": (0.2, 1.0, ""),
    "idle RSS": (0.6, 0.8, ""),
}


class Kernel:
    """One kernel process plus a jupyter_client client; the same harness for both kernels."""

    def __init__(self, which: str, workdir: Path, ctx):
        self.which = which
        self.workdir = workdir
        self.ctx = ctx
        self.proc: subprocess.Popen | None = None
        self.kc = None
        self.log = workdir / f"{which}-{uuid.uuid4().hex[:6]}.log"

    def start(self) -> float:
        """Start the process and return seconds until its kernel_info_reply arrived."""
        from jupyter_client.blocking import BlockingKernelClient
        from jupyter_client.connect import write_connection_file

        fname, _ = write_connection_file(str(self.workdir / f"kernel-{uuid.uuid4().hex}.json"),
                                         ip="127.0.0.1", key=uuid.uuid4().hex.encode())
        self.conn = fname
        kc = BlockingKernelClient(context=self.ctx)
        kc.load_connection_file(fname)
        log = open(self.log, "ab")
        t0 = time.perf_counter()
        self.proc = subprocess.Popen([*ARGV[self.which], "-f", fname], stdin=subprocess.DEVNULL,
                                     stdout=log, stderr=log, cwd=self.workdir)
        log.close()
        kc.start_channels(hb=False)
        msg_id = kc.kernel_info()
        deadline = time.monotonic() + 60
        problem = "no kernel_info_reply within 60 s"
        while time.monotonic() < deadline:  # returns as soon as the reply is in; notices a dead kernel
            if self.proc.poll() is not None:
                problem = f"the process exited with code {self.proc.returncode}"
                break
            try:
                msg = kc.get_shell_msg(timeout=0.05)
            except Exception:
                continue
            if msg["parent_header"].get("msg_id") == msg_id:
                problem = ""
                break
        took = time.perf_counter() - t0
        if problem:
            self.kc = kc
            self.stop()
            tail = " | ".join(self.log.read_text(errors="replace").strip().splitlines()[-3:])
            raise RuntimeError(f"{self.which} kernel: {problem}: {tail}")
        self.kc = kc
        return took

    def stop(self) -> None:
        if self.kc is not None:
            self.kc.stop_channels()
            self.kc = None
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None
        if getattr(self, "conn", None):
            Path(self.conn).unlink(missing_ok=True)

    # ---- helpers over the client -------------------------------------------------------------------
    def drain(self) -> None:
        """Drop iopub messages left from earlier measures (bounded)."""
        for _ in range(100_000):
            try:
                self.kc.get_iopub_msg(timeout=0.05)
            except Exception:
                return

    def until_idle(self, msg_id: str, timeout: float = 120.0, on_msg=None) -> None:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{self.which}: no idle within {timeout} s")
            msg = self.kc.get_iopub_msg(timeout=left)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if on_msg is not None:
                on_msg(msg)
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                return

    def run_cell(self, code: str, timeout: float = 120.0) -> dict:
        reply = self.kc.execute(code, reply=True, timeout=timeout)
        self.until_idle(reply["parent_header"]["msg_id"], timeout)
        return reply

    # ---- measures ------------------------------------------------------------------------------------
    def round_trip(self) -> float:
        t0 = time.perf_counter()
        self.run_cell("pass")
        return time.perf_counter() - t0

    def pipelined(self, n: int) -> float:
        """Requests per second for n executes sent back to back, until the last reply."""
        t0 = time.perf_counter()
        ids = [self.kc.execute("pass") for _ in range(n)]
        pending = set(ids)
        deadline = time.monotonic() + 120
        while pending and time.monotonic() < deadline:
            msg = self.kc.get_shell_msg(timeout=deadline - time.monotonic())
            pending.discard(msg["parent_header"].get("msg_id"))
        took = time.perf_counter() - t0
        if pending:
            raise TimeoutError(f"{self.which}: {len(pending)} of {n} replies missing")
        self.until_idle(ids[-1])
        self.drain()
        return n / took

    def prints(self, lines: int) -> tuple[float, int, int]:
        """(lines/s to idle, stream messages, lines received) for a loop of print()."""
        count = {"msgs": 0, "lines": 0}

        def on(msg):
            if msg["msg_type"] == "stream":
                count["msgs"] += 1
                count["lines"] += msg["content"]["text"].count("\n")
        t0 = time.perf_counter()
        msg_id = self.kc.execute(f"for i in range({lines}): print(i)")
        self.until_idle(msg_id, on_msg=on)
        took = time.perf_counter() - t0
        self.kc.get_shell_msg(timeout=10)
        return lines / took, count["msgs"], count["lines"]

    def big_display(self) -> tuple[float, int]:
        """Seconds from execute to idle for display() of a 5 MiB text/html, and bytes received."""
        got = {"bytes": 0}

        def on(msg):
            if msg["msg_type"] == "display_data":
                got["bytes"] += len(msg["content"]["data"].get("text/html", ""))
        t0 = time.perf_counter()
        msg_id = self.kc.execute("display(_Big())")
        self.until_idle(msg_id, on_msg=on)
        took = time.perf_counter() - t0
        self.kc.get_shell_msg(timeout=10)
        return took, got["bytes"]

    def interrupt(self) -> float:
        """Seconds from SIGINT to the execute_reply of a running `while True: pass`."""
        msg_id = self.kc.execute("print('spinning', flush=True)\nwhile True: pass")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            msg = self.kc.get_iopub_msg(timeout=deadline - time.monotonic())
            if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "stream":
                break
        t0 = time.perf_counter()
        os.kill(self.proc.pid, signal.SIGINT)
        reply = self.kc.get_shell_msg(timeout=30)
        took = time.perf_counter() - t0
        if reply["content"].get("status") != "error":
            raise RuntimeError(f"{self.which}: interrupt gave {reply['content'].get('status')}")
        self.until_idle(msg_id)
        return took

    def rss_mib(self) -> float:
        import psutil
        p = psutil.Process(self.proc.pid)
        return (p.memory_info().rss + sum(c.memory_info().rss for c in p.children(recursive=True))) / 2**20


def client_parse_ms() -> float:
    """What jupyter_client spends deserializing a 5 MiB display_data: a floor under that measure."""
    import jupyter_client.session as jcs

    s = jcs.Session(key=b"k")
    frames = s.serialize(s.msg("display_data", {"data": {"text/html": "x" * (5 << 20)}, "metadata": {},
                                                "transient": {}}))
    samples = []
    for _ in range(5):
        _, rest = s.feed_identities(list(frames))
        t0 = time.perf_counter()
        s.deserialize(rest)
        samples.append((time.perf_counter() - t0) * 1000)
        s.digest_history.clear()  # the same signature again is not a replay here
    return statistics.median(samples)


def _result(measure: str, unit: str, jup, peer, higher: bool = False, note: str = "", **extra) -> Result:
    t13, t3, floor = TARGETS[measure]
    return Result(measure, unit, jup, peer, higher_is_better=higher, target=t13, floor=floor, note=note,
                  extra={"issue3_target": t3, **extra})


def _median(xs):
    return statistics.median(xs) if xs else None


def run(quick: bool = False) -> list[Result]:
    import zmq

    ctx = zmq.Context()
    ctx.setsockopt(zmq.RECONNECT_IVL, 2)  # connect to a starting kernel within 2 ms of its bind
    work = Path(tempfile.mkdtemp(prefix="jup-bench-kernel-"))
    kinds = ("jup", "peer")
    results: list[Result] = []
    errors: dict[str, str] = {}

    # -- cold start: fresh processes, alternating, one unmeasured warm-up each (disk cache) --------
    starts: dict[str, list[float]] = {k: [] for k in kinds}
    idle_rss: dict[str, list[float]] = {k: [] for k in kinds}
    for i in range(3 if quick else 8):
        for k in kinds:
            if k in errors:
                continue
            kern = Kernel(k, work, ctx)
            try:
                took = kern.start()
                if i:
                    starts[k].append(took * 1000)
                    kern.run_cell("pass")  # a kernel that has run a cell, then waits: idle memory
                    idle_rss[k].append(kern.rss_mib())
            except Exception as e:
                errors[k] = str(e).splitlines()[0]
            finally:
                kern.stop()
    note = "; ".join(f"{k}: {v}" for k, v in errors.items())
    results.append(_result("cold start", "ms", _median(starts["jup"]), _median(starts["peer"]),
                           note=note or f"process start to kernel_info_reply, median of {len(starts['peer'])}"))

    # -- warm pool ------------------------------------------------------------------------------------
    results.append(warm_pool(quick))

    # -- steady state: both kernels up, measures alternate -------------------------------------------
    live = {}
    for k in kinds:
        if k in errors:
            continue
        kern = Kernel(k, work, ctx)
        try:
            kern.start()
            for _ in range(20):
                kern.run_cell("pass")
            kern.run_cell("class _Big:\n    _s = 'x' * (5 << 20)\n    def _repr_html_(self):\n"
                          "        return self._s\n")
            live[k] = kern
        except Exception as e:
            errors[k] = str(e).splitlines()[0]
            kern.stop()
    try:
        rounds = 2 if quick else 5
        rtt: dict[str, list[float]] = {k: [] for k in live}
        pipe: dict[str, list[float]] = {k: [] for k in live}
        out: dict[str, list[tuple]] = {k: [] for k in live}
        disp: dict[str, list[tuple]] = {k: [] for k in live}
        intr: dict[str, list[float]] = {k: [] for k in live}
        lines = 20_000 if quick else 200_000
        for _ in range(rounds):
            for k, kern in live.items():
                for _ in range(20 if quick else 60):
                    rtt[k].append(kern.round_trip() * 1000)
            for k, kern in live.items():
                pipe[k].append(kern.pipelined(200 if quick else 1000))
            for k, kern in live.items():
                out[k].append(kern.prints(lines))
            for k, kern in live.items():
                disp[k].append(kern.big_display())
            for k, kern in live.items():
                intr[k].append(kern.interrupt() * 1000)

        def pick(d, k, f=_median):
            return f(d[k]) if k in d and d[k] else None
        results.append(_result("pass round trip", "ms", pick(rtt, "jup"), pick(rtt, "peer"),
                               note="execute reply + idle, median"))
        results.append(_result("1000 pipelined executes", "exec/s", pick(pipe, "jup"), pick(pipe, "peer"),
                               higher=True, note="sent back to back, until the last reply; median"))
        med_out = {k: (statistics.median(r[0] for r in v), max(r[1] for r in v), min(r[2] for r in v))
                   for k, v in out.items()}
        msgs = {k: v[1] for k, v in med_out.items()}
        got = {k: v[2] for k, v in med_out.items()}
        results.append(_result("200k print lines" if not quick else "200k print lines", "lines/s",
                               med_out.get("jup", (None,))[0], med_out.get("peer", (None,))[0], higher=True,
                               note=f"{lines} lines; stream messages jup {msgs.get('jup')} vs peer "
                                    f"{msgs.get('peer')}; lines received jup {got.get('jup')} vs peer "
                                    f"{got.get('peer')}", stream_messages=msgs, lines_received=got))
        med_disp = {k: (statistics.median(r[0] for r in v) * 1000, min(r[1] for r in v))
                    for k, v in disp.items()}
        results.append(_result("5 MiB display_data", "ms", med_disp.get("jup", (None,))[0],
                               med_disp.get("peer", (None,))[0],
                               note="execute to idle, text/html of 5 MiB; bytes received "
                                    f"jup {med_disp.get('jup', (0, 0))[1]} vs peer {med_disp.get('peer', (0, 0))[1]}; "
                                    f"the client alone takes {client_parse_ms():.1f} ms to deserialize it"))
        results.append(_result("interrupt while True", "ms", pick(intr, "jup"), pick(intr, "peer"),
                               note="SIGINT to execute_reply, median"))
        results.append(_result("idle RSS", "MiB", _median(idle_rss["jup"]), _median(idle_rss["peer"]),
                               note="fresh kernel after kernel_info and one `pass`; process and children; "
                                    "after the measures above: " + ", ".join(
                                        f"{k} {kern.rss_mib():.1f}" for k, kern in live.items())))
    finally:
        for kern in live.values():
            kern.stop()
        ctx.term()
    if errors:
        for r in results:
            if r.jup is None and "jup" in errors and not r.note.startswith("jup"):
                r.note = f"jup kernel unavailable: {errors['jup']}"
    return results


def warm_pool(quick: bool) -> Result:
    """Time to take a kernel from jup's warm pool and get its kernel_info_reply."""
    measure = "warm-pool start"
    try:
        from jup.core.manager import KernelPool  # noqa: F401
    except ImportError as e:
        return Result(measure, "ms", None, None, absolute=5.0, note=f"no KernelPool yet ({e})")
    try:
        return _warm_pool(KernelPool, 3 if quick else 10)
    except Exception as e:  # the pool is young: report rather than lose the other figures
        return Result(measure, "ms", None, None, absolute=5.0, note=f"failed: {type(e).__name__}: {e}")


def _warm_pool(KernelPool, n: int) -> Result:
    import asyncio

    async def go() -> list[float]:
        pool = KernelPool("python", size=1)
        cwd = tempfile.mkdtemp(prefix="jup-bench-notebook-")
        samples = []
        try:
            for _ in range(n + 1):
                await pool.start(wait=True)  # refilled in the background after each take
                if not pool.ready:
                    raise RuntimeError("the pool did not fill (a start failed)")
                t0 = time.perf_counter()
                km = await pool.take(cwd=cwd)
                kc = km.client()
                kc.start_channels()
                await kc.kernel_info(reply=True, timeout=30)
                samples.append((time.perf_counter() - t0) * 1000)
                kc.stop_channels()
                await km.shutdown(now=True)
        finally:
            await pool.shutdown()
        return samples[1:]
    samples = asyncio.run(go())
    return Result("warm-pool start", "ms", statistics.median(samples), None, absolute=5.0,
                  note=f"take from a pool of 1 (moved to a notebook dir) to kernel_info_reply, "
                       f"median of {len(samples)}")


if __name__ == "__main__":
    main(NAME, run, PEER)
