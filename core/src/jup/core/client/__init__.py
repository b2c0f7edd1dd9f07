"""Kernel clients: `AsyncKernelClient` (asyncio, the core) and `BlockingKernelClient` (its facade).

    kc = BlockingKernelClient("kernel-1234.json"); kc.start_channels()
    kc.wait_for_ready(timeout=10)
    reply = kc.execute_interactive("print(1)")      # prints 1, returns the execute_reply
"""

from jup.core.client.asyncclient import AsyncKernelClient, default_output_hook, default_stdin_hook
from jup.core.client.blocking import BlockingKernelClient

__all__ = ["AsyncKernelClient", "BlockingKernelClient", "default_output_hook", "default_stdin_hook"]
