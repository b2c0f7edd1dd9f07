"""Kernel management: processes (`KernelManager`, blocking `BlockingKernelManager`), a warm pool
(`KernelPool`), in-process kernels (`InProcessKernelManager`) and the events a frontend shows.

    async with KernelManager("python3") as km:
        km.on_event(lambda ev: print(ev.message))     # "The kernel 'python3' exited with code 3 ..."
        kc = km.client(); reply = await kc.execute("1+1", reply=True)
"""

from jup.core.manager.blocking import BlockingKernelManager
from jup.core.manager.inprocess import InProcessKernelManager
from jup.core.manager.kernelmanager import KernelManager, KernelState
from jup.core.manager.pool import KernelPool
from jup.core.manager.restarter import KernelEvent, RestartPolicy

__all__ = ["BlockingKernelManager", "InProcessKernelManager", "KernelEvent", "KernelManager", "KernelPool",
           "KernelState", "RestartPolicy"]
