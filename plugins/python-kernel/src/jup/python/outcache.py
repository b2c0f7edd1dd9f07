"""`Out`, capped by memory: a cell's result stays reachable until the results kept pass a byte limit.

Counting entries (IPython's `cache_size`) does not protect a kernel from five 500 MB arrays; bytes do.
Sizes are cheap, shallow estimates (`nbytes`, the buffer protocol, `__sizeof__`, one sampled level of
a container), so storing a result never walks a big object graph. When the total passes the limit
the oldest results are dropped, with their `_N` names, and `Out[N]` then says why it is gone.

The limit: the shell's `output_cache_bytes` config, else env `JUP_OUTPUT_CACHE_BYTES` (bytes, or with
a unit: `500MB`, `2GiB`), else the smaller of 2 GiB and 10 % of the memory this process may use.
0 means unlimited.
"""

from __future__ import annotations

import os
import re
import sys
import warnings
from typing import Any

ENV = "JUP_OUTPUT_CACHE_BYTES"
DEFAULT_CEILING = 2 << 30
_SAMPLE = 100        # items of a container looked at when estimating its size
_DROPPED_KEPT = 10_000  # dropped-entry records remembered for their error message
_HEADER = 100  # an object's own bytes beside its data (getsizeof would count the data twice)

_UNITS = {"": 1, "b": 1, "k": 10**3, "kb": 10**3, "m": 10**6, "mb": 10**6, "g": 10**9, "gb": 10**9,
          "t": 10**12, "tb": 10**12, "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40}
_SIZE = re.compile(r"^\s*([0-9]+(?:\.[0-9]*)?(?:e[0-9]+)?)\s*([a-z]*)\s*$", re.IGNORECASE)


def parse_size(text: str | float | int) -> int:
    """Bytes from `1000000`, `1e9`, `500MB` or `2GiB`; ValueError with the accepted forms otherwise."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        if text < 0:
            raise ValueError(f"an output cache size cannot be negative ({text})")
        return int(text)
    m = _SIZE.match(str(text))
    if m is None or m.group(2).lower() not in _UNITS:
        raise ValueError(f"{text!r} is not a size; write bytes or a number with a unit, e.g. 500MB or 2GiB")
    return int(float(m.group(1)) * _UNITS[m.group(2).lower()])


def format_size(n: float) -> str:
    """`500.0 MB`, `1.0 GB`: decimal units, as users read them."""
    for unit, scale in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{int(n)} B"


def available_memory() -> int | None:
    """Bytes this process may use: the cgroup limit if there is one, else physical RAM."""
    limit = None
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            with open(path) as fh:
                raw = fh.read().strip()
        except OSError:
            continue
        if raw.isdigit() and int(raw) < (1 << 60):
            limit = int(raw)
        break
    try:
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        ram = None
    candidates = [v for v in (limit, ram) if v]
    return min(candidates) if candidates else None


def default_limit() -> int:
    """The smaller of 2 GiB and 10 % of the memory available."""
    mem = available_memory()
    return DEFAULT_CEILING if mem is None else min(DEFAULT_CEILING, mem // 10)


def resolve_limit(configured: Any = None) -> int:
    """The limit from config, else the environment, else the default; a bad value warns and is ignored."""
    for source, value in (("output_cache_bytes", configured), (ENV, os.environ.get(ENV))):
        if value is None or value == "":
            continue
        try:
            return parse_size(value)
        except ValueError as e:
            warnings.warn(f"{source}: {e}; the output cache uses its default limit instead.", stacklevel=2)
    return default_limit()


def estimate_size(obj: Any, _depth: int = 0) -> int:
    """Bytes `obj` holds, estimated cheaply and shallowly; never raises."""
    try:
        n = getattr(obj, "nbytes", None)  # numpy arrays, pandas Series, torch-like tensors
        if isinstance(n, int) and n >= 0:
            return n + _HEADER
    except Exception:  # a user property may raise anything
        pass
    try:
        with memoryview(obj) as mv:  # bytes, bytearray, array.array, mmap...
            return mv.nbytes + _HEADER
    except Exception:
        pass
    try:
        usage = obj.memory_usage(index=True, deep=False)  # pandas DataFrame, shallow
        total = usage.sum() if hasattr(usage, "sum") else usage
        if isinstance(total, int | float) or hasattr(total, "__int__"):
            return int(total) + _HEADER
    except Exception:
        pass
    try:
        own = sys.getsizeof(obj)
    except Exception:
        own = 64
    if _depth == 0 and isinstance(obj, list | tuple | set | frozenset | dict):
        items = obj.values() if isinstance(obj, dict) else obj
        count = len(obj)
        if count:
            sample = 0
            for i, item in enumerate(items):
                if i >= _SAMPLE:
                    break
                sample += estimate_size(item, 1)
            own += sample * count // min(count, _SAMPLE)
    return own


class OutputDropped(KeyError):
    """`Out[N]` for a result that was dropped to stay within the output cache's memory limit."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else "dropped"


class OutputCache(dict):
    """`Out`: results by execution count, oldest dropped first once their estimated bytes pass `limit`.

    A dict (as IPython's `Out` is), so code that expects one keeps working. `namespace`, if given, is
    the user namespace: a dropped N's `_N` goes too, and `_`, `__`, `___` let go of it, so the memory
    really comes back. The newest result is always kept, however big.
    """

    def __init__(self, namespace: dict | None = None, limit: Any = None):
        super().__init__()
        self._sizes: dict[Any, int] = {}
        self._dropped: dict[Any, tuple[int, int]] = {}
        self._ns = namespace
        self._configured = limit
        self._limit: int | None = None  # resolved on first use: a kernel start stays cheap
        self.total = 0

    @property
    def limit(self) -> int:
        """Bytes of results kept at most (0: unlimited); settable at run time, e.g. `Out.limit = 4e9`."""
        if self._limit is None:
            self._limit = resolve_limit(self._configured)
        return self._limit

    @limit.setter
    def limit(self, value: Any) -> None:
        self._limit = parse_size(value)
        self._evict()

    def __setitem__(self, key: Any, value: Any) -> None:
        if dict.__contains__(self, key):
            self.__delitem__(key)
        size = estimate_size(value)
        dict.__setitem__(self, key, value)
        self._sizes[key] = size
        self.total += size
        self._dropped.pop(key, None)
        self._evict()

    def _evict(self) -> None:
        limit = self.limit
        if not limit:
            return
        while self.total > limit and len(self) > 1:  # at most len(self) - 1 rounds
            key = next(iter(self))
            value = dict.pop(self, key)
            size = self._sizes.pop(key, 0)
            self.total -= size
            self._dropped[key] = (size, limit)
            if len(self._dropped) > _DROPPED_KEPT:
                self._dropped.pop(next(iter(self._dropped)))
            self._release(key, value)

    def _release(self, key: Any, value: Any) -> None:
        ns = self._ns
        if ns is None:
            return
        if ns.get(f"_{key}") is value:
            del ns[f"_{key}"]
        for name in ("_", "__", "___"):
            if ns.get(name) is value:
                ns[name] = ""

    def dropped_message(self, key: Any) -> str | None:
        """Why `Out[key]` is gone, if it was dropped for memory."""
        rec = self._dropped.get(key)
        if rec is None:
            return None
        size, limit = rec
        return (f"Out[{key}] was dropped to save memory: it took about {format_size(size)} and the output "
                f"cache keeps at most {format_size(limit)} of results. Keep it in a variable of your own, "
                f"or raise the limit (Out.limit = ..., or {ENV}).")

    def __missing__(self, key: Any) -> Any:
        message = self.dropped_message(key)
        if message is None:
            raise KeyError(key)
        raise OutputDropped(message)

    def __delitem__(self, key: Any) -> None:
        dict.__delitem__(self, key)
        self.total -= self._sizes.pop(key, 0)

    def pop(self, key: Any, *default: Any) -> Any:
        if not dict.__contains__(self, key) and default:
            return default[0]
        value = self[key]
        self.__delitem__(key)
        return value

    def popitem(self) -> tuple:
        key, value = dict.popitem(self)
        self.total -= self._sizes.pop(key, 0)
        return key, value

    def update(self, *args: Any, **kwargs: Any) -> None:
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def clear(self) -> None:
        """Forget every result (as `%reset out` does); nothing is reported as dropped."""
        dict.clear(self)
        self._sizes.clear()
        self._dropped.clear()
        self.total = 0
