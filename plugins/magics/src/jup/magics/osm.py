"""Magics that talk to the operating system: %cd %pwd %env %set_env %alias %pip, and the cell
magics %%bash %%sh %%script %%writefile."""

from __future__ import annotations

import codecs
import os
import signal
import sys
import threading
import weakref
from typing import Any

from jup.core import MagicSpec, UsageError
from jup.magics import args as _args
from jup.magics.args import magic_spec, parse_argstring

# ---- directories --------------------------------------------------------------------------------


def cd(line: str, *, shell: Any) -> None:
    """Change the working directory: `%cd DIR`, `%cd` (home), `%cd -` (back to the previous one).
    Every directory visited is kept in `_dh`."""
    arg = line.strip()
    if len(arg) >= 2 and arg[0] == arg[-1] and arg[0] in "'\"":
        arg = arg[1:-1]
    history = shell.user_ns.setdefault("_dh", [os.getcwd()])
    if arg == "-":
        if len(history) < 2:
            raise UsageError("%cd -: there is no previous directory yet")
        target = history[-2]
    elif not arg:
        target = os.path.expanduser("~")
    else:
        target = os.path.expanduser(arg)
    try:
        os.chdir(target)
    except FileNotFoundError:
        raise UsageError(f"%cd: no such directory: {target}") from None
    except NotADirectoryError:
        raise UsageError(f"%cd: not a directory: {target}") from None
    except PermissionError:
        raise UsageError(f"%cd: permission denied: {target}") from None
    new = os.getcwd()
    history.append(new)
    print(new)


def pwd(line: str, *, shell: Any) -> str:
    """The current working directory (returned, so it shows as the result)."""
    if line.strip():
        raise UsageError("%pwd takes no arguments")
    return os.getcwd()


# ---- environment --------------------------------------------------------------------------------


def _set_var(text: str, prog: str) -> tuple[str, str]:
    if "=" in text.split(" ", 1)[0]:
        name, _, value = text.partition("=")
    else:
        name, _, value = text.partition(" ")
    name, value = name.strip(), value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        value = value[1:-1]
    if not name or not name.replace("_", "a").isalnum():
        raise UsageError(f"%{prog}: {name!r} is not an environment variable name; "
                         f"use %{prog} NAME=value")
    return name, value


def env(line: str, *, shell: Any) -> Any:
    """Environment variables: `%env` (all, as a dict), `%env NAME` (one), `%env NAME=value` or
    `%env NAME value` (set it for this kernel and the commands it starts)."""
    arg = line.strip()
    if not arg:
        return dict(os.environ)
    if "=" not in arg and " " not in arg:
        try:
            return os.environ[arg]
        except KeyError:
            raise UsageError(f"%env: {arg} is not set; set it with %env {arg}=value") from None
    name, value = _set_var(arg, "env")
    os.environ[name] = value
    print(f"env: {name}={value}")
    return None


def set_env(line: str, *, shell: Any) -> None:
    """Set an environment variable: `%set_env NAME value` or `%set_env NAME=value`."""
    arg = line.strip()
    if not arg or ("=" not in arg and " " not in arg):
        raise UsageError("%set_env needs a name and a value: %set_env NAME value")
    name, value = _set_var(arg, "set_env")
    os.environ[name] = value
    print(f"env: {name}={value}")


# ---- aliases ------------------------------------------------------------------------------------

_aliases: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def alias(line: str, *, shell: Any) -> None:
    """Define a shell command as a line magic: `%alias NAME COMMAND`. In COMMAND, `%s` takes the
    arguments in order and `%l` the whole rest of the line. `%alias` alone lists the aliases.
    Example: `%alias lsd ls -d %s/` then `%lsd /tmp`."""
    table = _aliases.setdefault(shell, {})
    parts = line.strip().split(None, 1)
    if not parts:
        every = {**(DEFAULT_ALIASES if os.name == "posix" else {}), **table}
        print(f"Total number of aliases: {len(every)}")
        for name, cmd in sorted(every.items()):
            print(f"{name:<12} {cmd}")
        return
    name = parts[0]
    if not name.isidentifier():
        raise UsageError(f"%alias: {name!r} is not a valid name for a magic")
    cmd = parts[1] if len(parts) > 1 else name
    if cmd.count("%s") and "%l" in cmd:
        raise UsageError("%alias: use either %s (each argument) or %l (the whole line), not both")
    table[name] = cmd
    shell.magics.register(alias_spec(name, cmd))


def alias_spec(name: str, cmd: str) -> MagicSpec:
    """The line magic `%name args` that runs the shell command `cmd` with the arguments."""
    nargs = cmd.count("%s")

    def run_alias(args: str, *, shell: Any) -> None:
        words = args.split()
        if nargs:
            if len(words) < nargs:
                raise UsageError(f"%{name} needs {nargs} argument(s): {cmd}")
            text = cmd % tuple(words[:nargs]) + "".join(" " + w for w in words[nargs:])
        elif "%l" in cmd:
            text = cmd.replace("%l", args)
        else:
            text = f"{cmd} {args}".rstrip()
        return shell.system(text)

    run_alias.__doc__ = f"Alias for `{cmd}`."
    return MagicSpec(name=name, func=run_alias, kind="line", needs_shell=True, help=run_alias.__doc__)


#: what IPython users type without `!` on a POSIX system (`ls`, `cat x`...), through automagic
DEFAULT_ALIASES = {"ls": "ls -F", "ll": "ls -F -l", "cat": "cat", "cp": "cp", "mv": "mv", "rm": "rm",
                   "mkdir": "mkdir", "rmdir": "rmdir"}


# ---- %pip ---------------------------------------------------------------------------------------


def pip(line: str, *, shell: Any) -> None:
    """Run pip for the Python this kernel runs on: `%pip install PACKAGE` (any pip command).
    Restart the kernel afterwards if you upgraded a package that was already imported."""
    import shlex

    if not line.strip():
        raise UsageError("%pip needs a pip command, e.g. %pip install requests")
    code = run_streaming([sys.executable, "-m", "pip", *shlex.split(line)])
    if line.split()[0] in ("install", "uninstall"):
        print("Note: you may need to restart the kernel to use updated packages.")
    if code:
        print(f"pip exited with code {code}", file=sys.stderr)


# ---- scripts ------------------------------------------------------------------------------------


def run_streaming(argv: list[str], stdin_text: str | None = None,
                  keep: dict[str, list[str]] | None = None) -> int:
    """Run `argv`, feeding it `stdin_text`, and copy its stdout/stderr into the cell as they
    arrive (or into `keep['stdout'|'stderr']` when given). Returns the exit code. Interrupting
    the kernel interrupts the command."""
    import selectors
    import subprocess

    proc = subprocess.Popen(argv, stdin=subprocess.PIPE if stdin_text is not None else
                            subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=(os.name != "nt"))
    if stdin_text is not None:
        def feed() -> None:
            try:
                proc.stdin.write(stdin_text.encode())
                proc.stdin.close()
            except (BrokenPipeError, OSError):
                pass
        threading.Thread(target=feed, name="jup-script-stdin", daemon=True).start()
    streams = {proc.stdout.fileno(): "stdout", proc.stderr.fileno(): "stderr"}
    decoders = {fd: codecs.getincrementaldecoder("utf-8")("replace") for fd in streams}
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    sel.register(proc.stderr, selectors.EVENT_READ)
    open_fds = set(streams)
    try:
        while open_fds:  # ends when the command closes both pipes
            for key, _ in sel.select():
                fd = key.fileobj.fileno()
                data = os.read(fd, 65536)
                if not data:
                    sel.unregister(key.fileobj)
                    open_fds.discard(fd)
                text = decoders[fd].decode(data, final=not data)
                if not text:
                    continue
                if keep is not None and streams[fd] in keep:
                    keep[streams[fd]].append(text)
                else:
                    stream = getattr(sys, streams[fd])
                    stream.write(text)
                    stream.flush()
        return proc.wait()
    except KeyboardInterrupt:
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGINT) if os.name != "nt" else proc.terminate()
                proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
            except ProcessLookupError:
                pass
        raise
    finally:
        sel.close()
        proc.stdout.close()
        proc.stderr.close()


def _script(interpreter: str | None, line: str, cell: str, shell: Any) -> None:
    import shutil
    import subprocess
    prog = "%%script" if interpreter is None else f"%%{interpreter}"
    parser = _args.MagicArgumentParser(prog)
    if interpreter is None:
        parser.add_argument("interpreter", nargs="+", help="the program that runs the cell")
    parser.add_argument("--out", help="store stdout in this variable instead of showing it")
    parser.add_argument("--err", help="store stderr in this variable instead of showing it")
    parser.add_argument("--no-raise-error", action="store_true",
                        help="do not raise an error when the script fails")
    args = parse_argstring(parser, line)
    argv = args.interpreter if interpreter is None else [interpreter]
    if shutil.which(argv[0]) is None:
        raise UsageError(f"{prog}: {argv[0]!r} is not installed or not on PATH")
    keep: dict[str, list[str]] = {}
    for name, var in (("stdout", args.out), ("stderr", args.err)):
        if var is not None:
            if not var.isidentifier():
                raise UsageError(f"{prog}: {var!r} is not a variable name")
            keep[name] = []
    code = run_streaming(argv, cell, keep)
    if args.out:
        shell.user_ns[args.out] = "".join(keep["stdout"])
    if args.err:
        shell.user_ns[args.err] = "".join(keep["stderr"])
    if code != 0 and not args.no_raise_error:
        raise subprocess.CalledProcessError(code, " ".join(argv))


def script(line: str, cell: str, *, shell: Any) -> None:
    """Run the cell with a program: `%%script PROGRAM [ARGS] [--out VAR] [--err VAR]
    [--no-raise-error]`, e.g. `%%script python3` or `%%script perl`. The cell is its stdin;
    output shows as it comes. A non-zero exit raises CalledProcessError."""
    _script(None, line, cell, shell)


def bash(line: str, cell: str, *, shell: Any) -> None:
    """Run the cell with bash (`%%bash [--out VAR] [--err VAR] [--no-raise-error]`)."""
    _script("bash", line, cell, shell)


def sh(line: str, cell: str, *, shell: Any) -> None:
    """Run the cell with sh (`%%sh [--out VAR] [--err VAR] [--no-raise-error]`)."""
    _script("sh", line, cell, shell)


def writefile(line: str, cell: str, *, shell: Any) -> None:
    """Write the cell to a file: `%%writefile [-a] FILENAME` (-a appends)."""
    parser = _args.MagicArgumentParser("%%writefile")
    parser.add_argument("-a", "--append", action="store_true")
    parser.add_argument("filename")
    args = parse_argstring(parser, line)
    path = os.path.expanduser(args.filename)
    exists = os.path.exists(path)
    if args.append:
        print(f"Appending to {args.filename}")
    else:
        print(f"{'Overwriting' if exists else 'Writing'} {args.filename}")
    try:
        with open(path, "a" if args.append else "w", encoding="utf-8") as f:
            f.write(cell if cell.endswith("\n") or not cell else cell + "\n")
    except OSError as exc:
        raise UsageError(f"%%writefile: cannot write {args.filename}: {exc.strerror}") from None


MAGICS = [magic_spec(cd), magic_spec(pwd), magic_spec(env), magic_spec(set_env), magic_spec(alias),
          magic_spec(pip), magic_spec(script, "script", "cell"), magic_spec(bash, "bash", "cell"),
          magic_spec(sh, "sh", "cell"), magic_spec(writefile, "writefile", "cell")]
if os.name == "posix":
    MAGICS += [alias_spec(name, cmd) for name, cmd in DEFAULT_ALIASES.items()]
