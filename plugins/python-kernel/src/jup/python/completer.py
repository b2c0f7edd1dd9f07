"""Tab completion for the Python kernel: the live namespace first, jedi for the rest.

Why this order: the user's objects are already in memory, so names, attributes, dict keys, magics,
paths and module names come from them directly (fast even with 100k names, and without executing
properties: attributes are looked up with `inspect.getattr_static`). jedi, imported lazily, covers
what needs static analysis (`"abc".up`, `f().x`, names defined earlier in the same cell). Everything
runs against a deadline and answers with what it has when time is up.
"""

from __future__ import annotations

import builtins
import inspect
import keyword
import os
import pkgutil
import re
import signal
import sys
import threading
import time
import types
from typing import Any

__all__ = ["Completer", "call_with_timeout"]

_MAX_MATCHES = 1000       # a list longer than this helps no one and costs JSON
_TYPED_LIMIT = 200        # classify (type, signature) at most this many matches
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*$")
_DOTTED_TAIL = re.compile(r"((?:[A-Za-z_][A-Za-z0-9_]*\s*(?:\[\s*(?:'[^']*'|\"[^\"]*\"|-?\d+)\s*\])*"
                          r"\s*\.\s*)*)([A-Za-z_][A-Za-z0-9_]*)?$")
_DICT_KEY = re.compile(r"([A-Za-z_][A-Za-z0-9_.]*(?:\[\s*(?:'[^']*'|\"[^\"]*\"|-?\d+)\s*\])*)"
                       r"\[\s*(?:([rbRB]?)(['\"])([^'\"]*)|([A-Za-z0-9_]*))$")
_IMPORT = re.compile(r"^\s*(?:import\s+(?:[\w.]+\s*(?:as\s+\w+\s*)?,\s*)*([\w.]*)|"
                     r"from\s+([\w.]*)|from\s+([\w.]+)\s+import\s+(?:\(?\s*(?:\w+\s*(?:as\s+\w+\s*)?,\s*)*)(\w*))$")
_F_PREFIX = re.compile(r"(?<![\w])(?:[fF][rR]?|[rR][fF])$")
_NOT_FOUND = object()


class _Timeout(Exception):
    pass


def call_with_timeout(func: Any, timeout: float, *args: Any) -> Any:
    """Call user code (a `__repr__`, `__dir__`, `_ipython_key_completions_`) in a helper thread and
    give up after `timeout` seconds, so a slow object cannot wedge introspection. Raises TimeoutError;
    the abandoned call finishes on its own thread."""
    box: list = []

    def run() -> None:
        try:
            box.append((True, func(*args)))
        except BaseException as exc:  # reported to the caller below
            box.append((False, exc))

    t = threading.Thread(target=run, name="jup-introspect", daemon=True)
    t.start()
    t.join(max(timeout, 0.0))
    if not box:
        raise TimeoutError(f"gave up after {timeout:.2g} s")
    ok, value = box[0]
    if not ok:
        raise value
    return value


def _type_of(obj: Any) -> str:
    if obj is _NOT_FOUND:
        return "instance"
    if isinstance(obj, type):
        return "class"
    if isinstance(obj, types.ModuleType):
        return "module"
    if isinstance(obj, (property, types.GetSetDescriptorType, types.MemberDescriptorType)):
        return "property"
    if isinstance(obj, (staticmethod, classmethod)) or callable(obj) and (
            inspect.isroutine(obj) or isinstance(obj, types.MethodWrapperType)):
        return "function"
    return "instance"


def _signature(obj: Any) -> str:
    if isinstance(obj, (staticmethod, classmethod)):
        obj = obj.__func__
    if not (inspect.isroutine(obj) or isinstance(obj, type)):
        return ""
    try:
        return str(inspect.signature(obj))
    except (TypeError, ValueError):
        return ""


#: jedi's inference caches are process-wide and not thread-safe: one inference at a time in the
#: process (a warm-up, or a timed-out inference still running, racing a request gave
#: "ValueError: not enough values to unpack" deep inside jedi)
_JEDI_RUN_LOCK = threading.Lock()


def _keep_sys_path_in_place() -> None:
    """jedi imports and finds modules with `sys.path` rebound to a copy and restores it after. On
    our background thread that rebinding is process-wide: a `sys.path.insert` the user's cell made
    meanwhile went into the copy and was lost, and the cell's imports searched jedi's list. In one
    process jedi's path is ours anyway, so its two helpers run on the live list."""
    try:
        from jedi.inference.compiled.subprocess import functions
    except ImportError:  # another jedi layout: nothing to wrap
        return
    if getattr(functions, "_jup_live_sys_path", False):
        return
    load_module, get_module_info = functions.load_module, functions.get_module_info

    def load_on_live_path(inference_state: Any, **kwargs: Any) -> Any:
        kwargs["sys_path"] = sys.path  # jedi's swap becomes `sys.path = sys.path`
        return load_module(inference_state, **kwargs)

    def find_on_live_path(inference_state: Any, sys_path: Any = None, **kwargs: Any) -> Any:
        return get_module_info(inference_state, sys_path=None, **kwargs)

    functions.load_module, functions.get_module_info = load_on_live_path, find_on_live_path
    functions._jup_live_sys_path = True


class Completer:
    """Answers `complete_request`: `complete(code, cursor_pos)` returns the reply content."""

    def __init__(self, shell: Any = None, timeout: float = 1.0, use_jedi: bool = True):
        self.shell = shell
        self.timeout = timeout
        self.use_jedi = use_jedi
        self._modules: list[str] | None = None
        self._jedi: Any = None
        self._jedi_lock = threading.Lock()
        self._jedi_run_lock = _JEDI_RUN_LOCK
        self._warming: threading.Thread | None = None
        self._warm = False

    @property
    def jedi_ready(self) -> bool:
        """Whether jedi is loaded and warmed (then asking it costs milliseconds, not a second)."""
        return self._warm and self._jedi is not None

    # ---- public ---------------------------------------------------------------------------------

    def warm_up(self) -> threading.Thread:
        """Import jedi and list importable modules in the background, so the first Tab is fast.
        Call it once the kernel is idle after start; never at import time."""
        if self._warming is not None:
            return self._warming

        def run() -> None:
            try:  # SIGINT is for the thread running cells: one that lands here would wait, unseen
                signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
            except (AttributeError, ValueError, OSError):  # not on this platform
                pass
            jedi = self._load_jedi()
            self._module_names()
            if jedi is not None:
                try:  # the first completion loads jedi's stubs for builtins: do it now, not on Tab
                    with self._jedi_run_lock:
                        jedi.Interpreter("''.upper().sp", [{}]).complete()
                except Exception:
                    pass
            self._warm = True
        self._warming = threading.Thread(target=run, name="jup-completer-warmup", daemon=True)
        self._warming.start()
        return self._warming

    def complete(self, code: str, cursor_pos: int | None = None,
                 timeout: float | None = None) -> dict:
        """The `complete_reply` content for `code` with the cursor at `cursor_pos` (default: end)."""
        if cursor_pos is None:
            cursor_pos = len(code)
        cursor_pos = max(0, min(cursor_pos, len(code)))
        if self.use_jedi and self._warming is None:
            self.warm_up()  # jedi loads in the background while this request is answered
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        before = code[:cursor_pos]
        line = before.rsplit("\n", 1)[-1]
        results: list[dict] = []  # {start, end, text, type, signature}
        skipped: list[str] = []
        try:
            results = self._dispatch(code, cursor_pos, line, deadline, skipped)
        except Exception as exc:  # a completer bug must never fail the request
            skipped.append(f"completion failed: {type(exc).__name__}: {exc}")
        return self._reply(code, cursor_pos, results, skipped)

    # ---- routing --------------------------------------------------------------------------------

    def _dispatch(self, code: str, pos: int, line: str, deadline: float,
                  skipped: list[str]) -> list[dict]:
        stripped = line.lstrip()
        # %magic names
        if stripped.startswith("%") and " " not in stripped:
            return self._magics(stripped, pos)
        # arguments of a shell line or of path-taking magics: file names
        if stripped.startswith("!") or re.match(r"%%?(cd|run|load|writefile|save|pushd|ls|cat|"
                                                r"pip|sx|system|bash|sh|script)\b", stripped):
            word = re.split(r"[\s'\"=]", line)[-1]
            found = self._paths(word, pos, deadline)
            if re.match(r"%(cd|pushd)\b", stripped):
                found = [r for r in found if r["text"].endswith("/")]
            return found
        in_string = _open_string(line)
        if in_string is not None:
            inside = line[in_string + 1:]
            opener = line[:in_string + 1].rstrip("'\"")
            if _F_PREFIX.search(opener) and inside.rfind("{") > inside.rfind("}"):
                # an f-string's {expression}: complete the expression
                return self._dispatch(code, pos, inside[inside.rfind("{") + 1:], deadline, skipped)
            keys = self._dict_keys(line, pos, deadline, skipped)
            if keys is not None:
                return keys
            return self._paths(line[in_string + 1:], pos, deadline)
        m = _IMPORT.match(line)
        if m:
            return self._imports(m, pos, deadline)
        keys = self._dict_keys(line, pos, deadline, skipped)
        if keys:
            return keys
        m = _DOTTED_TAIL.search(line)
        chain, name = (m.group(1), m.group(2) or "") if m else ("", "")
        if m and chain and not _preceded_by_value(line[: m.start()]):
            found = self._attributes(chain, name, pos, deadline, skipped)
            if found is not None:
                return found
            return self._jedi_complete(code, pos, deadline, skipped)
        if m and name and not chain and not _preceded_by_value(line[: m.start()]):
            out = self._names(name, pos, deadline)
            if not out:
                out = self._jedi_complete(code, pos, deadline, skipped)
            elif "\n" in code[:pos] and not self.jedi_ready:
                # names defined earlier in this cell are only known to jedi, but a simple name
                # never waits for jedi to load: the namespace's answer goes out now
                skipped.append("jedi is still loading: names defined in this cell are not offered yet")
            elif "\n" in code[:pos]:  # names defined earlier in this cell are only known to jedi
                seen = {r["text"] for r in out}
                out += [r for r in self._jedi_complete(code, pos, deadline, skipped)
                        if r["text"] not in seen and r["start"] == out[0]["start"]]
            return out
        return self._jedi_complete(code, pos, deadline, skipped)

    # ---- sources --------------------------------------------------------------------------------

    def _namespaces(self) -> list[dict]:
        ns = getattr(self.shell, "user_ns", None)
        return [ns] if isinstance(ns, dict) else []

    def _names(self, prefix: str, pos: int, deadline: float) -> list[dict]:
        start = pos - len(prefix)
        found: dict[str, Any] = {}
        for ns in self._namespaces():
            # a plain scan: ~5 ms for 100k names, no index to keep in sync; over a snapshot,
            # because a running cell may add names while we answer from another thread
            for k in list(ns):
                if isinstance(k, str) and k.startswith(prefix) and k not in found:
                    found[k] = ns
        for k in dir(builtins):
            if k.startswith(prefix) and k not in found and (prefix.startswith("_") or
                                                            not k.startswith("_")):
                found[k] = builtins.__dict__
        kws = [k for k in keyword.kwlist + keyword.softkwlist if k.startswith(prefix)]
        if not prefix.startswith("_"):
            names = sorted((k for k in found if not k.startswith("_")), key=_sort_key)
            names += sorted((k for k in found if k.startswith("_")), key=_sort_key)
        else:
            names = sorted(found, key=_sort_key)
        out = [{"start": start, "end": pos, "text": k, "type": "keyword", "signature": ""}
               for k in kws]
        for i, k in enumerate(names[:_MAX_MATCHES]):
            kind, sig = "instance", ""
            if i < _TYPED_LIMIT and time.monotonic() < deadline:
                obj = found[k].get(k, _NOT_FOUND)
                kind = _type_of(obj)
                sig = _signature(obj) if len(names) <= 50 else ""
            out.append({"start": start, "end": pos, "text": k, "type": kind, "signature": sig})
        return out

    def _resolve(self, expr: str, deadline: float) -> Any:
        """The object a dotted/subscripted name denotes, found without running user code
        (getattr_static; plain dict/list indexing). _NOT_FOUND when it cannot be done safely."""
        parts = re.findall(r"[A-Za-z_][A-Za-z0-9_]*|\[\s*(?:'[^']*'|\"[^\"]*\"|-?\d+)\s*\]", expr)
        if not parts or parts[0].startswith("["):
            return _NOT_FOUND
        head = parts[0]
        obj: Any = _NOT_FOUND
        for ns in self._namespaces():
            if head in ns:
                obj = ns[head]
                break
        else:
            obj = builtins.__dict__.get(head, _NOT_FOUND)
        for part in parts[1:]:
            if obj is _NOT_FOUND or time.monotonic() > deadline:
                return _NOT_FOUND
            if part.startswith("["):
                key = eval(part.strip()[1:-1].strip(), {"__builtins__": {}})  # a literal only
                if type(obj) in (dict, list, tuple):
                    try:
                        obj = obj[key]
                    except (KeyError, IndexError, TypeError):
                        return _NOT_FOUND
                else:
                    return _NOT_FOUND
            else:
                try:
                    attr = inspect.getattr_static(obj, part)
                except AttributeError:
                    if isinstance(obj, types.ModuleType) and f"{obj.__name__}.{part}" in sys.modules:
                        attr = sys.modules[f"{obj.__name__}.{part}"]
                    else:
                        return _NOT_FOUND
                if isinstance(attr, (staticmethod, classmethod)):
                    attr = getattr(obj, part)  # binding these runs no user code
                elif not _is_plain_value(attr):
                    return _NOT_FOUND  # a property or custom descriptor: would run user code
                obj = attr
        return obj

    def _attributes(self, chain: str, prefix: str, pos: int, deadline: float,
                    skipped: list[str]) -> list[dict] | None:
        expr = re.sub(r"\s*\.\s*$", "", chain)
        obj = self._resolve(expr, deadline)
        if obj is _NOT_FOUND:
            return None
        start = pos - len(prefix)
        try:
            names = call_with_timeout(dir, max(0.0, deadline - time.monotonic()), obj)
        except TimeoutError:
            skipped.append(f"dir({expr}) took too long")
            names = list(getattr(type(obj), "__dict__", {}))
        except Exception:
            names = []
        names = [n for n in names if isinstance(n, str) and n.startswith(prefix)]
        if isinstance(obj, types.ModuleType) and hasattr(obj, "__path__"):
            names += [n for n in self._submodules(obj) if n.startswith(prefix) and n not in names]
        if not prefix.startswith("_"):
            names = [n for n in names if not n.startswith("_")] or names
        names = sorted(set(names), key=_sort_key)[:_MAX_MATCHES]
        out = []
        for i, n in enumerate(names):
            kind, sig = "instance", ""
            if i < _TYPED_LIMIT and time.monotonic() < deadline:
                try:
                    attr = inspect.getattr_static(obj, n)
                except AttributeError:
                    attr = _NOT_FOUND
                kind = _type_of(attr)
                sig = _signature(attr) if len(names) <= 50 else ""
            out.append({"start": start, "end": pos, "text": n, "type": kind, "signature": sig})
        return out

    def _dict_keys(self, line: str, pos: int, deadline: float,
                   skipped: list[str]) -> list[dict] | None:
        m = _DICT_KEY.search(line)
        if not m:
            return None
        expr, _prefix_flag, quote, typed, bare = m.groups()
        obj = self._resolve(expr, deadline)
        if obj is _NOT_FOUND:
            return None
        keys: list = []
        if hasattr(type(obj), "_ipython_key_completions_"):
            try:
                keys = list(call_with_timeout(obj._ipython_key_completions_,
                                              max(0.0, deadline - time.monotonic())))
            except Exception:
                skipped.append(f"{expr}._ipython_key_completions_() failed or took too long")
        elif isinstance(obj, dict):
            keys = list(obj)[:100000]
        else:
            return None
        out = []
        if quote:
            start = pos - len(typed)
            for k in keys:
                if isinstance(k, str) and k.startswith(typed):
                    out.append({"start": start, "end": pos, "text": k + quote, "type": "dict key",
                                "signature": ""})
        else:
            start = pos - len(bare or "")
            for k in keys:
                if isinstance(k, (str, bytes, int)) and not isinstance(k, bool):
                    text = repr(k)
                    if text.startswith(bare or ""):
                        out.append({"start": start, "end": pos, "text": text, "type": "dict key",
                                    "signature": ""})
        out.sort(key=lambda r: r["text"])
        return out[:_MAX_MATCHES]

    def _magics(self, token: str, pos: int) -> list[dict]:
        registry = getattr(self.shell, "magics", None)
        if registry is None:
            return []
        start = pos - len(token)
        cell_only = token.startswith("%%")
        name = token.lstrip("%")
        out = []
        kinds = [("cell", "%%")] if cell_only else [("line", "%"), ("cell", "%%")]
        for kind, mark in kinds:
            try:
                names = sorted(registry.names(kind))
            except Exception:
                names = []
            for n in names:
                if n.startswith(name):
                    out.append({"start": start, "end": pos, "text": mark + n, "type": "magic",
                                "signature": ""})
        return out

    def _paths(self, typed: str, pos: int, deadline: float) -> list[dict]:
        start = pos - len(typed)
        expanded = os.path.expanduser(typed)
        folder, base = os.path.split(expanded)
        try:
            entries = os.scandir(folder or ".")
        except OSError:
            return []
        shown_folder = typed[: len(typed) - len(base)]
        out = []
        with entries:
            for i, e in enumerate(entries):
                if i > 20000 or time.monotonic() > deadline:
                    break
                if not e.name.startswith(base) or (e.name.startswith(".") and not base.startswith(".")):
                    continue
                try:
                    is_dir = e.is_dir()
                except OSError:
                    is_dir = False
                out.append({"start": start, "end": pos, "text": shown_folder + e.name +
                            ("/" if is_dir else ""), "type": "path", "signature": ""})
        out.sort(key=lambda r: r["text"])
        return out[:_MAX_MATCHES]

    def _module_names(self) -> list[str]:
        if self._modules is None:
            names = set(sys.builtin_module_names)
            try:
                names.update(m.name for m in pkgutil.iter_modules())
            except Exception:
                pass
            names.update(m.split(".")[0] for m in list(sys.modules))
            self._modules = sorted(n for n in names if n.isidentifier())
        return self._modules

    def _submodules(self, module: types.ModuleType) -> list[str]:
        try:
            return [m.name for m in pkgutil.iter_modules(list(module.__path__))]
        except Exception:
            return []

    def _imports(self, m: re.Match, pos: int, deadline: float) -> list[dict]:
        dotted = m.group(1) if m.group(1) is not None else m.group(2)
        if dotted is not None:
            parent, _, last = dotted.rpartition(".")
            start = pos - len(last)
            if parent:
                mod = sys.modules.get(parent)
                if mod is None:
                    try:
                        import importlib.util
                        spec = importlib.util.find_spec(parent)
                        subs = [x.name for x in pkgutil.iter_modules(spec.submodule_search_locations
                                                                      or [])] if spec else []
                    except (ImportError, ValueError):
                        subs = []
                else:
                    subs = self._submodules(mod)
                names = subs + [k[len(parent) + 1:] for k in list(sys.modules)
                                if k.startswith(parent + ".") and "." not in k[len(parent) + 1:]]
            else:
                names = self._module_names()
            return [{"start": start, "end": pos, "text": n, "type": "module", "signature": ""}
                    for n in sorted(set(names)) if n.startswith(last)][:_MAX_MATCHES]
        module_name, last = m.group(3), m.group(4) or ""
        start = pos - len(last)
        mod = sys.modules.get(module_name)
        names: set[str] = set()
        if mod is not None:
            names.update(n for n in getattr(mod, "__dict__", {}) if not n.startswith("__"))
            if hasattr(mod, "__path__"):
                names.update(self._submodules(mod))
            out = [{"start": start, "end": pos, "text": n, "type": "instance", "signature": ""}
                   for n in sorted(names) if n.startswith(last)]
            for r in out[:_TYPED_LIMIT]:
                r["type"] = _type_of(mod.__dict__.get(r["text"], sys.modules.get(
                    f"{module_name}.{r['text']}", _NOT_FOUND)))
            return out[:_MAX_MATCHES]
        return [r for r in self._jedi_complete(m.string, pos, deadline, [])]

    # ---- jedi -----------------------------------------------------------------------------------

    def _load_jedi(self) -> Any:
        if not self.use_jedi:
            return None
        with self._jedi_lock:
            if self._jedi is None:
                try:
                    import jedi
                    jedi.settings.allow_unsafe_interpreter_executions = False  # no properties run
                    jedi.settings.case_insensitive_completion = False
                    _keep_sys_path_in_place()
                    self._jedi = jedi
                except ImportError:
                    self.use_jedi = False
            return self._jedi

    def _jedi_complete(self, code: str, pos: int, deadline: float,
                       skipped: list[str]) -> list[dict]:
        jedi = self._load_jedi()
        if jedi is None:
            return []
        before = code[:pos]
        line_no = before.count("\n") + 1
        col = len(before) - (before.rfind("\n") + 1)
        namespaces = self._namespaces() or [{}]

        def run() -> list[dict]:
            with self._jedi_run_lock:
                return infer()

        def infer() -> list[dict]:
            interp = jedi.Interpreter(code, namespaces)
            out = []
            for c in interp.complete(line_no, col):
                typed = len(c.name_with_symbols) - len(c.complete or "")
                out.append({"start": pos - typed, "end": pos, "text": c.name_with_symbols,
                            "type": c.type, "signature": ""})
                if len(out) >= _MAX_MATCHES:
                    break
            return out

        try:
            return call_with_timeout(run, max(0.05, deadline - time.monotonic()))
        except TimeoutError:
            skipped.append("jedi took too long")
        except Exception as exc:
            skipped.append(f"jedi failed: {type(exc).__name__}")
        return []

    # ---- reply ----------------------------------------------------------------------------------

    def _reply(self, code: str, pos: int, results: list[dict], skipped: list[str]) -> dict:
        if not results:
            return {"status": "ok", "matches": [], "cursor_start": pos, "cursor_end": pos,
                    "metadata": _metadata([], skipped)}
        start = min(r["start"] for r in results)
        matches: list[str] = []
        seen: set[str] = set()
        types_: list[dict] = []
        for r in results:
            text = code[start: r["start"]] + r["text"]  # align every match on one cursor_start
            if text in seen:
                continue
            seen.add(text)
            matches.append(text)
            types_.append({"start": start, "end": pos, "text": text, "type": r["type"],
                           "signature": r["signature"]})
        return {"status": "ok", "matches": matches, "cursor_start": start, "cursor_end": pos,
                "metadata": _metadata(types_, skipped)}


def _metadata(types_: list[dict], skipped: list[str]) -> dict:
    md: dict[str, Any] = {"_jupyter_types_experimental": types_}
    if skipped:
        md["jup_skipped"] = skipped
    return md


def _sort_key(name: str) -> tuple:
    return (name.lower(), name)


def _is_plain_value(attr: Any) -> bool:
    """True if getattr on this would return `attr` itself or bind it without running user code."""
    if isinstance(attr, (types.FunctionType, types.BuiltinFunctionType, types.MethodType, type,
                         types.ModuleType, types.WrapperDescriptorType, types.MethodDescriptorType)):
        return True
    return not any(hasattr(type(attr), m) for m in ("__get__",))


def _preceded_by_value(text: str) -> bool:
    """True when the name is an attribute of an expression we cannot see statically (`f().x`,
    `"s".x`, `[1].x`), so the live namespace is not the place to look."""
    return text.rstrip().endswith(".")


def _open_string(line: str) -> int | None:
    """Index of the quote that opens a string still open at the end of `line`, else None."""
    quote: str | None = None
    start = -1
    i = 0
    n = len(line)
    while i < n:
        ch = line[i]
        if quote:
            if ch == "\\":
                i += 2
                continue
            if line.startswith(quote, i):
                i += len(quote)
                quote = None
                continue
        elif ch == "#":
            return None
        elif ch in "'\"":
            quote = line[i: i + 3] if line[i: i + 3] in ("'''", '"""') else ch
            start = i + len(quote) - 1
            i += len(quote)
            continue
        i += 1
    return start if quote else None
