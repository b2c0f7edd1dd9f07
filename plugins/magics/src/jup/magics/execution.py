"""Running code in other ways: %run (scripts, modules, notebooks), %debug, %pdb and %%capture."""

from __future__ import annotations

import builtins
import contextlib
import io
import json
import os
import runpy
import sys
import time
import tokenize
import types
from typing import Any

from jup.core import UsageError
from jup.magics import args as _args
from jup.magics.args import int_option, magic_spec, parse_argstring, split_options

# ---- %run ---------------------------------------------------------------------------------------


def run(line: str, *, shell: Any) -> None:
    """Run a Python script, a module or a notebook, then keep its variables in your namespace.

    %run [-i] [-t [-N N]] script.py [args...]    %run -m module [args...]

    -i  run inside your namespace (the script sees your variables)
    -t  print the time it took (-N N: run it N times)
    -m  run a module found on sys.path, like `python -m`
    The script sees `__name__ == "__main__"` and `sys.argv == [script, *args]`.
    .ipy files and .ipynb notebooks run cell by cell through the shell.
    """
    import shlex

    opts, rest = split_options(line, "itmN:", "run")
    try:
        argv = shlex.split(rest)
    except ValueError as exc:
        raise UsageError(f"%run: {exc}; close the quote") from None
    if not argv:
        raise UsageError("%run needs a file to run: %run [-i] [-t] script.py [args] or %run -m module")
    repeat = int_option(opts, "N", "run", 1) or 1
    target, args = argv[0], argv[1:]
    if opts.get("m"):
        runner = _module_runner(shell, target, args, bool(opts.get("i")))
    else:
        runner = _file_runner(shell, target, args, bool(opts.get("i")))
    if not opts.get("t"):
        runner()
        return
    t0, w0 = os.times(), time.perf_counter()
    for _ in range(repeat):
        runner()
    w1, t1 = time.perf_counter(), os.times()
    user, system, wall = t1.user - t0.user, t1.system - t0.system, w1 - w0
    print("\nCPU timings (estimated):")
    if repeat > 1:
        print(f"Total runs {repeat}; times are for all runs, then per run:")
        print(f"  User   : {user:10.2f} s, {user / repeat:10.2f} s.")
        print(f"  System : {system:10.2f} s, {system / repeat:10.2f} s.")
        print(f"Wall time: {wall:10.2f} s.")
    else:
        print(f"  User   : {user:10.2f} s.")
        print(f"  System : {system:10.2f} s.")
        print(f"Wall time: {wall:10.2f} s.")


def _find_file(target: str) -> str:
    path = os.path.expanduser(target)
    if os.path.isfile(path):
        return os.path.abspath(path)
    if not os.path.splitext(path)[1] and os.path.isfile(path + ".py"):
        return os.path.abspath(path + ".py")
    raise UsageError(f"File {target!r} not found (in {os.getcwd()}). Give a path to a .py, .ipy or "
                     ".ipynb file, or use %run -m for a module.")


@contextlib.contextmanager
def _script_env(path: str, args: list[str]):
    """sys.argv and sys.path[0] as `python script.py args` would set them; restored after."""
    saved_argv, saved_path0 = sys.argv, list(sys.path)
    sys.argv = [path, *args]
    sys.path.insert(0, os.path.dirname(path))
    try:
        yield
    finally:
        sys.argv = saved_argv
        sys.path[:] = saved_path0


def _exit_ok(exc: SystemExit) -> bool:
    return exc.code in (None, 0)


def _file_runner(shell: Any, target: str, args: list[str], interactive: bool):
    path = _find_file(target)
    ext = os.path.splitext(path)[1].lower()

    def run_cells(cells: list[str]) -> None:
        with _script_env(path, args):
            for cell in cells:
                result = shell.run_cell(cell, store_history=False)
                if getattr(result, "success", True) is False:
                    break

    if ext == ".ipynb":
        def run_notebook() -> None:
            with open(path, encoding="utf-8") as f:
                try:
                    nb = json.load(f)
                except ValueError as exc:
                    raise UsageError(f"%run: {path} is not a notebook ({exc})") from None
            cells = ["".join(c.get("source", "")) if isinstance(c.get("source"), list)
                     else c.get("source", "") for c in nb.get("cells", [])
                     if c.get("cell_type") == "code"]
            run_cells(cells)
        return run_notebook
    if ext == ".ipy":
        def run_ipy() -> None:
            with open(path, encoding="utf-8") as f:
                run_cells([f.read()])
        return run_ipy

    def run_py() -> None:
        with tokenize.open(path) as f:
            source = f.read()
        code = compile(source, path, "exec", dont_inherit=True)
        if interactive:
            ns = shell.user_ns
            saved = {k: ns.get(k) for k in ("__name__", "__file__")}
            ns["__file__"] = path
            main = None
        else:  # a real module named __main__, so what the script defines pickles by reference
            main = _main_module(shell, path)
            ns = main.__dict__
        saved_main = sys.modules.get("__main__")
        try:
            with _script_env(path, args):
                if main is not None:
                    sys.modules["__main__"] = main
                exec(code, ns)
        except SystemExit as exc:
            if not _exit_ok(exc):
                raise
        finally:
            if main is not None and saved_main is not None:
                sys.modules["__main__"] = saved_main
            if interactive:
                ns["__name__"] = saved["__name__"]
            else:  # what the script defined stays available, as after `python -i script.py`
                shell.user_ns.update({k: v for k, v in ns.items() if not k.startswith("__")})
    return run_py


def _main_module(shell: Any, path: str) -> types.ModuleType:
    """A fresh `__main__` module for one run of `path`. The shell keeps the last one per file
    alive: the functions a script defined still see their globals after the run, and running the
    same file again replaces (rather than piles up) its module."""
    main = types.ModuleType("__main__", None)
    main.__dict__.update({"__file__": path, "__builtins__": builtins, "__package__": None,
                          "__spec__": None, "__loader__": None})
    kept = getattr(shell, "_run_main_modules", None)
    if not isinstance(kept, dict):
        kept = {}
        try:
            shell._run_main_modules = kept
        except AttributeError:
            pass
    kept[path] = main
    return main


def _module_runner(shell: Any, module: str, args: list[str], interactive: bool):
    def run_module() -> None:
        import importlib.util
        try:
            spec = importlib.util.find_spec(module)
        except (ImportError, ValueError):
            spec = None
        if spec is None:
            raise UsageError(f"%run -m: no module named {module!r} on sys.path; check the name or "
                             "install it.")
        init = {k: v for k, v in shell.user_ns.items() if not k.startswith("__")} if interactive \
            else None
        result: dict = {}
        saved_argv = sys.argv
        sys.argv = [spec.origin or module, *args]
        try:
            result = runpy.run_module(module, init_globals=init, run_name="__main__", alter_sys=True)
        except SystemExit as exc:
            if not _exit_ok(exc):
                raise
        finally:
            sys.argv = saved_argv
            shell.user_ns.update({k: v for k, v in result.items() if not k.startswith("__")})
    return run_module


# ---- %debug and %pdb ----------------------------------------------------------------------------


@contextlib.contextmanager
def _kernel_stdin(shell: Any):
    """pdb reads with input(); route that through the kernel's stdin channel while it runs."""
    raw_input = getattr(getattr(shell, "kernel", None), "raw_input", None)
    if not callable(raw_input):
        yield
        return
    saved = builtins.input
    builtins.input = raw_input
    try:
        yield
    finally:
        builtins.input = saved


def _debugger(shell: Any) -> Any:
    """The shell's debugger (cells named as tracebacks name them), else the standard pdb."""
    factory = getattr(shell, "new_debugger", None)
    if callable(factory):
        dbg = factory(stdout=sys.stdout)
    else:
        import pdb
        # nosigint: pdb's own Ctrl-C handler would stay installed after `continue` and swallow the
        # kernel's later interrupts
        dbg = pdb.Pdb(stdout=sys.stdout, nosigint=True)
    dbg.use_rawinput = True
    return dbg


@contextlib.contextmanager
def _keep_sigint():
    """Whatever the debugged code does to SIGINT, interrupts work as before once it is done."""
    import signal
    import threading
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    saved = signal.getsignal(signal.SIGINT)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, saved)


def debug(line: str, cell: str | None = None, *, shell: Any) -> None:
    """Debug with pdb, reading commands from the frontend.

    %debug            post-mortem: inspect the frames of the last exception
    %debug STATEMENT  run STATEMENT under the debugger (%%debug: the cell)
    Type `help` at the (Pdb) prompt, `q` to leave."""
    code = cell if cell is not None else line.strip()
    accepts = getattr(shell, "frontend_accepts_input", None)
    if callable(accepts) and not accepts():
        raise UsageError("%debug needs a frontend that accepts input, and this one does not "
                         "(allow_stdin is false). Run it from a notebook or console that does.")
    dbg = _debugger(shell)
    with _kernel_stdin(shell), _keep_sigint():
        if code:
            transform = getattr(shell, "transform_cell", None)
            dbg.run(transform(code) if callable(transform) else code, shell.user_ns)
            return
        tb = getattr(sys, "last_traceback", None)
        if tb is None:
            raise UsageError("%debug: there is no exception to debug yet. Run a cell that raises, "
                             "then %debug; or %debug STATEMENT to step through code.")
        if hasattr(dbg, "post_mortem"):
            dbg.post_mortem(tb)
        else:
            dbg.reset()
            dbg.interaction(None, tb)


def pdb(line: str, *, shell: Any) -> None:
    """Start the debugger automatically after every uncaught exception: `%pdb on|off|1|0`, or
    `%pdb` alone to toggle."""
    arg = line.strip().lower()
    if arg in ("", "toggle"):
        new = not bool(getattr(shell, "pdb", False))
    elif arg in ("on", "1", "true", "yes"):
        new = True
    elif arg in ("off", "0", "false", "no"):
        new = False
    else:
        raise UsageError(f"%pdb: use on or off, not {line.strip()!r}")
    shell.pdb = new
    print(f"Automatic pdb calling has been turned {'ON' if new else 'OFF'}")


# ---- %%capture ----------------------------------------------------------------------------------


class CapturedIO:
    """What `%%capture var` keeps: `.stdout`, `.stderr`, `.outputs` (rich displays, in order);
    `.show()` (or calling it) replays everything into the current cell."""

    def __init__(self, shell: Any, stdout: str, stderr: str, outputs: list[dict]):
        self._shell = shell
        self.stdout, self.stderr, self.outputs = stdout, stderr, outputs

    def show(self) -> None:
        if self.stdout:
            sys.stdout.write(self.stdout)
            sys.stdout.flush()
        if self.stderr:
            sys.stderr.write(self.stderr)
            sys.stderr.flush()
        for out in self.outputs:
            self._shell.publisher.display(out["data"], out.get("metadata", {}), {}, False)

    __call__ = show

    def __repr__(self) -> str:
        return (f"<CapturedIO: {len(self.stdout)} chars stdout, {len(self.stderr)} chars stderr, "
                f"{len(self.outputs)} rich outputs>")


class _CapturingPublisher:
    """Stands in for the shell's publisher during %%capture, keeping what it is given."""

    def __init__(self, real: Any, out: io.StringIO | None, err: io.StringIO | None, display: bool):
        self.real, self.out, self.err, self.keep_display = real, out, err, display
        self.outputs: list[dict] = []

    def display(self, data: dict, metadata: dict, transient: dict, update: bool) -> None:
        if self.keep_display:
            self.outputs.append({"data": data, "metadata": metadata})
        else:
            self.real.display(data, metadata, transient, update)

    def execute_result(self, count: int, data: dict, metadata: dict) -> None:
        self.display(data, metadata, {}, False)

    def stream(self, name: str, text: str) -> None:
        target = self.err if name == "stderr" else self.out
        if target is not None:
            target.write(text)
        else:
            self.real.stream(name, text)

    def error(self, ename: str, evalue: str, traceback: list[str]) -> None:
        if self.err is not None:
            self.err.write("\n".join(traceback) + "\n")
        elif hasattr(self.real, "error"):
            self.real.error(ename, evalue, traceback)

    def __getattr__(self, name: str) -> Any:  # clear_output, payload ... pass through
        return getattr(self.real, name)


class _Tee(io.StringIO):
    """sys.stdout/err replacement that keeps text (and looks like a text stream)."""

    encoding = "utf-8"

    def isatty(self) -> bool:
        return False


def capture(line: str, cell: str, *, shell: Any) -> None:
    """Run the cell and keep its output instead of showing it.

    %%capture [--no-stdout] [--no-stderr] [--no-display] [VAR]
    With VAR, the captured output is stored as a CapturedIO in VAR: `VAR.stdout`, `VAR.stderr`,
    `VAR.outputs`, and `VAR.show()` to display it later. The --no-X flags leave that kind shown."""
    parser = _args.MagicArgumentParser("%%capture")
    parser.add_argument("--no-stdout", action="store_true")
    parser.add_argument("--no-stderr", action="store_true")
    parser.add_argument("--no-display", action="store_true")
    parser.add_argument("var", nargs="?")
    args = parse_argstring(parser, line)
    if args.var is not None and not args.var.isidentifier():
        raise UsageError(f"%%capture: {args.var!r} is not a variable name")
    out = None if args.no_stdout else _Tee()
    err = None if args.no_stderr else _Tee()
    real = shell.publisher
    pub = _CapturingPublisher(real, out, err, not args.no_display)
    saved = sys.stdout, sys.stderr
    shell.publisher = pub
    if out is not None:
        sys.stdout = out
    if err is not None:
        sys.stderr = err
    try:
        shell.run_cell(cell, store_history=False)
    finally:
        sys.stdout, sys.stderr = saved
        shell.publisher = real
    if args.var:
        shell.user_ns[args.var] = CapturedIO(shell, out.getvalue() if out else "",
                                             err.getvalue() if err else "", pub.outputs)


MAGICS = [magic_spec(run), magic_spec(debug, "debug", "both"), magic_spec(pdb),
          magic_spec(capture, "capture", "cell")]
