"""`jup kernels doctor [NAME]`: check an installed kernel the way a user meets it, one step at a time.

Any kernelspec works (ours, ipykernel's, a third party's): the doctor starts it with the ordinary
KernelManager and walks through what a notebook does — kernel_info, heartbeat, execute (stream,
result, error), completion, inspection, is_complete, history, input(), interrupt (and whether the
cell stopped), restart, shutdown — then looks for leftovers (process, process group, connection
file, runtime files). Steps that need code use snippets for the kernel's language (from
kernel_info); for a language it has none for they are marked skipped rather than guessed. Each step
is bounded by a timeout; a kernel that dies mid-way is reported with the manager's reason, and the
rest is skipped."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

OK, FAIL, SKIP = "ok", "FAIL", "skipped"


@dataclass
class CheckResult:
    """One row of the doctor's table."""

    name: str
    status: str  # OK, FAIL or SKIP
    detail: str = ""
    ms: float | None = None

    def result_text(self) -> str:
        return self.status if not self.detail else f"{self.status}: {self.detail}"


class Failed(Exception):
    """A check found something wrong; the message says what a user would see."""


class Skipped(Exception):
    """A check cannot run for this kernel; the message says why."""


@dataclass(frozen=True)
class Snippets:
    """Code in one language for the checks that need code."""

    stream: str              # prints STREAM_TEXT on stdout
    result: tuple[str, str]  # (code, text/plain of its execute_result)
    error: tuple[str, str]   # (code, ename)
    complete: tuple[str, str]  # (code, a match that must be offered at its end)
    inspect: str             # code naming something documented
    incomplete: str          # a statement that needs more lines
    complete_stmt: str       # a complete statement
    stdin: tuple[str, str, str]  # (code, what we type, text it prints back)
    busy: str                # prints BUSY_TEXT, then runs for ~30 s in interruptible code


STREAM_TEXT = "jup doctor: hello"
BUSY_TEXT = "jup doctor: busy"

SNIPPETS: dict[str, Snippets] = {
    "python": Snippets(
        stream=f"import os\nprint({STREAM_TEXT!r})",
        result=("6 * 7", "42"),
        error=("1 / 0", "ZeroDivisionError"),
        complete=("import os\nos.pa", "path"),
        inspect="len",
        incomplete="for i in range(3):",
        complete_stmt="x = 1",
        stdin=("_jup_doctor = input('doctor> ')\nprint(_jup_doctor[::-1])", "stressed", "desserts"),
        busy=f"import time\nprint({BUSY_TEXT!r}, flush=True)\ntime.sleep(30)",
    ),
}


class Doctor:
    """Runs the checks against one kernelspec; `await Doctor(spec).run()` returns the rows."""

    def __init__(self, spec: Any, timeout: float = 20.0, start_timeout: float | None = None):
        self.spec = spec
        self.timeout = timeout
        self.start_timeout = start_timeout if start_timeout is not None else max(timeout, 30.0)
        self.results: list[CheckResult] = []
        self.km: Any = None
        self.kc: Any = None
        self.language = (getattr(spec, "language", "") or "").lower()
        self.snippets: Snippets | None = None
        self.death: str | None = None
        self._died: asyncio.Event | None = None
        self._log: Any = None
        self._pid: int | None = None
        self._connection_file: str | None = None
        self._runtime_dir: str | None = None
        self._exit_expected = False

    # ---- running one check --------------------------------------------------------------------

    async def check(self, name: str, step: Callable[[], Awaitable[str | None]],
                    needs_kernel: bool = True) -> bool:
        """Run `step`, time it and record its row; True when it passed."""
        if needs_kernel and (self.kc is None or self.death is not None):
            why = "the kernel did not start" if self.km is None or self.kc is None else "the kernel died"
            self.results.append(CheckResult(name, SKIP, why))
            return False
        t0 = time.perf_counter()
        status, detail = OK, ""
        try:
            detail = await self._guarded(step()) or ""
        except Skipped as e:
            status, detail = SKIP, str(e)
        except Failed as e:
            status, detail = FAIL, str(e)
        except Exception as e:  # the KernelTimeout and KernelDied messages are written for users
            from jup.core.errors import JupError
            status, detail = FAIL, str(e) if isinstance(e, JupError) else f"{type(e).__name__}: {e}"
        ms = (time.perf_counter() - t0) * 1000
        self.results.append(CheckResult(name, status, detail, None if status == SKIP else ms))
        return status == OK

    async def _guarded(self, coro: Awaitable[str | None]) -> str | None:
        """Await `coro`, but stop at once with the manager's reason if the kernel dies meanwhile."""
        task = asyncio.ensure_future(coro)
        if self._died is None:
            return await asyncio.wait_for(task, self.timeout * 3)
        died = asyncio.ensure_future(self._died.wait())
        try:
            done, _ = await asyncio.wait({task, died}, timeout=self.timeout * 3,
                                         return_when=asyncio.FIRST_COMPLETED)
        finally:
            died.cancel()
        if task in done:
            return task.result()
        task.cancel()
        with contextlib.suppress(BaseException):
            await task
        if died in done:
            tail = self._kernel_output()
            raise Failed((self.death or "the kernel died") + (f" Its output ends with: {tail}" if tail else ""))
        raise Failed(f"no answer within {self.timeout * 3:g} s")

    def _code(self) -> Snippets:
        if self.snippets is None:
            raise Skipped(f"no test code for language {self.language or '(unknown)'!r}")
        return self.snippets

    async def _run(self, code: str, stdin: Callable[[dict], Any] | None = None,
                   on_output: Callable[[dict], Any] | None = None) -> tuple[dict, list[dict]]:
        msgs: list[dict] = []

        def hook(msg: dict) -> None:
            msgs.append(msg)
            if on_output is not None:
                on_output(msg)
        reply = await self.kc.execute_interactive(code, timeout=self.timeout, output_hook=hook,
                                                  stdin_hook=stdin, allow_stdin=stdin is not None)
        return reply, msgs

    # ---- the checks, in the order a user meets them ---------------------------------------------

    async def run(self) -> list[CheckResult]:
        """Every check, in order; the kernel is always shut down and its leftovers looked for."""
        from jup.core.paths import jupyter_runtime_dir
        self._runtime_dir = jupyter_runtime_dir()
        try:
            await self.check("start", self.start, needs_kernel=False)
            await self.check("kernel_info", self.kernel_info)
            await self.check("heartbeat", self.heartbeat)
            await self.check("execute: stream", self.execute_stream)
            await self.check("execute: result", self.execute_result)
            await self.check("execute: error", self.execute_error)
            await self.check("complete", self.complete)
            await self.check("inspect", self.inspect)
            await self.check("is_complete", self.is_complete)
            await self.check("history", self.history)
            await self.check("stdin", self.stdin)
            await self.check("interrupt", self.interrupt)
            await self.check("restart", self.restart)
            await self.check("shutdown", self.shutdown)
        finally:
            await self._cleanup()
        await self.check("leftovers", self.leftovers, needs_kernel=False)
        return self.results

    async def start(self) -> str:
        from jup.core.manager import KernelManager
        self._log = tempfile.NamedTemporaryFile(prefix="jup-doctor-", suffix=".log", delete=False)
        self.km = km = KernelManager(self.spec, autorestart=False, heartbeat_interval=0,
                                     shutdown_wait=self.timeout, start_timeout=self.start_timeout,
                                     popen_kwargs={"stdout": self._log, "stderr": self._log})
        self._died = asyncio.Event()

        def on_event(ev: Any) -> None:
            if ev.name == "died" and not self._exit_expected:
                self.death = ev.message
                self._died.set()  # type: ignore[union-attr]
        km.on_event(on_event)
        try:
            await km.start(timeout=self.start_timeout)
        except Exception as e:
            from jup.core.errors import KernelDied, describe_exit
            tail = self._kernel_output()
            why = (f"the kernel process {describe_exit(e.returncode, e.oom)} before answering kernel_info; "
                   f"check its argv {' '.join(self.spec.argv)!r}." if isinstance(e, KernelDied) else str(e))
            raise Failed(why + (f" Its output ends with: {tail}" if tail else "")) from None
        self._pid, self._connection_file = km.pid, km.connection_file
        self.kc = km.client()
        self.kc.start_channels()
        await self.kc.wait_for_ready(self.timeout)
        return f"pid {km.pid}"

    def _kernel_output(self, lines: int = 3) -> str:
        if self._log is None:
            return ""
        try:
            with open(self._log.name, encoding="utf-8", errors="replace") as fh:
                text = fh.read()[-4000:]
        except OSError:
            return ""
        return " | ".join(line.strip() for line in text.strip().splitlines()[-lines:] if line.strip())

    async def kernel_info(self) -> str:
        reply = await self.kc.kernel_info(reply=True, timeout=self.timeout)
        c = reply["content"]
        if c.get("status", "ok") != "ok":
            raise Failed(f"kernel_info_reply has status {c.get('status')!r}")
        info = c.get("language_info") or {}
        lang = str(info.get("name") or self.language or "").lower()
        if not lang:
            raise Failed("kernel_info_reply has no language_info.name")
        self.language = lang
        self.snippets = SNIPPETS.get(lang)
        impl = c.get("implementation", "?")
        version = f"{lang} {info.get('version', '')}".rstrip()
        return f"{impl}, {version}, protocol {c.get('protocol_version', '?')}"

    async def heartbeat(self) -> str:
        if not await self.kc.heartbeat(timeout=min(self.timeout, 5.0)):
            raise Failed("no echo on the heartbeat channel: managers will call this kernel unresponsive")
        return ""

    async def execute_stream(self) -> str:
        s = self._code()
        reply, msgs = await self._run(s.stream)
        _status_ok(reply)
        text = "".join(m["content"].get("text", "") for m in msgs
                       if m["msg_type"] == "stream" and m["content"].get("name") == "stdout")
        if STREAM_TEXT not in text:
            raise Failed(f"printed {STREAM_TEXT!r} but stdout showed {text[:80]!r}")
        return ""

    async def execute_result(self) -> str:
        code, want = self._code().result
        reply, msgs = await self._run(code)
        _status_ok(reply)
        results = [m["content"] for m in msgs if m["msg_type"] == "execute_result"]
        if not results:
            raise Failed(f"{code!r} showed no execute_result")
        got = results[-1].get("data", {}).get("text/plain", "")
        if got != want:
            raise Failed(f"{code!r} showed {got!r}, expected {want!r}")
        return ""

    async def execute_error(self) -> str:
        code, ename = self._code().error
        reply, msgs = await self._run(code)
        c = reply["content"]
        if c.get("status") != "error":
            raise Failed(f"{code!r} replied with status {c.get('status')!r}, expected 'error'")
        errors = [m["content"] for m in msgs if m["msg_type"] == "error"]
        if not errors:
            raise Failed(f"{code!r} failed but no error message was shown on iopub")
        if errors[-1].get("ename") != ename:
            raise Failed(f"{code!r} showed {errors[-1].get('ename')!r}, expected {ename!r}")
        return ""

    async def complete(self) -> str:
        code, want = self._code().complete
        reply = await self.kc.complete(code, len(code), reply=True, timeout=self.timeout)
        c = reply["content"]
        if c.get("status") != "ok":
            raise Failed(f"complete_reply has status {c.get('status')!r}")
        matches = c.get("matches") or []
        if not any(str(m).endswith(want) for m in matches):
            raise Failed(f"completing {code.splitlines()[-1]!r} did not offer {want!r} (got {matches[:5]})")
        return f"{len(matches)} matches"

    async def inspect(self) -> str:
        code = self._code().inspect
        reply = await self.kc.inspect(code, len(code), reply=True, timeout=self.timeout)
        c = reply["content"]
        if c.get("status") != "ok":
            raise Failed(f"inspect_reply has status {c.get('status')!r}")
        if not c.get("found") or not (c.get("data") or {}).get("text/plain"):
            raise Failed(f"inspecting {code!r} found nothing")
        return ""

    async def is_complete(self) -> str:
        s = self._code()
        for code, want in ((s.incomplete, "incomplete"), (s.complete_stmt, "complete")):
            reply = await self.kc.is_complete(code, reply=True, timeout=self.timeout)
            got = reply["content"].get("status")
            if got != want:
                raise Failed(f"{code!r} is {got!r}, expected {want!r}")
        return ""

    async def history(self) -> str:
        reply = await self.kc.history(hist_access_type="tail", n=10, raw=True, output=False,
                                      reply=True, timeout=self.timeout)
        c = reply["content"]
        if c.get("status", "ok") != "ok":
            raise Failed(f"history_reply has status {c.get('status')!r}")
        hist = c.get("history")
        if not isinstance(hist, list):
            raise Failed("history_reply has no history list")
        return f"{len(hist)} entries"

    async def stdin(self) -> str:
        code, typed, want = self._code().stdin
        asked: list[dict] = []

        def answer(req: dict) -> str:
            asked.append(req)
            return typed
        reply, msgs = await self._run(code, stdin=answer)
        if not asked:
            raise Failed("input() did not send an input_request")
        _status_ok(reply)
        text = "".join(m["content"].get("text", "") for m in msgs if m["msg_type"] == "stream")
        if want not in text:
            raise Failed(f"typed {typed!r} but the cell printed {text[:80]!r}")
        return ""

    async def interrupt(self) -> str:
        """Interrupt a running cell: interrupt_request first (its reply says whether it worked), then
        SIGINT if the kernel does not answer; the cell must end soon after either."""
        s = self._code()
        started = asyncio.Event()

        def seen(msg: dict) -> None:
            if msg["msg_type"] == "stream" and BUSY_TEXT in msg["content"].get("text", ""):
                started.set()
        cell = asyncio.ensure_future(self._run(s.busy, on_output=seen))
        try:
            await _first(started.wait(), cell, self.timeout, "the busy cell did not start")
            t0 = time.perf_counter()
            how = "interrupt_reply"
            try:
                reply = await self.kc.interrupt(reply=True, timeout=min(self.timeout, 3.0))
                status = reply["content"].get("status")
                how += f" {status}"
                if status != "ok":
                    how += f" ({reply['content'].get('evalue', '')})"
            except Exception:
                if self.spec.interrupt_mode == "message":
                    raise Failed("interrupt_request got no interrupt_reply within 3 s") from None
                how = "no interrupt_reply; SIGINT sent"
                await self.km.interrupt()
            try:
                reply, _ = await asyncio.wait_for(asyncio.shield(cell), 5.0)
            except TimeoutError:
                raise Failed(f"{how}, but the running cell did not stop within 5 s") from None
            stopped_ms = (time.perf_counter() - t0) * 1000
            if reply["content"].get("status") == "ok":
                raise Failed(f"{how}, but the cell ran to the end instead of stopping")
            if "ok" not in how and "SIGINT" not in how:
                raise Failed(f"{how}; the cell stopped anyway after {stopped_ms:.0f} ms")
            return f"{how}; the cell stopped after {stopped_ms:.0f} ms"
        finally:
            if not cell.done():
                cell.cancel()
                with contextlib.suppress(BaseException):
                    await cell

    async def restart(self) -> str:
        old = self.km.pid
        await self.km.restart(timeout=self.start_timeout)
        self._pid, self._connection_file = self.km.pid, self.km.connection_file
        await self.kc.wait_for_ready(self.timeout)
        reply = await self.kc.kernel_info(reply=True, timeout=self.timeout)
        if reply["content"].get("status", "ok") != "ok":
            raise Failed("the restarted kernel did not answer kernel_info")
        if self.km.pid == old:
            raise Failed("restart kept the same process")
        if self.snippets is not None and self.language == "python":
            _, msgs = await self._run("_jup_doctor")  # defined by the stdin check, before the restart
            if not any(m["msg_type"] == "error" for m in msgs):
                raise Failed("the restarted kernel still has the old kernel's variables")
        return f"pid {old} -> {self.km.pid}"

    async def shutdown(self) -> str:
        """shutdown_request alone must end the process (the manager's signals would hide a kernel
        that ignores it)."""
        proc = self.km.proc
        self._exit_expected = True
        reply = await self.kc.shutdown(reply=True, timeout=self.timeout)
        if reply["content"].get("status", "ok") != "ok":
            raise Failed(f"shutdown_reply has status {reply['content'].get('status')!r}")
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(None, proc.wait, self.timeout)
        except Exception:
            raise Failed(f"the process was still running {self.timeout:g} s after shutdown_reply") from None
        alive = _group_alive(proc.pid)
        if alive:
            raise Failed(f"the kernel exited but left {alive} process(es) of its group running")
        return f"exit code {proc.returncode}"

    async def _cleanup(self) -> None:
        if self.kc is not None:
            self.kc.stop_channels()
        if self.km is not None:
            with contextlib.suppress(Exception):
                await self.km.shutdown()
        if self._log is not None:
            self._log.close()

    async def leftovers(self) -> str:
        found = []
        if self._pid is not None:
            if _pid_alive(self._pid):
                found.append(f"process {self._pid} still runs")
            elif _group_alive(self._pid):
                found.append(f"processes of group {self._pid} still run")
        if self._connection_file and os.path.exists(self._connection_file):
            found.append(f"connection file {self._connection_file} remains")
        if self._pid is not None and self._runtime_dir and os.path.isdir(self._runtime_dir):
            tag = f"-{self._pid}-"
            found += [f"{os.path.join(self._runtime_dir, n)} remains"
                      for n in sorted(os.listdir(self._runtime_dir))
                      if tag in n]
        if self._log is not None:
            with contextlib.suppress(OSError):
                os.unlink(self._log.name)
        if found:
            raise Failed("; ".join(found))
        return "" if self._pid is not None else "no kernel was started"


def _status_ok(reply: dict) -> None:
    c = reply["content"]
    if c.get("status") != "ok":
        why = f"{c.get('ename', '')} {c.get('evalue', '')}".strip()
        raise Failed(f"execute_reply has status {c.get('status')!r}" + (f": {why}" if why else ""))


async def _first(event_wait: Awaitable, cell: asyncio.Future, timeout: float, what: str) -> None:
    """Wait for `event_wait`; fail if `cell` finishes first or nothing happens within `timeout`."""
    waiter = asyncio.ensure_future(event_wait)
    done, _ = await asyncio.wait({waiter, cell}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    if waiter not in done:
        waiter.cancel()
        if cell in done and cell.exception() is not None:
            raise cell.exception()  # type: ignore[misc]
        raise Failed(f"{what} within {timeout:g} s")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is gone for a user's purposes
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _group_alive(pgid: int) -> int:
    """How many live (non-zombie) processes are in process group `pgid` (0 when none or unknown)."""
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return 0
    n = 0
    try:
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                with contextlib.suppress(OSError, IndexError):
                    with open(f"/proc/{entry}/stat") as fh:
                        fields = fh.read().rsplit(")", 1)[1].split()
                    if fields[0] != "Z" and int(fields[2]) == pgid:
                        n += 1
    except OSError:
        return 1
    return n


# ---- the command ----------------------------------------------------------------------------------

def format_table(name: str, results: list[CheckResult]) -> str:
    """The table the command prints: check, result, time."""
    rows = [[r.name, r.result_text(), "" if r.ms is None else f"{r.ms:.0f} ms"] for r in results]
    header = ["CHECK", "RESULT", "TIME"]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(2)]
    lines = [f"kernel {name}"]
    for row in [header, *rows]:
        lines.append(f"  {row[0].ljust(widths[0])}  {row[1].ljust(widths[1])}  {row[2].rjust(8)}".rstrip())
    failed = [r.name for r in results if r.status == FAIL]
    lines.append(f"  {'FAILED: ' + ', '.join(failed) if failed else 'all checks passed'}"
                 f" ({sum(r.status == SKIP for r in results)} skipped)")
    return "\n".join(lines)


def doctor(name: str, timeout: float = 20.0, start_timeout: float | None = None) -> list[CheckResult]:
    """Check kernelspec `name`; the rows of the table."""
    from jup.core.kernelspec import get_kernel_spec
    spec = get_kernel_spec(name)
    return asyncio.run(Doctor(spec, timeout, start_timeout).run())


def cmd_kernels(argv: list[str]) -> int:
    """`jup kernels doctor [NAME]` and `jup kernels list`."""
    parser = argparse.ArgumentParser(prog="jup kernels",
                                     description="Installed kernels: list them, check them.")
    sub = parser.add_subparsers(dest="action", required=True, metavar="{doctor,list}")
    doc = sub.add_parser("doctor", help="start each kernel (or NAME) and check what a user relies on")
    doc.add_argument("name", nargs="?", help="kernelspec name (default: every installed kernel)")
    doc.add_argument("--timeout", type=float, default=20.0, metavar="S",
                     help="seconds each step may take (default 20)")
    doc.add_argument("--start-timeout", type=float, default=None, metavar="S",
                     help="seconds the kernel may take to start (default: max(timeout, 30))")
    sub.add_parser("list", help="the installed kernelspecs (as `jup kernelspec list`)")
    args = parser.parse_args(argv)
    from jup.core.kernelspec import find_kernel_specs
    if args.action == "list":
        from jup.core.builtin_commands import cmd_kernelspec
        return cmd_kernelspec(["list"])
    specs = find_kernel_specs()
    if args.name and args.name not in specs:
        print(f"jup: error: no kernel named {args.name!r}. Installed: {', '.join(sorted(specs)) or 'none'} "
              "(see `jup kernelspec list`).", file=sys.stderr)
        return 2
    names = [args.name] if args.name else sorted(specs)
    if not names:
        print("No kernels are installed. Install a kernel plugin, e.g. `pip install jup-python`.")
        return 1
    failed = False
    for i, name in enumerate(names):
        if i:
            print()
        results = doctor(name, args.timeout, args.start_timeout)
        print(format_table(name, results), flush=True)
        failed |= any(r.status == FAIL for r in results)
    return 1 if failed else 0


__all__ = ["CheckResult", "Doctor", "Snippets", "SNIPPETS", "cmd_kernels", "doctor", "format_table"]
