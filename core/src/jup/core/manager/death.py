"""Why a kernel died: its exit status, and whether memory ran out (cgroup v1 or v2 counters).

A SIGKILL alone does not prove an OOM kill; the cgroup's `oom_kill` counter rising while the kernel
ran does, and an RSS sampled close to the memory limit makes it likely.
"""

from __future__ import annotations

import os
from pathlib import Path

_CGROUP_ROOT = Path("/sys/fs/cgroup")
NEAR_LIMIT = 0.9  # RSS above this fraction of the limit counts as "near"


def _cgroup_dirs() -> list[tuple[Path, str]]:
    """(directory, version) candidates for this process's memory cgroup."""
    out: list[tuple[Path, str]] = []
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return out
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, rel = parts
        rel = rel.lstrip("/")
        if controllers == "":
            out += [(_CGROUP_ROOT / rel, "v2"), (_CGROUP_ROOT, "v2")]
        elif "memory" in controllers.split(","):
            out += [(_CGROUP_ROOT / "memory" / rel, "v1"), (_CGROUP_ROOT / "memory", "v1")]
    return out


def _read_kv(path: Path, key: str) -> int | None:
    try:
        for line in path.read_text().splitlines():
            k, _, v = line.partition(" ")
            if k == key:
                return int(v)
    except (OSError, ValueError):
        pass
    return None


def oom_kill_count() -> int | None:
    """How many processes the kernel's memory cgroup has OOM-killed so far (None: unknown)."""
    for d, ver in _cgroup_dirs():
        n = _read_kv(d / ("memory.events" if ver == "v2" else "memory.oom_control"), "oom_kill")
        if n is not None:
            return n
    return None


def memory_limit() -> int | None:
    """The cgroup's memory limit in bytes, else physical RAM (None: unknown)."""
    for d, ver in _cgroup_dirs():
        try:
            raw = (d / ("memory.max" if ver == "v2" else "memory.limit_in_bytes")).read_text().strip()
        except OSError:
            continue
        if raw != "max" and int(raw) < (1 << 60):
            return int(raw)
        break
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        return None


def rss(pid: int) -> int | None:
    """Resident memory of `pid` in bytes, from /proc (None if gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def likely_oom(returncode: int | None, oom_before: int | None, oom_after: int | None,
               last_rss: int | None, limit: int | None) -> bool:
    """True when the evidence says the kernel ran out of memory."""
    if oom_before is not None and oom_after is not None and oom_after > oom_before:
        return returncode is not None and returncode < 0
    return (returncode == -9 and last_rss is not None and limit is not None
            and last_rss >= NEAR_LIMIT * limit)
