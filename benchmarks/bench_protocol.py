"""Protocol: jup's Session and client against jupyter_client's, on the same data and the same kernel.

- sign + verify: serialize then deserialize 1 KB messages (HMAC-SHA256, replay check on), messages/s.
  Target (issue 2): jup >= 2x jupyter_client.
- round trip: `execute("pass", reply=True)` then wait for the kernel's `idle` on iopub, both clients
  against one ipykernel, alternating in rounds; median ms. Target: jup <= 0.7x jupyter_client.
  The same against a minimal kernel that answers at once (`_minikernel.py`): client + wire alone.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Result, main  # noqa: E402

NAME = "protocol"
PEER = "jupyter_client"
KEY = b"0123456789abcdef0123456789abcdef"
PAYLOAD = {"code": "x" * 900, "silent": False, "store_history": True, "user_expressions": {},
           "allow_stdin": True, "stop_on_error": True}  # about 1 KB of JSON with the header


def sign_verify(n: int) -> tuple[float, float, int]:
    """Messages per second through serialize + deserialize, for jup and jupyter_client."""
    import jupyter_client.session as jcs

    from jup.core.protocol import Session

    ours = Session(KEY)
    size = sum(len(f) for f in ours.serialize(ours.msg("execute_request", PAYLOAD))[2:6])

    def rate_ours() -> float:
        tx, rx = Session(KEY, session_id=ours.session_id), Session(KEY)
        msgs = [tx.msg("execute_request", PAYLOAD) for _ in range(n)]
        t0 = time.perf_counter()
        for msg in msgs:
            rx.deserialize(tx.serialize(msg))
        return n / (time.perf_counter() - t0)

    def rate_theirs(packer: str | None = None) -> float:
        kw = {"packer": packer, "unpacker": packer} if packer else {}
        tx, rx = jcs.Session(key=KEY, **kw), jcs.Session(key=KEY, **kw)
        msgs = [tx.msg("execute_request", PAYLOAD) for _ in range(n)]
        t0 = time.perf_counter()
        for msg in msgs:
            _, frames = rx.feed_identities(tx.serialize(msg))
            rx.deserialize(frames)
        return n / (time.perf_counter() - t0)

    a, b, c = [], [], []
    for _ in range(3):
        a.append(rate_ours())
        b.append(rate_theirs())
        c.append(rate_theirs("json"))
    return max(a), max(b), max(c), size, jcs.Session(key=KEY).packer


def _wait_idle(get_iopub, msg_id: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        msg = get_iopub(timeout=max(0.01, deadline - time.monotonic()))
        if (msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle"
                and msg["parent_header"].get("msg_id") == msg_id):
            return
    raise TimeoutError("no idle status within 10 s")


def _drain(get_iopub, limit: int = 100_000) -> None:
    for _ in range(limit):
        try:
            get_iopub(timeout=0.05)
        except Exception:  # queue.Empty or the client's timeout error: nothing left
            return


KERNELS = {
    "ipykernel": [sys.executable, "-m", "ipykernel_launcher", "-f"],
    "minimal kernel": [sys.executable, str(Path(__file__).resolve().parent / "_minikernel.py")],
}


def round_trips(kernel: str, reps: int, rounds: int) -> tuple[float | None, float, str]:
    """Median ms of execute('pass') reply + idle, our client and jupyter_client's, on one kernel."""
    import subprocess
    import tempfile
    import uuid

    from jupyter_client.blocking import BlockingKernelClient as JcClient
    from jupyter_client.connect import write_connection_file

    work = Path(tempfile.mkdtemp(prefix="jup-bench-protocol-"))
    fname, info = write_connection_file(str(work / "kernel.json"), ip="127.0.0.1",
                                        key=uuid.uuid4().hex.encode())
    log = open(work / "kernel.log", "wb")
    proc = subprocess.Popen([*KERNELS[kernel], fname], stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    note = ""
    clients = []
    try:
        jc = JcClient()
        jc.load_connection_file(fname)
        jc.start_channels(hb=False)
        clients.append(jc)
        jc.wait_for_ready(timeout=60)

        def jc_once() -> float:
            t0 = time.perf_counter()
            reply = jc.execute("pass", reply=True, timeout=10)
            _wait_idle(jc.get_iopub_msg, reply["parent_header"]["msg_id"])
            return time.perf_counter() - t0

        ours = None
        try:
            from jup.core.client import BlockingKernelClient
            ours = BlockingKernelClient(fname)
            ours.start_channels()
            clients.append(ours)
            ours.wait_for_ready(timeout=60)
        except Exception as e:  # the client is young: report it rather than lose the peer's figure
            note = f"jup client failed: {type(e).__name__}: {e}"
            ours = None

        def ours_once() -> float:
            t0 = time.perf_counter()
            reply = ours.execute("pass", reply=True, timeout=10)
            _wait_idle(ours.get_iopub_msg, reply["parent_header"]["msg_id"])
            return time.perf_counter() - t0

        pairs = [("jc", jc.get_iopub_msg, jc_once)]
        if ours:
            pairs.append(("ours", ours.get_iopub_msg, ours_once))
        samples: dict[str, list[float]] = {"jc": [], "ours": []}
        for _, get, fn in pairs:
            _drain(get)
            for _ in range(10):
                fn()  # warm up both paths
        for _ in range(rounds):
            for name, get, fn in pairs:
                # Each client's iopub also got the other's traffic: drop it first, so neither pays for it.
                _drain(get)
                for _ in range(reps):
                    samples[name].append(fn())
        med = {k: statistics.median(v) * 1000 if v else None for k, v in samples.items()}
        return med["ours"], med["jc"], note
    finally:
        for c in clients:
            c.stop_channels()
        proc.kill()
        proc.wait(10)
        log.close()


def run(quick: bool = False) -> list[Result]:
    n = 2000 if quick else 20000
    ours_rate, jc_rate, jc_json_rate, size, packer = sign_verify(n)
    results = [Result("sign+verify 1 KB", "msg/s", ours_rate, jc_rate, higher_is_better=True, target=2.0,
                      note=f"serialize+deserialize, {size} B of JSON parts, best of 3 x {n}; jupyter_client "
                           f"packs with {packer} here (its default when installed); with packer='json' it "
                           f"does {jc_json_rate:,.0f} msg/s, a ratio of {ours_rate / jc_json_rate:.2f}x",
                      extra={"peer_json_packer": jc_json_rate, "peer_packer": packer})]
    reps, rounds = (20, 2) if quick else (100, 5)
    for kernel, target in (("ipykernel", 0.7), ("minimal kernel", None)):
        ours_ms, jc_ms, note = round_trips(kernel, reps, rounds)
        results.append(Result(f"pass round trip, {kernel}", "ms", ours_ms, jc_ms, target=target,
                              floor="~0.25 ms" if kernel == "minimal kernel" else "",
                              note=note or f"execute reply + idle, median of {reps * rounds}"
                              + ("; the kernel answers at once, so this is client + wire" if target is None
                                 else "")))
    return results


if __name__ == "__main__":
    main(NAME, run, PEER)
