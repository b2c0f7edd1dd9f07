"""The in-process path: user code runs on the shell's own thread while output and input still flow.

Uses jup.core's reference in-process kernel (FakeKernel), which keeps the same contract as ours.
"""

from __future__ import annotations

import io

import pytest

from jup.core.manager import InProcessKernelManager
from jup.core.testing import fake_kernel_spec
from jup.terminal.kernels import open_in_process
from jup.terminal.render import Renderer


@pytest.fixture
async def bridge():
    km = InProcessKernelManager(fake_kernel_spec())
    km.start()
    b = open_in_process(km, "fake")
    await b.start(timeout=10)
    yield b
    await b.close()


async def _no_prompt(prompt: str, password: bool) -> str:  # the executor reads input itself
    raise AssertionError("not used in-process")


async def test_output_result_and_input_in_process(bridge):
    asked = []
    bridge.executor.read_input = lambda prompt, password: asked.append(prompt) or "Ada"
    out = io.StringIO()
    reply = await bridge.execute("print('hi'); name = input('who? '); name * 2",
                                 Renderer(out=out, err=out, color=False), input_hook=_no_prompt)
    assert reply["status"] == "ok"
    assert asked == ["who? "]
    assert out.getvalue() == "hi\nOut[1]: 'AdaAda'\n"


async def test_error_in_process_reports_traceback(bridge):
    out = io.StringIO()
    reply = await bridge.execute("1/0", Renderer(out=out, err=out, color=False))
    assert reply["status"] == "error"
    assert "ZeroDivisionError" in out.getvalue()


async def test_restart_in_process_gives_a_fresh_namespace(bridge):
    out = io.StringIO()
    r = Renderer(out=out, err=out, color=False)
    await bridge.execute("kept = 5", r)
    await bridge.restart(timeout=10)
    reply = await bridge.execute("kept", r)
    assert reply["status"] == "error" and "NameError" in out.getvalue()


def test_a_cell_ends_when_its_reply_is_in_not_a_pump_slice_later():
    """The helper thread wakes the main thread's pump when the cell is done (call_on_main): with a
    pump slice of 30 s, ten cells still take well under one slice."""
    import time

    from jup.terminal.inprocess import InProcessExecutor, start_in_process

    kernel = start_in_process()
    assert kernel is not None, "the Python kernel plugin offers an in-process kernel"
    try:
        executor = InProcessExecutor(kernel, pump_slice=30.0)
        shown: list[dict] = []
        started = time.monotonic()
        for i in range(10):
            reply = executor.run(f"print({i})", shown.append)
            assert reply["status"] == "ok"
        assert time.monotonic() - started < 20.0
        assert [m["content"]["text"] for m in shown if m["msg_type"] == "stream"] == [f"{i}\n" for i in range(10)]
    finally:
        kernel.close()


def test_start_in_process_says_none_for_a_kernel_that_cannot():
    from jup.terminal.inprocess import start_in_process

    assert start_in_process("no-such-kernel") is None  # the caller then takes the general path
