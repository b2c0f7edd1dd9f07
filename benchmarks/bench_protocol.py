"""Protocol: jup's Session and client against jupyter_client's, on the same data and the same kernel.

- sign + verify: serialize then deserialize 1 KB messages (HMAC-SHA256, replay check on), messages/s.
  Target (issue 2): jup >= 2x jupyter_client.
- round trip: `execute("pass", reply=True)` then wait for the kernel's `idle` on iopub, both clients
  against one ipykernel, alternating in rounds; median ms. Target: jup <= 0.7x jupyter_client.
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

    def rate_theirs() -> float:
        tx, rx = jcs.Session(key=KEY), jcs.Session(key=KEY)
        msgs = [tx.msg("execute_request", PAYLOAD) for _ in range(n)]
        t0 = time.perf_counter()
        for msg in msgs:
            _, frames = rx.feed_identities(tx.serialize(msg))
            rx.deserialize(frames)
        return n / (time.perf_counter() - t0)

    a, b = [], []
    for _ in range(3):
        a.append(rate_ours())
        b.append(rate_theirs())
    return max(a), max(b), size


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


def round_trips(reps: int, rounds: int) -> tuple[float | None, float, str]:
    """Median ms of execute('pass') reply + idle, for our client and jupyter_client's, one ipykernel."""
    from jupyter_client.manager import KernelManager

    km = KernelManager(kernel_name="python3")
    km.start_kernel()
    note = ""
    try:
        jc = km.blocking_client()
        jc.start_channels()
        jc.wait_for_ready(timeout=60)
        info = km.get_connection_info(session=False)
        info = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in info.items()}

        def jc_once() -> float:
            t0 = time.perf_counter()
            reply = jc.execute("pass", reply=True, timeout=10)
            _wait_idle(jc.get_iopub_msg, reply["parent_header"]["msg_id"])
            return time.perf_counter() - t0

        ours = None
        try:
            from jup.core.client import BlockingKernelClient
            ours = BlockingKernelClient(info)
            ours.start_channels()
            ours.wait_for_ready(timeout=60)
        except Exception as e:  # the client is young: report it rather than lose the peer's figure
            note = f"jup client failed: {type(e).__name__}: {e}"
            ours = None

        def ours_once() -> float:
            t0 = time.perf_counter()
            reply = ours.execute("pass", reply=True, timeout=10)
            _wait_idle(ours.get_iopub_msg, reply["parent_header"]["msg_id"])
            return time.perf_counter() - t0

        samples: dict[str, list[float]] = {"jc": [], "ours": []}
        for get, fn in [(jc.get_iopub_msg, jc_once)] + ([(ours.get_iopub_msg, ours_once)] if ours else []):
            _drain(get)
            for _ in range(10):
                fn()  # warm up both paths
        for _ in range(rounds):
            # Each client's iopub also got the other's traffic: drop it first, so neither pays for it.
            _drain(jc.get_iopub_msg)
            for _ in range(reps):
                samples["jc"].append(jc_once())
            if ours:
                _drain(ours.get_iopub_msg)
                for _ in range(reps):
                    samples["ours"].append(ours_once())
        jc.stop_channels()
        if ours:
            ours.stop_channels()
        med = {k: statistics.median(v) * 1000 if v else None for k, v in samples.items()}
        return med["ours"], med["jc"], note
    finally:
        km.shutdown_kernel(now=True)


def run(quick: bool = False) -> list[Result]:
    n = 2000 if quick else 20000
    ours_rate, jc_rate, size = sign_verify(n)
    results = [Result("sign+verify 1 KB", "msg/s", ours_rate, jc_rate, higher_is_better=True, target=2.0,
                      note=f"serialize+deserialize, {size} B of JSON parts, best of 3 x {n}")]
    reps, rounds = (20, 2) if quick else (100, 5)
    ours_ms, jc_ms, note = round_trips(reps, rounds)
    results.append(Result("pass round trip, ipykernel", "ms", ours_ms, jc_ms, target=0.7,
                          note=note or f"execute reply + idle, median of {reps * rounds}"))
    return results


if __name__ == "__main__":
    main(NAME, run, PEER)
