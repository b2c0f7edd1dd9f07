"""`jup run terminal [options] [script [args]]`: parse the command line, pick batch or interactive mode.

Batch runs (`-c`, `-m`, a script, or code piped on stdin) never import prompt_toolkit or traitlets,
and on the default in-process kernel not asyncio either: they start about as fast as the kernel does.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

USAGE = "jup run terminal [options] [-c CODE | -m MODULE | script.py] [args...]"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="jup run terminal", usage=USAGE,
                                description="An interactive shell on a kernel (Python in-process by default).")
    p.add_argument("-c", dest="code", metavar="CODE", help="run CODE, then exit (unless -i)")
    p.add_argument("-m", dest="module", metavar="MODULE", help="run a Python module as __main__, then exit")
    p.add_argument("-i", dest="interactive", action="store_true", help="stay in the shell after -c/-m/script")
    p.add_argument("--kernel", metavar="NAME", help="start kernel NAME out of process (e.g. python3)")
    p.add_argument("--existing", nargs="?", const="", metavar="FILE",
                   help="attach to a running kernel (newest, or its connection FILE)")
    p.add_argument("--vi", action="store_true", help="vi key bindings (same as --TerminalShell.editing_mode=vi)")
    p.add_argument("--no-confirm-exit", action="store_true", help="Ctrl-D exits without asking")
    p.add_argument("--style", metavar="NAME", help="pygments style for highlighting")
    p.add_argument("--help-config", action="store_true", help="list the TerminalShell config options")
    p.add_argument("script", nargs="?", help="a file to run (Python: as __main__)")
    p.add_argument("args", nargs=argparse.REMAINDER, help="arguments for the script or module")
    return p


def _python_wrapper(args: argparse.Namespace, language: str) -> str:
    """The code that runs a module or script the way `python -m`/`python script` would."""
    if language != "python":
        if args.module:
            raise ValueError(f"-m runs Python modules; this kernel's language is {language}.")
        with open(args.script, encoding="utf-8") as f:
            return f.read()
    argv = [args.module or args.script, *args.args]
    if args.module:
        return (f"import runpy as __r, sys as __s; __s.argv = {argv!r}\n"
                f"__r.run_module({args.module!r}, run_name='__main__', alter_sys=True); del __r, __s")
    return (f"import runpy as __r, sys as __s; __s.argv = {argv!r}\n"
            f"globals().update(__r.run_path({args.script!r}, run_name='__main__')); del __r, __s")


async def _plain_input(prompt: str, password: bool) -> str:
    """Answer the kernel's input() from our stdin, without prompt_toolkit."""
    import asyncio
    loop = asyncio.get_running_loop()
    if password:
        import getpass
        return await loop.run_in_executor(None, getpass.getpass, prompt)
    return await loop.run_in_executor(None, input, prompt)


async def run_batch(bridge, code: str, renderer) -> int:
    """Execute one cell, print what it produced; exit status 1 if it raised."""
    from jup.core.errors import KernelDied
    try:
        reply = await bridge.execute(code, renderer, input_hook=_plain_input)
    except KernelDied as e:
        renderer.ensure_newline()
        print(str(e), file=sys.stderr)
        return 1
    return _print_payloads(reply, renderer)


def _batch_code(args: argparse.Namespace) -> str | None:
    """The code of a `-c` run, or what is piped on stdin when nothing else says what to run."""
    if args.code is None and not (args.module or args.script) and not sys.stdin.isatty():
        return sys.stdin.read()
    return args.code


def _print_payloads(reply: dict, renderer) -> int:
    renderer.ensure_newline()
    for payload in reply.get("payload") or []:
        if payload.get("source") == "page":
            renderer.write(payload.get("data", {}).get("text/plain", "") + "\n")
    return 0 if reply.get("status") == "ok" else 1


def _run_batch(args: argparse.Namespace, batch_code: str | None,
               run: Callable[[str, object], dict]) -> int:
    """The module or script (if any), then the code, each through `run(code, renderer) -> reply`;
    the exit status of the last (2 when the script cannot be read)."""
    from jup.terminal.render import Renderer, detect_image_protocol

    cells = []
    if args.module or args.script:
        try:
            cells.append(_python_wrapper(args, "python"))
        except (OSError, ValueError) as e:
            print(f"jup terminal: {e}", file=sys.stderr)
            return 2
    if batch_code is not None:
        cells.append(batch_code)
    status = 0
    for code in cells:
        renderer = Renderer(image_protocol=detect_image_protocol())
        status = _print_payloads(run(code, renderer), renderer)
    return status


def _direct_batch(args: argparse.Namespace, batch_code: str | None) -> int | None:
    """Run a batch on jup's Python shell in this process, without a kernel (see jup.terminal.direct);
    None when the default kernel is another one."""
    from jup.terminal import direct

    shell = direct.start()
    if shell is None:
        return None
    try:
        return _run_batch(args, batch_code, shell.run)
    finally:
        shell.close()


def _sync_batch(args: argparse.Namespace, batch_code: str | None) -> int | None:
    """Run a batch on the in-process kernel without an event loop; None when that kernel is unavailable
    (then the general path starts whatever kernel serves instead)."""
    from jup.terminal.inprocess import start_in_process

    kernel = start_in_process()
    if kernel is None:
        return None
    from jup.terminal.inprocess import InProcessExecutor

    try:
        return _run_batch(args, batch_code, InProcessExecutor(kernel).run)
    finally:
        kernel.close()


async def _amain(args: argparse.Namespace, overrides: list[str]) -> int:
    from jup.core.errors import JupError
    from jup.terminal.kernels import open_kernel
    from jup.terminal.render import Renderer, detect_image_protocol

    batch_code = _batch_code(args)
    interactive = args.interactive or (batch_code is None and not (args.module or args.script))
    settings = None
    if interactive:
        from jup.terminal.settings import load_settings
        if args.vi:
            overrides.append("--TerminalShell.editing_mode=vi")
        if args.no_confirm_exit:
            overrides.append("--TerminalShell.confirm_exit=False")
        if args.style:
            overrides.append(f"--TerminalShell.highlighting_style={args.style}")
        settings = load_settings(overrides)
        from jup.terminal.shell import make_style
        make_style(settings)  # a bad style name stops here, before a kernel is started
    elif overrides:  # checked, so a typo is not silently ignored, though only the shell uses them
        from jup.terminal.settings import load_settings
        load_settings(overrides)

    try:
        bridge = await open_kernel(args.kernel, args.existing, attach=args.existing is not None)
    except JupError as e:
        print(f"jup terminal: {e}", file=sys.stderr)
        return 2
    status = 0
    try:
        language = bridge.language_info.get("name", "")
        if args.module or args.script:
            try:
                code = _python_wrapper(args, language)
            except (OSError, ValueError) as e:
                print(f"jup terminal: {e}", file=sys.stderr)
                return 2
            status = await run_batch(bridge, code, Renderer(image_protocol=detect_image_protocol()))
        if batch_code is not None:
            status = await run_batch(bridge, batch_code, Renderer(image_protocol=detect_image_protocol()))
        if interactive:
            from jup.terminal.shell import Shell
            status = await Shell(bridge, settings).run()
    finally:
        await bridge.close(shutdown=args.existing is None)
    return status


def main(argv: list[str] | None = None) -> int:
    """Entry point of `jup run terminal` and `python -m jup.terminal`; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    overrides = [a for a in argv if a.startswith("--TerminalShell.")]
    argv = [a for a in argv if a not in overrides]
    args = build_parser().parse_args(argv)
    if args.help_config:
        from jup.terminal.settings import help_config
        print(help_config())
        return 0
    if args.code is not None and (args.module or args.script):
        args.args = [a for a in ([args.script] if args.script else []) + args.args]
        args.script = None
    instant = None
    if args.existing is None and args.code is None and not (args.module or args.script):
        from jup.terminal import instant  # interactive on a terminal: the prompt shows at once
        instant.start(args.kernel or "", overrides)
    try:
        status = None
        if not (args.interactive or overrides or args.kernel or args.existing is not None):
            batch_code = _batch_code(args)
            if batch_code is not None or args.module or args.script:
                status = _direct_batch(args, batch_code)
                if status is None:
                    status = _sync_batch(args, batch_code)
                if status is None and batch_code is not None:
                    args.code = batch_code  # stdin is read: hand its text to the general path
        if status is None:
            import asyncio
            status = asyncio.run(_amain(args, overrides))
    except KeyboardInterrupt:
        return 130
    except Exception as e:
        from jup.core.errors import JupError
        if isinstance(e, JupError):
            print(f"jup terminal: {e}", file=sys.stderr)
            return 2
        raise
    finally:
        if instant is not None:
            instant.finish()
    # CPython marks an interrupted `exec("...")` of user code (in-process kernel) as an unhandled
    # Ctrl-C and then kills this process with SIGINT at exit; a clean exec clears that mark
    exec("pass")
    return status


if __name__ == "__main__":
    sys.exit(main())
