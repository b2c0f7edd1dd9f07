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
