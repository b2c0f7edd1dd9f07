"""In-process kernels: same client methods, and the user's code runs on the caller's own thread."""

from __future__ import annotations

import threading

import pytest

from jup.core.errors import KernelError, NoSuchKernel
from jup.core.kernelspec import KernelSpec
from jup.core.manager import InProcessKernelManager
from jup.core.testing import fake_kernel_spec

pytestmark = pytest.mark.timeout(60)


def test_code_runs_on_the_callers_thread_through_the_usual_client():
    with InProcessKernelManager(fake_kernel_spec()) as km:
        kc = km.client()
        assert kc.kernel_info(reply=True, timeout=5)["content"]["implementation"] == "jup-fake"
        seen = []
        reply = kc.execute_interactive("import threading; t = threading.get_ident(); print('in'); t",
                                       output_hook=seen.append, timeout=5)
        assert reply["content"]["status"] == "ok"
        result = [x for x in seen if x["msg_type"] == "execute_result"][0]
        assert result["content"]["data"]["text/plain"] == str(threading.get_ident())
        assert any(x["msg_type"] == "stream" and x["content"]["text"] == "in" for x in seen)
        assert kc.complete("threa", reply=True, timeout=5)["content"]["matches"] == ["threading"]


def test_restart_gives_a_fresh_namespace_and_shutdown_closes_clients():
    km = InProcessKernelManager(fake_kernel_spec())
    km.start()
    kc = km.client()
    kc.execute("x = 1", reply=True, timeout=5)
    km.restart()
    kc2 = km.client()
    assert kc2.execute("x", reply=True, timeout=5)["content"]["ename"] == "NameError"
    km.shutdown()
    assert not km.is_alive()
    with pytest.raises(KernelError, match="not running"):
        km.client()


def test_kernels_without_an_inprocess_factory_are_refused_with_advice():
    with pytest.raises(NoSuchKernel, match="cannot run in-process.*KernelManager"):
        InProcessKernelManager(KernelSpec(name="proc-only", argv=["x"]))
    km = InProcessKernelManager(KernelSpec(name="gone", argv=["x"], inprocess_factory="no.such.module:K"))
    with pytest.raises(NoSuchKernel, match="Is its plugin installed"):
        km.start()


def test_interrupt_explains_how_to_stop_in_process_code():
    with InProcessKernelManager(fake_kernel_spec()) as km:
        with pytest.raises(KernelError, match="Ctrl-C"):
            km.interrupt()


def test_the_jup_python_kernel_runs_in_process_on_this_thread():
    from jup.core.kernelspec import get_kernel_spec
    try:
        spec = get_kernel_spec("python")
    except NoSuchKernel:
        pytest.skip("the jup-python plugin is not installed in this environment")
    with InProcessKernelManager(spec) as km:
        kc = km.client()
        seen = []
        reply = kc.execute_interactive("import threading; print('hi'); threading.get_ident()",
                                       output_hook=seen.append, timeout=30)
        assert reply["content"]["status"] == "ok"
        texts = {x["msg_type"]: x["content"] for x in seen}
        assert texts["stream"]["text"] == "hi\n"
        assert texts["execute_result"]["data"]["text/plain"] == str(threading.get_ident())
