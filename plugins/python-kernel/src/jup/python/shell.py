"""The Python shell: a user namespace and the rules for running cells in it.

It is what `get_ipython()` returns, and it works with or without a kernel: output goes to a
`publisher` (iopub in a kernel, the terminal otherwise). It owns execution (IPython syntax,
top-level `await`, the last expression displayed unless the cell ends with `;`), the output
history (`In`, `Out`, `_`, `_N`, `_iN`), magics, tracebacks and the display formatter. Nothing a
cell does (SystemExit, recursion, a failing `__repr__`, closing sys.stdout) ends the shell.

Heavy parts (history database, completer, inspector, plugins) are made on first use.
"""

from __future__ import annotations

import ast
import builtins
import linecache
import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from jup.core.errors import UsageError
from jup.python import transform as _transform
from jup.python.display.formatter import DisplayFormatter
from jup.python.outcache import OutputCache
from jup.python.publisher import PrintPublisher, publisher_error
from jup.python.traceback import TracebackFormatter, cell_filename, normalize_mode

_CO_COROUTINE = 0x0080
_COMPILE_FLAGS = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT

_current: Shell | None = None


def current() -> Shell | None:
    """The shell running in this process, if any (what `get_ipython()` returns)."""
    return _current


@dataclass
class ExecutionResult:
    """What happened when a cell ran."""

    execution_count: int | None = None
    success: bool = True
    result: Any = None
    error_before_exec: BaseException | None = None
    error_in_exec: BaseException | None = None

    def raise_error(self) -> None:
        err = self.error_before_exec or self.error_in_exec
        if err is not None:
            raise err


class MagicRegistry:
    """Line and cell magics by name; a later registration of a name replaces the earlier one."""

    def __init__(self) -> None:
        self._line: dict[str, Any] = {}
        self._cell: dict[str, Any] = {}

    def register(self, spec: Any) -> None:
        """Add a `jup.core.MagicSpec` (kind "line", "cell" or "both")."""
        if spec.kind not in ("line", "cell", "both"):
            raise ValueError(f"Magic {spec.name!r} has kind {spec.kind!r}; use 'line', 'cell' or 'both'.")
        if spec.kind in ("line", "both"):
            self._line[spec.name] = spec
        if spec.kind in ("cell", "both"):
            self._cell[spec.name] = spec

    def find(self, name: str, kind: str = "line") -> Any:
        return (self._cell if kind == "cell" else self._line).get(name)

    def names(self, kind: str = "line") -> list[str]:
        return sorted(self._cell if kind == "cell" else self._line)

    def unregister(self, name: str, kind: str = "line") -> None:
        (self._cell if kind == "cell" else self._line).pop(name, None)


class EventManager:
    """IPython's `shell.events`: callbacks for pre_execute, pre_run_cell, post_execute,
    post_run_cell and shell_initialized. A failing callback is reported and skipped."""

    NAMES = ("pre_execute", "pre_run_cell", "post_execute", "post_run_cell", "shell_initialized")

    def __init__(self, shell: Shell):
        self.shell = shell
        self.callbacks: dict[str, list[Callable]] = {n: [] for n in self.NAMES}

    def register(self, event: str, function: Callable) -> None:
        if event not in self.callbacks:
            raise KeyError(f"Unknown event {event!r}; events are {', '.join(self.NAMES)}.")
        if function not in self.callbacks[event]:
            self.callbacks[event].append(function)

    def unregister(self, event: str, function: Callable) -> None:
        try:
            self.callbacks[event].remove(function)
        except (KeyError, ValueError):
            raise ValueError(f"{function!r} is not registered for {event!r}.")

    def trigger(self, event: str, *args: Any) -> None:
        for func in list(self.callbacks.get(event, ())):
            try:
                func(*args)
            except Exception as e:
                self.shell.write_err(f"Error in {event} callback {getattr(func, '__name__', func)!r}: "
                                     f"{type(e).__name__}: {e}\n")


class DisplayPublisher:
    """IPython's `shell.display_pub`: `publish(data, metadata, transient, update)`."""

    def __init__(self, shell: Shell):
        self.shell = shell

    def publish(self, data: dict, metadata: dict | None = None, source: Any = None, *,
                transient: dict | None = None, update: bool = False) -> None:
        if isinstance(source, dict) and transient is None:  # positional call publish(data, md, transient)
            transient = source
        self.shell.publisher.display(data, metadata or {}, transient or {}, update)

    def clear_output(self, wait: bool = False) -> None:
        self.shell.publisher.clear_output(wait)


class ExecutionInfo:
    """What pre_run_cell callbacks receive."""

    def __init__(self, raw_cell: str, store_history: bool, silent: bool):
        self.raw_cell, self.store_history, self.silent = raw_cell, store_history, silent
        self.shell_futures = True
        self.cell_id = None


class Shell:
    """Runs Python cells the way IPython users expect; see the module docstring."""

    #: Which expression values a cell shows, as IPython's setting of the same name: "last_expr"
    #: (default), "all", "last", "last_expr_or_assign" or "none".
    ast_node_interactivity = "last_expr"
    #: Top-level `await` in cells (`%autoawait on|off`). Off, a cell that awaits at top level is a
    #: SyntaxError ('await' outside function), as in IPython with autoawait off.
    autoawait = True

    def __init__(self, publisher: Any = None, user_ns: dict | None = None, kernel: Any = None,
                 plugin_host: Any = None, load_plugins: bool = True, config: dict | None = None):
        self.publisher = publisher if publisher is not None else PrintPublisher()
        self.kernel = kernel
        self._plugin_host = plugin_host
        self._plugins_loaded = plugin_host is not None or not load_plugins
        self.config: dict = dict(config or {})
        self.formatter = DisplayFormatter()
        if not self._plugins_loaded or plugin_host is not None:
            self.formatter.before_first_use = self.load_plugins
        self.display_formatter = self.formatter  # IPython's name
        self.display_pub = DisplayPublisher(self)
        self.events = EventManager(self)
        self.magics = MagicRegistry()
        self._magics_loaded = False
        self._xmode = "Context"
        self.pdb = False
        self.last_traceback: list[str] | None = None
        self.last_error: dict | None = None
        self.execution_count = 1
        self.input_transformers: list[Callable[[str], str]] = []
        self._history = self._inspector = self._completer = self._extension_manager = None
        self._loop = None
        self._lock = threading.RLock()
        self._cell_depth = 0  # run_cell calls in progress (a cell may run another)
        self._std = (sys.stdout, sys.stderr)
        self.user_ns: dict = user_ns if user_ns is not None else {}
        self.user_ns_hidden: dict = {}
        self._init_user_ns()
        self.extra_builtins = {"display": _display_builtin, "get_ipython": current}
        self.activate()

    # ---- lifecycle ------------------------------------------------------------------------------

    def activate(self) -> None:
        """Make this the shell `get_ipython()` and `display()` talk to."""
        global _current
        _current = self
        for name, value in self.extra_builtins.items():
            setattr(builtins, name, value)

    def _init_user_ns(self) -> None:
        ns = self.user_ns
        ns.setdefault("__name__", "__main__")
        ns.setdefault("__builtins__", builtins)
        ns.setdefault("__doc__", None)
        ns.setdefault("__package__", None)
        ns.setdefault("__spec__", None)
        ns.setdefault("__loader__", None)
        main = sys.modules.get("__main__")
        hidden = {
            "In": [""], "Out": OutputCache(ns, self.config.get("output_cache_bytes")),  # capped by memory
            "_": "", "__": "", "___": "", "_i": "", "_ii": "",
            "_iii": "", "_i00": "", "_oh": None, "_ih": None, "_dh": [os.getcwd()],
            "get_ipython": current, "exit": _Exit(self), "quit": _Exit(self),
        }
        hidden["_oh"] = hidden["Out"]
        hidden["_ih"] = hidden["In"]
        ns.update(hidden)
        self.user_ns_hidden.update(hidden)
        self._main_module = main

    @property
    def user_global_ns(self) -> dict:
        return self.user_ns

    @property
    def plugin_host(self) -> Any:
        """The process's plugins, loaded on first need (never at kernel start)."""
        if not self._plugins_loaded:
            self._plugins_loaded = True
            try:
                from jup.core.pluginhost import get_plugin_manager
                self._plugin_host = get_plugin_manager()
            except Exception as e:
                self.write_err(f"Plugins could not be loaded ({type(e).__name__}: {e}); "
                               "running without magics and formatters from plugins.\n")
        return self._plugin_host

    @plugin_host.setter
    def plugin_host(self, host: Any) -> None:
        self._plugin_host, self._plugins_loaded = host, True

    def load_plugins(self) -> None:
        """Ask plugins for magics, display formatters and input transformers (once)."""
        host = self.plugin_host
        if host is None or self._magics_loaded:
            return
        self._magics_loaded = True
        for spec in host.collect("jup_magics", language="python"):
            try:
                self.magics.register(spec)
            except Exception as e:
                self.write_err(f"Skipped magic {getattr(spec, 'name', spec)!r}: {e}\n")
        for spec in host.collect("jup_display_formatters"):
            try:
                self.formatter.add_spec(spec)
            except Exception as e:
                self.write_err(f"Skipped display formatter {spec!r}: {e}\n")
        for func in host.collect("jup_input_transformers", language="python"):
            if callable(func):
                self.input_transformers.append(func)

    def _hook(self, name: str, **kwargs: Any) -> None:
        host = self._plugin_host if self._plugins_loaded else None
        if host is not None:
            host.call(name, **kwargs)

    # ---- helpers made on first use (written by the introspection engineer) ----------------------

    @property
    def history(self) -> Any:
        if self._history is None:
            from jup.python.history import HistoryManager
            self._history = HistoryManager(self)
        return self._history

    @history.setter
    def history(self, value: Any) -> None:
        self._history = value

    @property
    def inspector(self) -> Any:
        if self._inspector is None:
            from jup.python.inspector import Inspector
            self._inspector = Inspector(self)
        return self._inspector

    @property
    def extension_manager(self) -> Any:
        """IPython's `shell.extension_manager`: load_extension / unload_extension / reload_extension."""
        if self._extension_manager is None:
            from jup.python.extensions import ExtensionManager
            self._extension_manager = ExtensionManager(self)
        return self._extension_manager

    @property
    def completer(self) -> Any:
        if self._completer is None:
            from jup.python.completer import Completer
            self._completer = Completer(self)
        return self._completer

    # ---- settings -------------------------------------------------------------------------------

    @property
    def xmode(self) -> str:
        return self._xmode

    @xmode.setter
    def xmode(self, mode: str) -> None:
        self._xmode = normalize_mode(mode)

    # ---- namespace API --------------------------------------------------------------------------

    def push(self, variables: dict, interactive: bool = True) -> None:
        """Put variables into the user namespace (hidden from %who when not `interactive`)."""
        self.user_ns.update(variables)
        if not interactive:
            self.user_ns_hidden.update(variables)

    def ex(self, code: str) -> None:
        """Run a statement in the user namespace."""
        exec(code, self.user_ns)

    def ev(self, expr: str) -> Any:
        """Evaluate an expression in the user namespace."""
        return eval(expr, self.user_ns)

    def reset(self, new_session: bool = True) -> None:
        """Empty the namespace and the output history, as if the shell had just started."""
        self.user_ns.clear()
        self.user_ns_hidden.clear()
        self._init_user_ns()
        self.execution_count = 1
        if new_session and self._history is not None:
            fresh = getattr(self._history, "new_session", None)
            if callable(fresh):
                fresh()

    # ---- output ---------------------------------------------------------------------------------

    def write(self, text: str) -> None:
        self.publisher.stream("stdout", text)

    def write_err(self, text: str) -> None:
        try:
            self.publisher.stream("stderr", text)
        except Exception:
            pass

    def page(self, content: Any, start: int = 0) -> None:
        """Show text or a mime bundle in the frontend's pager (a `page` payload)."""
        data = content if isinstance(content, dict) else {"text/plain": str(content)}
        if "data" in data and isinstance(data["data"], dict):
            data = data["data"]
        self.publisher.payload({"source": "page", "data": data, "start": start})

    def set_next_input(self, text: str, replace: bool = False) -> None:
        """Ask the frontend to put `text` in the next input cell."""
        self.publisher.payload({"source": "set_next_input", "text": text, "replace": replace})

    def displayhook(self, value: Any) -> None:
        """Show a cell's result and remember it in `Out`, `_`, `__`, `___` and `_N`."""
        if value is None:
            return
        count = self.execution_count
        ns = self.user_ns
        if value is not ns.get("Out"):
            ns["___"], ns["__"], ns["_"] = ns.get("__", ""), ns.get("_", ""), value
            ns[f"_{count}"] = value
            ns["Out"][count] = value
        data, md = self.formatter.format(value)
        self.publisher.execute_result(count, data, md)
        if self._history is not None or self._history_enabled():
            try:
                self.history.store_output(count, data.get("text/plain", ""))
            except Exception:
                pass

    def _history_enabled(self) -> bool:
        return bool(self.config.get("history", True))

    # ---- tracebacks -----------------------------------------------------------------------------

    def _tb_formatter(self) -> TracebackFormatter:
        return TracebackFormatter(self._xmode, color=self.config.get("colors", True) is not False,
                                  hidden_files=(__file__,))

    def showtraceback(self, exc_info: tuple | None = None) -> list[str]:
        """Report the current (or given) exception to the user; returns the traceback lines."""
        etype, evalue, tb = exc_info or sys.exc_info()
        if etype is None:
            return []
        sys.last_type, sys.last_value, sys.last_traceback = etype, evalue, tb
        fmt = self._tb_formatter()
        try:
            if isinstance(evalue, UsageError):
                stb = [fmt._c("\x1b[31m", "UsageError") + f": {evalue}"]
            elif issubclass(etype, SyntaxError) and tb is None:
                stb = fmt.format_syntax_error(evalue)
            elif issubclass(etype, SystemExit):
                stb = ["An exception has occurred, use %tb to see the full traceback.\n",
                       fmt._message(etype, evalue)]
            else:
                stb = fmt.format(etype, evalue, tb)
        except Exception as e:  # a broken exception must not hide the first one
            stb = [f"{etype.__name__}: (the traceback could not be formatted: {type(e).__name__}: {e})"]
        ename = etype.__name__
        try:
            evalue_s = str(evalue)
        except Exception:
            evalue_s = "<unprintable>"
        self.last_traceback = stb
        self.last_error = {"ename": ename, "evalue": evalue_s, "traceback": stb}
        try:
            publisher_error(self.publisher, ename, evalue_s, stb)
        except Exception:
            pass
        if self.pdb and tb is not None and not isinstance(evalue, (UsageError, SystemExit)):
            self._auto_debug(tb)
        return stb

    def _auto_debug(self, tb: Any) -> None:
        """`%pdb on`: debug the error just shown. The cell's error stays the one the reply names:
        the debugger is skipped when nobody can answer it, and its own failure is one stderr line."""
        if not self.frontend_accepts_input():
            self.write_err("%pdb is on, but the debugger was not started: this frontend does not accept "
                           "input (allow_stdin is false). Run the cell from a frontend that does, or %pdb off.\n")
            return
        try:
            self.debugger(tb)
        except KeyboardInterrupt:
            self.write_err("Debugger interrupted.\n")
        except Exception as e:
            self.write_err(f"The debugger stopped: {type(e).__name__}: {e}\n")

    def frontend_accepts_input(self) -> bool:
        """Whether input() can reach a person now: not when the request that runs this cell said
        allow_stdin false (nbclient, papermill). Without a kernel it reads this process's stdin."""
        get_parent = getattr(self.kernel, "get_parent", None)
        if not callable(get_parent):
            return True
        parent = get_parent() or {}
        content = parent.get("content") if isinstance(parent, dict) else None
        return bool((content or {}).get("allow_stdin", True))

    def new_debugger(self, **kwargs: Any) -> Any:
        """A pdb that names cells `Cell In[N]` as tracebacks do and hides the shell's frames."""
        from jup.python.debugger import Debugger
        return Debugger(hidden_files=(__file__,), **kwargs)

    def showsyntaxerror(self, filename: str | None = None) -> list[str]:
        etype, evalue, _ = sys.exc_info()
        return self.showtraceback((etype, evalue, None))

    def debugger(self, tb: Any = None) -> None:
        """Post-mortem debugging of the last exception (what `%pdb on` does after every error)."""
        tb = tb or getattr(sys, "last_traceback", None)
        if tb is None:
            self.write_err("No traceback to debug: run a cell that raises first.\n")
            return
        import signal
        import threading
        on_main = threading.current_thread() is threading.main_thread()
        saved = signal.getsignal(signal.SIGINT) if on_main else None
        try:
            self.new_debugger().post_mortem(tb)
        finally:
            if on_main:
                signal.signal(signal.SIGINT, saved)

    # ---- magics ---------------------------------------------------------------------------------

    def _magic(self, name: str, kind: str) -> Any:
        spec = self.magics.find(name, kind)
        if spec is None and not self._magics_loaded:
            self.load_plugins()
            spec = self.magics.find(name, kind)
        return spec

    def find_magic(self, name: str, kind: str = "line") -> Callable | None:
        spec = self._magic(name, kind)
        return None if spec is None else spec.func

    find_line_magic = find_magic

    def find_cell_magic(self, name: str) -> Callable | None:
        return self.find_magic(name, "cell")

    def _call_magic(self, spec: Any, *args: Any) -> Any:
        if spec.needs_shell:
            return spec.func(*args, shell=self)
        return spec.func(*args)

    def run_line_magic(self, magic_name: str, line: str, _stack_depth: int = 1) -> Any:
        """Run `%magic_name line` ($var and {expr} in `line` are expanded first)."""
        spec = self._magic(magic_name, "line")
        if spec is None:
            hint = " (it is a cell magic: use %%" + magic_name + ")" if self._magic(magic_name, "cell") else ""
            raise UsageError(f"Line magic function `%{magic_name}` not found{hint}.")
        line = self.var_expand(line, _stack_depth)
        return self._call_magic(spec, line)

    def run_cell_magic(self, magic_name: str, line: str, cell: str) -> Any:
        """Run `%%magic_name line` with `cell` as its body."""
        spec = self._magic(magic_name, "cell")
        if spec is None:
            hint = " (it is a line magic: use %" + magic_name + ")" if self._magic(magic_name, "line") else ""
            raise UsageError(f"Cell magic `%%{magic_name}` not found{hint}.")
        line = self.var_expand(line, 1)
        return self._call_magic(spec, line, cell)

    def magic(self, arg_s: str) -> Any:
        """Old spelling: `magic("name args")` runs `%name args`."""
        name, _, rest = arg_s.lstrip("%").partition(" ")
        return self.run_line_magic(name, rest, _stack_depth=2)

    def register_magic_function(self, func: Callable, magic_kind: str = "line",
                                magic_name: str | None = None) -> None:
        """Make a plain function a magic (`func(line)` or `func(line, cell)`)."""
        from jup.core import MagicSpec
        kind = {"line_cell": "both"}.get(magic_kind, magic_kind)
        self.magics.register(MagicSpec(name=magic_name or func.__name__, func=func, kind=kind,
                                       needs_shell=False, help=func.__doc__ or ""))

    def register_magics(self, *holders: Any) -> None:
        """Register IPython-style `Magics` classes or instances (see `IPython.core.magic`)."""
        for holder in holders:
            obj = holder(shell=self) if isinstance(holder, type) else holder
            table = getattr(obj, "magics", {}) or {}
            for kind, entries in table.items():
                for name, meth_name in entries.items():
                    func = getattr(obj, meth_name) if isinstance(meth_name, str) else meth_name
                    self.register_magic_function(func, "line" if kind == "line" else "cell", name)

    def pinfo(self, name: str, detail_level: int = 0) -> None:
        """`obj?` (0) and `obj??` (1): information about `name` in the pager."""
        if name.startswith("%"):
            kind = "cell" if name.startswith("%%") else "line"
            spec = self._magic(name.lstrip("%"), kind)
            if spec is None:
                self.write_err(f"Object `{name}` not found.\n")
                return
            text = (spec.help or getattr(spec.func, "__doc__", None) or "No help for this magic.").strip()
            self.page({"text/plain": f"{name}\n\n{text}"})
            return
        info = None
        try:
            info = self.inspector.info(name, detail_level)
        except ImportError:
            info = None
        if not info:
            self.write(f"Object `{name}` not found.\n")
            return
        self.page(info)

    # ---- shell commands (delegated to jup.python.system) ----------------------------------------

    def system(self, cmd: str) -> None:
        """Run a shell command, its output going to the cell; the exit code lands in `_exit_code`.

        Returns None (as IPython does) so that `!cmd` as a cell's last line shows no `Out[N]: 0`."""
        from jup.python import system as _system
        cmd = self.var_expand(cmd, 1)
        _system.system(self, cmd)

    system_raw = system
    system_piped = system

    def getoutput(self, cmd: str, split: bool = True, depth: int = 0) -> Any:
        """Run a shell command and return its output lines (an SList with .s, .n, .grep)."""
        from jup.python import system as _system
        cmd = self.var_expand(cmd, depth + 1)
        out = _system.getoutput(self, cmd)
        return out if split else getattr(out, "n", out)

    def var_expand(self, text: str, depth: int = 0) -> str:
        """Expand `$name`, `${expr}` style `{expr}` and `$$` in `text` from the caller's scope."""
        if "$" not in text and "{" not in text:
            return text
        try:
            frame = sys._getframe(depth + 1)
            ns = {**self.user_ns, **frame.f_locals} if frame.f_globals is self.user_ns or \
                frame.f_code.co_filename.startswith("<jup-input") else dict(self.user_ns)
        except ValueError:
            ns = dict(self.user_ns)
        from jup.python._varexpand import expand
        return expand(text, ns)

    # ---- running code ---------------------------------------------------------------------------

    automagic = True  #: `cd /tmp` runs %cd when no variable is called `cd` (IPython's default)

    def _is_automagic(self, name: str) -> bool:
        if name in self.user_ns or hasattr(builtins, name):
            return False
        return self._magic(name, "line") is not None

    def transform_cell(self, raw: str) -> str:
        """IPython syntax to Python, then the plugins' input transformers, in order."""
        if self.automagic:
            raw = _transform.automagic(raw, self._is_automagic)
        code = _transform.transform_cell(raw)
        for func in self.input_transformers:
            code = func(code)
        return code

    def _fix_streams(self) -> None:
        """A cell that closed or replaced-then-closed sys.stdout must not silence the next one."""
        for attr, orig in (("stdout", self._std[0]), ("stderr", self._std[1])):
            cur = getattr(sys, attr)
            if cur is None or getattr(cur, "closed", False):
                replacement = orig
                if getattr(orig, "closed", False):
                    reopen = getattr(self.kernel, "reopen_stream", None)
                    replacement = reopen(attr) if reopen is not None else getattr(sys, "__" + attr + "__")
                setattr(sys, attr, replacement)

    def run_cell(self, raw_cell: str, store_history: bool | None = None, silent: bool = False,
                 cell_id: str | None = None) -> ExecutionResult:
        """Run one cell; every error is shown to the user and returned, never raised.

        `store_history` left unset means: stored (and counted) for a top-level cell, not for one
        that running code starts (`get_ipython().run_cell(...)`, as IPython does), so a nested
        call does not advance the execution count the frontend shows."""
        with self._lock:
            if store_history is None:
                store_history = self._cell_depth == 0
            self.activate()
            self._cell_depth += 1
            try:
                return self._run_cell(raw_cell, store_history and not silent, silent)
            finally:
                self._cell_depth -= 1

    def _run_cell(self, raw: str, store_history: bool, silent: bool) -> ExecutionResult:
        self._fix_streams()
        count = self.execution_count
        result = ExecutionResult(execution_count=count)
        self.last_error = None
        info = ExecutionInfo(raw, store_history, silent)
        self.events.trigger("pre_execute")
        if not silent:
            self.events.trigger("pre_run_cell", info)
        self._hook("jup_pre_execute", kernel=self.kernel, code=raw)
        try:
            try:
                code = self.transform_cell(raw)
            except Exception as e:
                self.showtraceback()
                result.error_before_exec = e
                return result
            if store_history:
                self._store_input(count, raw, code)
            filename = cell_filename(count, raw)
            linecache.cache[filename] = (len(raw), None, raw.splitlines(True) or ["\n"], filename)
            try:
                tree = compile(code, filename, "exec", ast.PyCF_ONLY_AST | _COMPILE_FLAGS)
            except (SyntaxError, ValueError, OverflowError) as e:
                if isinstance(e, SyntaxError) and code != raw:
                    e.text = None  # point into the user's text, not the rewritten line
                self.showtraceback((type(e), e, None))
                result.error_before_exec = e
                return result
            if not self.autoawait:
                try:  # the same check plain Python makes: no top-level await, async for/with
                    compile(tree, filename, "exec")
                except SyntaxError as e:
                    self.showtraceback((type(e), e, None))
                    result.error_before_exec = e
                    return result
            self._run_ast(tree, filename, raw, code, silent, result)
            return result
        finally:
            if result.error_before_exec is not None or result.error_in_exec is not None:
                result.success = False
            if store_history:
                self.execution_count += 1
            self.events.trigger("post_execute")
            if not silent:
                self.events.trigger("post_run_cell", result)
            self._hook("jup_post_execute", kernel=self.kernel, code=raw, result=result)
            self._fix_streams()
            if self._loop is None and "asyncio" in sys.modules:
                try:
                    self._adopt_loop()
                except Exception:
                    pass

    def _store_input(self, count: int, raw: str, code: str) -> None:
        ns = self.user_ns
        ins = ns.get("In")
        if isinstance(ins, list):
            while len(ins) < count:
                ins.append("")
            ins.append(raw) if len(ins) == count else ins.__setitem__(count, raw)
        # as in IPython, while cell N runs `_i` is cell N-1 and `_iN` is cell N
        ns["_iii"], ns["_ii"], ns["_i"] = ns.get("_ii", ""), ns.get("_i", ""), ns.get("_i00", "")
        ns["_i00"] = raw
        ns[f"_i{count}"] = raw
        if self._history_enabled():
            try:
                self.history.store_input(count, code, raw)
            except Exception as e:
                if not getattr(self, "_history_warned", False):
                    self._history_warned = True
                    self.write_err(f"History is off for this session: {type(e).__name__}: {e}\n")

    def _run_ast(self, tree: ast.Module, filename: str, raw: str, code: str, silent: bool,
                 result: ExecutionResult) -> None:
        """Run the statements; show expression values as `ast_node_interactivity` says."""
        body = list(tree.body)
        mode = self.ast_node_interactivity
        if mode == "last_expr_or_assign" and body and isinstance(body[-1], (ast.Assign, ast.AugAssign,
                                                                                ast.AnnAssign)):
            last = body[-1]
            targets = last.targets if isinstance(last, ast.Assign) else [last.target]
            if len(targets) == 1 and isinstance(targets[0], ast.Name) and \
                    not (isinstance(last, ast.AnnAssign) and last.value is None):
                name = ast.Expr(ast.Name(targets[0].id, ast.Load()))
                body.append(ast.fix_missing_locations(ast.copy_location(name, last)))
        n = len(body)
        if mode == "all":
            shown = {i for i, node in enumerate(body) if isinstance(node, ast.Expr)}
        elif mode == "none":
            shown = set()
        else:
            shown = {n - 1} if n and isinstance(body[-1], ast.Expr) else set()
        if silent or _ends_with_semicolon(code):
            shown.discard(n - 1)
            if silent:
                shown = set()
        evaluated = shown | ({n - 1} if n and isinstance(body[-1], ast.Expr) else set())
        steps = _steps(body, evaluated, filename)
        loop = self._cell_loop(code)
        if loop is not None:
            self._run_steps_in_loop(loop, steps, n, shown, result)
            return
        try:
            for i, compiled in steps:
                value = self._run_code(compiled)
                if i is not None:
                    self._show_value(i, value, n, shown, result)
        except BaseException as e:  # noqa: B036 - nothing the user's code raises may end the shell
            result.error_in_exec = e
            self.showtraceback((type(e), e, e.__traceback__))

    def _show_value(self, i: int, value: Any, n: int, shown: set, result: ExecutionResult) -> None:
        if i == n - 1:
            result.result = value
        if i in shown:
            self.displayhook(value)

    # ---- cells on the kernel's event loop -------------------------------------------------------

    @property
    def runs_cells_in_loop(self) -> bool:
        """Whether cells run as tasks of the asyncio loop once it is adopted (as in ipykernel): in a
        kernel process only; in-process, the host owns the thread and its loop."""
        kernel = self.kernel
        return kernel is not None and not getattr(kernel, "in_process", True) and \
            hasattr(kernel, "idle_waiter")

    def _cell_loop(self, code: str) -> Any:
        """The loop this cell runs on, or None (asyncio never used: no cost; nested cells)."""
        if self._loop is None and "asyncio" not in sys.modules and "asyncio" not in code:
            return None
        if not self.runs_cells_in_loop:
            return None
        import asyncio
        if asyncio._get_running_loop() is not None:  # a cell run by a cell: already on the loop
            return None
        loop = self._adopt_loop()
        return None if loop.is_running() else loop  # the user runs it in a thread of theirs

    def _run_steps_in_loop(self, loop: Any, steps: Any, n: int, shown: set,
                           result: ExecutionResult) -> None:
        """Run the cell as a task of `loop`: `create_task` and `get_running_loop` work at top level,
        top-level awaits are awaited by that task, background tasks progress while it awaits."""
        import asyncio
        interrupted = [False]

        async def cell() -> None:
            try:
                for i, compiled in steps:
                    value = eval(compiled, self.user_ns)
                    if compiled.co_flags & _CO_COROUTINE:
                        value = await value
                    if i is not None:
                        self._show_value(i, value, n, shown, result)
            except BaseException as e:  # noqa: B036 - nothing the user's code raises may end the shell
                if interrupted[0] and isinstance(e, asyncio.CancelledError):
                    e = KeyboardInterrupt().with_traceback(_up_to_last_cell_frame(e.__traceback__))
                elif isinstance(e, KeyboardInterrupt):
                    _cut_handler_frames(e.__traceback__)
                result.error_in_exec = e
                self.showtraceback((type(e), e, e.__traceback__))

        task = loop.create_task(cell())
        with _interrupts_to_cell(loop, task, interrupted):
            self._drive(loop, task, interrupted, result)

    def _drive(self, loop: Any, task: Any, interrupted: list, result: ExecutionResult) -> None:
        """Run the loop until the cell's task is done. The cell's own errors stay in the task; what
        escapes the loop came from elsewhere. Each round ends with the cell done or one such escape,
        so the count bounds a misbehaving background task."""
        for _ in range(100):
            try:
                loop.run_until_complete(task)
                return
            except KeyboardInterrupt:  # it hit the loop's wait (the cell awaits) or another task
                if task.done():
                    return
                if interrupted[0]:  # interrupted again while the cell ignores its cancellation
                    raise
                interrupted[0] = True
                task.cancel()  # the cell sees CancelledError at its await; reported as the interrupt
            except SystemExit as e:  # sys.exit() in a background task does not end the kernel
                self.write_err(f"A background task called sys.exit({e.code!r}); the kernel "
                               "carries on (restart the kernel to end it).\n")
            except Exception as e:  # the cell stopped or closed the loop under itself
                if not task.done():
                    task.cancel()
                if result.error_in_exec is None:
                    result.error_in_exec = e
                    self.showtraceback((type(e), e, e.__traceback__))
                return

    @property
    def compile_flags(self) -> int:
        """Flags for compiling user code: top-level await allowed while `autoawait` is on."""
        return _COMPILE_FLAGS if self.autoawait else 0

    def run_code_maybe_async(self, code: Any, ns: dict | None = None) -> Any:
        """Evaluate a code object compiled with `compile_flags` in `ns` (the user namespace by
        default); code that awaits at top level runs on the shell's event loop. For magics such
        as %time that run user code themselves."""
        value = eval(code, self.user_ns if ns is None else ns)
        if code.co_flags & _CO_COROUTINE:
            value = self._run_coroutine(value)
        return value

    def _run_code(self, code: Any) -> Any:
        value = eval(code, self.user_ns)
        if code.co_flags & _CO_COROUTINE:
            value = self._run_coroutine(value)
        return value

    def _run_coroutine(self, coro: Any) -> Any:
        """Top-level await: run on the shell's own event loop (kept between cells, so tasks live)."""
        import asyncio
        try:
            asyncio.get_running_loop()
            running = True
        except RuntimeError:
            running = False
        if running:  # a host loop is running in this thread: run the cell's loop in a helper thread
            box: dict = {}

            def run() -> None:
                try:
                    box["value"] = asyncio.run(coro)
                except BaseException as e:  # noqa: B036
                    box["error"] = e
            t = threading.Thread(target=run, name="jup-await")
            t.start()
            t.join()
            if "error" in box:
                raise box["error"]
            return box.get("value")
        return self._adopt_loop().run_until_complete(coro)

    def _adopt_loop(self) -> Any:
        """The cells' event loop: the one the user's code already made current, else a new one;
        kept between cells so that tasks a cell created can be awaited by a later one."""
        import asyncio
        import warnings
        if self._loop is None or self._loop.is_closed():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                try:
                    loop = asyncio.get_event_loop_policy().get_event_loop()
                except RuntimeError:
                    loop = None
            if loop is None or loop.is_closed() or loop.is_running():
                loop = asyncio.new_event_loop()
            self._loop = loop
            if self.runs_cells_in_loop:  # the kernel runs it while idle, so tasks progress
                from jup.python import eventloops
                sched = eventloops.scheduler(self.kernel)
                if sched is not None:
                    sched.use_loop(loop)
        asyncio.set_event_loop(self._loop)
        return self._loop

    # ---- IPython compatibility odds and ends ----------------------------------------------------

    def enable_gui(self, gui: str | None = None) -> str | None:
        """Process a GUI toolkit's events whenever the kernel waits for requests (`%gui tk`,
        `%matplotlib qt`), so its windows stay alive between cells; None or "" stops. Returns the
        toolkit's name. Raises ValueError for a toolkit that is unknown or cannot start."""
        from jup.python import eventloops
        sched = eventloops.scheduler(self.kernel)
        if sched is None:
            if gui:
                self.write_err(f"GUI event loop '{gui}' not started: that needs a kernel process. "
                               "Here, windows update while plt.pause() or the toolkit's mainloop runs.\n")
            return None
        return sched.set_gui(gui)

    def enable_matplotlib(self, gui: str | None = None) -> tuple[str, str]:
        """`%matplotlib GUI`: switch matplotlib's backend, then run (or stop) the GUI's events."""
        from jup.python import eventloops, mpl_backend
        backend = mpl_backend.activate(gui or "inline", shell=self)
        toolkit = eventloops.canonical(gui or "inline")
        self.enable_gui(toolkit if toolkit in eventloops.gui_names() else None)
        return gui or "inline", backend

    def run_cell_async(self, raw_cell: str, store_history: bool = False, silent: bool = False, **kw):
        async def run():
            return self.run_cell(raw_cell, store_history, silent)
        return run()

    def getoutput_lines(self, cmd: str) -> list[str]:
        return list(self.getoutput(cmd))

    def has_trait(self, name: str) -> bool:
        return hasattr(self, name)

    def object_inspect(self, oname: str, detail_level: int = 0) -> dict:
        return self.inspector.info(oname, detail_level) or {}


@contextmanager
def _interrupts_to_cell(loop: Any, task: Any, interrupted: list) -> Iterator[None]:
    """While the cell's task runs on `loop`, SIGINT interrupts the cell, not whatever the loop is
    doing: in the cell's own code it raises KeyboardInterrupt as usual; while the loop waits or runs
    another task, the cell is cancelled at its await instead (the background task lives on). A
    second interrupt before the cell stopped raises wherever the loop is, as a last resort."""
    import _signal  # the signal module's C core: its wrappers' enum conversions cost ~25 us a cell
    import asyncio
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_sigint(signum: int, frame: Any) -> None:
        if arrived is not None:  # the kernel redelivers a SIGINT until a handler says it came
            arrived()
        if interrupted[0] or asyncio.current_task(loop) is task:
            if callable(previous):
                previous(signum, frame)
                return
            raise KeyboardInterrupt
        interrupted[0] = True
        loop.call_soon_threadsafe(task.cancel)

    on_sigint.calls_sigint_arrived = True  # type: ignore[attr-defined]
    arrived = getattr(getattr(_signal.getsignal(_signal.SIGINT), "__self__", None), "sigint_arrived", None)
    previous = _signal.signal(_signal.SIGINT, on_sigint)
    try:
        yield
    finally:
        current = _signal.signal(_signal.SIGINT, previous)
        if current is not on_sigint:  # the cell installed its own handler: it stays
            _signal.signal(_signal.SIGINT, current)


def _up_to_last_cell_frame(tb: Any) -> Any:
    """An interrupted await's traceback, cut after the last frame of a cell: the user interrupted
    their code, not asyncio's internals where the cancellation surfaced."""
    last = None
    node = tb
    while node is not None:
        if node.tb_frame.f_code.co_filename.startswith("<jup-input-"):
            last = node
        node = node.tb_next
    if last is not None:
        last.tb_next = None
    return tb


def _cut_handler_frames(tb: Any) -> None:
    """Leave the SIGINT handler's frames out of a KeyboardInterrupt raised in a cell's code."""
    node = tb
    while node is not None and node.tb_next is not None:
        code = node.tb_next.tb_frame.f_code
        if code.co_name == "on_sigint" and code.co_filename == __file__:
            node.tb_next = None
            return
        node = node.tb_next


def _steps(body: list[ast.stmt], evaluated: set[int], filename: str) -> Any:
    """The cell as code objects, in order: (index, expression to evaluate) for each statement in
    `evaluated`, (None, statements) for the runs of statements between them."""
    chunk: list[ast.stmt] = []
    for i, node in enumerate(body):
        if i not in evaluated:
            chunk.append(node)
            continue
        if chunk:
            yield None, compile(ast.Module(body=chunk, type_ignores=[]), filename, "exec", _COMPILE_FLAGS)
            chunk = []
        yield i, compile(ast.Expression(body=node.value), filename, "eval", _COMPILE_FLAGS)
    if chunk:
        yield None, compile(ast.Module(body=chunk, type_ignores=[]), filename, "exec", _COMPILE_FLAGS)


def _ends_with_semicolon(code: str) -> bool:
    """Whether the last statement ends with `;` (comments and blank lines after it ignored)."""
    for line in reversed(code.rstrip().splitlines()):
        text = _transform.top_level_lines(line)[0][1].rstrip()
        if text:
            return text.endswith(";")
    return False


class _Exit:
    """`exit` / `quit` in a kernel: ask the frontend to end the session instead of killing it."""

    def __init__(self, shell: Shell):
        self.shell = shell

    def __repr__(self) -> str:
        return "Type exit() to end this session."

    def __call__(self, keep_kernel: bool = False) -> None:
        self.shell.publisher.payload({"source": "ask_exit", "keepkernel": keep_kernel})


def _display_builtin(*objs: Any, **kwargs: Any) -> Any:
    from jup.python.display import display
    return display(*objs, **kwargs)
