"""Fetching the output a cell's budget held back (jup output_request on control), as a frontend does:
real kernel processes, our client, chunks read while another cell runs."""

from __future__ import annotations

import sys
import time

import pytest

from jup.core.errors import KernelError, KernelTimeout
from jup.core.kernelspec import KernelSpec
from jup.core.manager import BlockingKernelManager

pytestmark = pytest.mark.timeout(90)

BUDGET = 10000
# 4000 lines, some with non-ASCII text, so chunks may end inside a UTF-8 character
PRINT = "for i in range(4000): print(f'line {i} ' + 'é€😀'[i % 3] * (i % 7))"
EXPECTED = "".join(f"line {i} " + "é€😀"[i % 3] * (i % 7) + "\n" for i in range(4000))


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path_factory.mktemp("runtime")))
    mp.setenv("JUP_OUTPUT_BUDGET", str(BUDGET))
    yield
    mp.undo()


@pytest.fixture(scope="module")
def python(env):
    """Our Python kernel (a kernelbase kernel with the magics) and a client."""
    from jup.core.errors import NoSuchKernel
    from jup.core.kernelspec import get_kernel_spec
    try:
        spec = get_kernel_spec("python")
    except NoSuchKernel:
        pytest.skip("needs the jup Python kernel (the jup-python plugin is not installed)")
    with BlockingKernelManager(spec) as km:
        c = km.client()
        c.wait_for_ready(timeout=30)
        yield c
        c.stop_channels()


def _run(c, code, timeout=30):
    seen: list[dict] = []
    reply = c.execute_interactive(code, output_hook=seen.append, timeout=timeout)
    text = "".join(x["content"]["text"] for x in seen if x["msg_type"] == "stream")
    return reply, text


def test_full_output_fetched_in_chunks_while_another_cell_runs(python):
    c = python
    reply, shown = _run(c, PRINT)
    assert len(shown) < BUDGET + 2000, "the frontend got about the budget, not everything"
    jup = reply["metadata"]["jup"]
    output_id = reply["parent_header"]["msg_id"]
    assert jup["output_id"] == output_id
    assert jup["held_back"]["stdout"] == len(EXPECTED.encode())
    marker = [line for line in shown.splitlines() if "held back" in line]
    assert len(marker) == 1 and f"(output id {output_id})" in marker[0]

    busy = c.execute("import time; time.sleep(3)")  # control is answered while this runs
    deadline = time.monotonic() + 20
    while c.get_iopub_msg(timeout=10)["content"].get("execution_state") != "busy":
        assert time.monotonic() < deadline
    t0 = time.monotonic()
    parts, offset, chunks = [], 0, 0
    for _ in range(1000):  # bounded: the output is ~60 KB, 4 KB chunks
        chunk = c.fetch_output(output_id, offset=offset, size=4096, timeout=5)
        assert chunk["offset"] == offset and chunk["total"] == len(EXPECTED.encode())
        assert 0 < chunk["next_offset"] - offset <= 4096
        parts.append(chunk["text"])
        offset, chunks = chunk["next_offset"], chunks + 1
        if chunk["eof"]:
            break
    elapsed = time.monotonic() - t0
    assert "".join(parts) == EXPECTED, "chunks reassemble the printed text exactly"
    assert chunks > 10 and elapsed < 2.5, f"{chunks} chunks took {elapsed:.2f} s while a cell ran"
    assert c.get_shell_msg(timeout=20)["parent_header"]["msg_id"] == busy

    # the blocking client caps a chunk at 1 MiB; a past-the-end offset is an empty eof chunk
    whole = c.fetch_output(output_id, name="stdout", size=10**9)
    assert whole["text"] == EXPECTED and whole["eof"]
    end = c.fetch_output(output_id, offset=10**9)
    assert end["text"] == "" and end["eof"]

    # bad inputs: an unknown cell, a stream that was not held back, a cell that fit its budget
    with pytest.raises(KernelError, match="no output was held back"):
        c.fetch_output("no-such-msg-id")
    with pytest.raises(KernelError, match="no stderr was held back"):
        c.fetch_output(output_id, name="stderr")
    with pytest.raises(KernelError, match="must be 'stdout' or 'stderr'"):
        c.fetch_output(output_id, name="stdin")
    small, _ = _run(c, "print('small')")
    assert "jup" not in small["metadata"]
    with pytest.raises(KernelError, match="no output was held back"):
        c.fetch_output(small["parent_header"]["msg_id"])


def test_kernel_without_the_extension_times_out_with_a_clear_error(env):
    spec = KernelSpec(name="ipykernel-test", display_name="ipykernel", language="python",
                      argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"])
    with BlockingKernelManager(spec) as km:
        c = km.client()
        c.wait_for_ready(timeout=60)
        t0 = time.monotonic()
        with pytest.raises(KernelTimeout, match="may not support fetching held-back output"):
            c.fetch_output("any-id", timeout=1.0)
        assert time.monotonic() - t0 < 3
        # the client still works afterwards
        assert c.kernel_info(reply=True, timeout=20)["content"]["status"] == "ok"
        c.stop_channels()


def test_output_magic_pages_the_held_back_text(python):
    c = python
    reply, _ = _run(c, PRINT)
    n = reply["content"]["execution_count"]
    assert reply["metadata"]["jup"]["execution_count"] == n
    _run(c, "print('a later cell')")
    for line in (f"%output {n}", "%output", f"%output {n} stdout"):
        shown = c.execute(line, reply=True, timeout=30)["content"]
        assert shown["status"] == "ok", shown
        pages = [p for p in shown["payload"] if p["source"] == "page"]
        assert pages and pages[0]["data"]["text/plain"] == EXPECTED, line
    for line, why in ((f"%output {n} stderr", "no stderr of cell"), ("%output 99999", "was not held back"),
                      ("%output x", "expected a cell number")):
        shown = c.execute(line, reply=True, timeout=30)["content"]
        assert shown["status"] == "error" and why in shown["evalue"], (line, shown)


def test_output_magic_pages_line_ranges_and_cuts_huge_output_with_the_next_command(python):
    c = python
    reply, _ = _run(c, PRINT)
    n = reply["content"]["execution_count"]
    lines = EXPECTED.splitlines(keepends=True)

    def paged(line):
        shown = c.execute(line, reply=True, timeout=30)["content"]
        assert shown["status"] == "ok", shown
        return [p for p in shown["payload"] if p["source"] == "page"][0]["data"]["text/plain"]

    assert paged(f"%output {n} -l 2:3") == "".join(lines[1:3])
    assert paged(f"%output {n} -l 3999:") == "".join(lines[3998:])
    _run(c, "import jup.magics.output as _o; _o.PAGE_LIMIT = 1000")  # as if the output were huge
    first = paged(f"%output {n}")
    cut = first.splitlines()[-1]
    assert cut.startswith("[jup] cut at line ") and f"%output {n} stdout -l " in cut
    shown_lines = first.count("\n") - 1
    assert first.startswith("".join(lines[:shown_lines])) and len(first) < 1200
    following = paged(cut.split("next part: ")[1].split("   ")[0])
    assert following.startswith(lines[shown_lines])
    for line in (f"%output {n} -l x", f"%output {n} -l 5:2", f"%output {n} -l"):
        shown = c.execute(line, reply=True, timeout=30)["content"]
        assert shown["status"] == "error" and "START:END" in shown["evalue"], (line, shown)
