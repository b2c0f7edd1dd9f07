"""Fixtures for the Python kernel's tests: a real kernel process driven by jupyter_client, and an
in-process Shell with a recording publisher for fast unit tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pykernel_helpers import outputs, run, start_kernel, stdout_of  # noqa: F401 (re-exported)

from jup.python.publisher import RecordingPublisher
from jup.python.shell import Shell


@pytest.fixture
def shell(tmp_path) -> Iterator[Shell]:
    """A fresh shell without kernel or plugins; `shell.publisher.events` records its output."""
    sh = Shell(RecordingPublisher(), user_ns={}, load_plugins=False, config={"history": False})
    yield sh
    sh._hook = lambda *a, **k: None


@pytest.fixture
def kernel(tmp_path):
    """A real Python kernel process of ours and a jupyter_client BlockingKernelClient to it."""
    kp = start_kernel(tmp_path)
    yield kp.kc
    kp.stop()


@pytest.fixture(scope="module")
def shared_kernel(tmp_path_factory):
    """One kernel for a module's read-mostly tests (starting one per test costs ~0.5 s)."""
    tmp = tmp_path_factory.mktemp("kernel")
    kp = start_kernel(tmp)
    yield kp.kc
    kp.stop()
