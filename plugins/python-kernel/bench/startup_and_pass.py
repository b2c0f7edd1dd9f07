"""Cold start to kernel_info_reply and `pass` round trip (reply + idle): jup's Python kernel vs
ipykernel, in one run. Usage: python bench/startup_and_pass.py [ROUNDS]"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time

import zmq
from jupyter_client import BlockingKernelClient
from jupyter_client.connect import write_connection_file

KERNELS = {
    "jup": [sys.executable, "-m", "jup.python", "-f"],
    "ipykernel": [sys.executable, "-m", "ipykernel_launcher", "-f"],
}


def cold_start(argv: list[str], tmp: str) -> tuple[float, BlockingKernelClient, subprocess.Popen]:
    conn = os.path.join(tmp, f"k-{time.monotonic_ns()}.json")
    write_connection_file(conn)
    kc = BlockingKernelClient(connection_file=conn)
    kc.load_connection_file()
    # The client connects before the kernel binds; ZeroMQ's default 100 ms reconnect interval would
    # round every start up to the next 100 ms, so retry every 5 ms for both kernels.
    kc.context.setsockopt(zmq.RECONNECT_IVL, 5)
    kc.start_channels()
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv + [conn], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    msg_id = kc.kernel_info()  # queued by ZeroMQ until the kernel binds
    for _ in range(600):  # bounded: 600 x 0.1 s
        try:
            reply = kc.get_shell_msg(timeout=0.1)
        except Exception:
            continue
        if reply["parent_header"].get("msg_id") == msg_id:
            break
    return time.perf_counter() - t0, kc, proc


def pass_round_trip(kc: BlockingKernelClient, n: int) -> float:
    kc.wait_for_ready(timeout=30)  # iopub subscribed (a PUB drops what it sends before that)
    times = []
    kc.execute_interactive("pass", timeout=30)
    for _ in range(n):
        t0 = time.perf_counter()
        kc.execute_interactive("pass", timeout=30)  # returns after reply and idle
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def rss_mib(pid: int) -> float:
    """Resident memory of a process (Linux /proc), in MiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    res: dict[str, dict[str, list[float]]] = {k: {"start": [], "pass": [], "rss": []} for k in KERNELS}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(rounds):
            for name, argv in KERNELS.items():
                t, kc, proc = cold_start(argv, tmp)
                res[name]["start"].append(t)
                res[name]["pass"].append(pass_round_trip(kc, 50))
                res[name]["rss"].append(rss_mib(proc.pid))
                kc.shutdown()
                proc.wait(timeout=10)
                kc.stop_channels()
    for name in KERNELS:
        print(f"{name:10s} cold start to kernel_info_reply: {statistics.median(res[name]['start'])*1000:7.1f} ms"
              f"   pass round trip: {statistics.median(res[name]['pass'])*1000:6.2f} ms"
              f"   idle RSS: {statistics.median(res[name]['rss']):5.1f} MiB")
    s = statistics.median(res["jup"]["start"]) / statistics.median(res["ipykernel"]["start"])
    p = statistics.median(res["jup"]["pass"]) / statistics.median(res["ipykernel"]["pass"])
    r = statistics.median(res["jup"]["rss"]) / statistics.median(res["ipykernel"]["rss"])
    print(f"ratio jup/ipykernel: start {s:.2f}x, pass {p:.2f}x, idle RSS {r:.2f}x")


if __name__ == "__main__":
    main()
