"""The interactive loop: prompt, run the cell on the kernel while its output streams, repeat.

prompt_toolkit runs in async mode on the same loop as the kernel client, so output is written as it
arrives and Ctrl-C during a cell interrupts the kernel (a second one offers a restart).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sys
from typing import TYPE_CHECKING, Any

from prompt_toolkit import PromptSession
from prompt_toolkit.auto_suggest import AutoSuggestFromHistory
from prompt_toolkit.enums import EditingMode
from prompt_toolkit.layout.processors import HighlightMatchingBracketProcessor
from prompt_toolkit.lexers import DynamicLexer
from prompt_toolkit.output import ColorDepth
from prompt_toolkit.shortcuts import CompleteStyle

from jup.core.errors import ConfigError, JupError, KernelDied
from jup.terminal import __version__
from jup.terminal.bridge import KernelBridge
from jup.terminal.completion import KernelCompleter, calltip_from_inspect, kernel_history
from jup.terminal.keys import build_key_bindings
from jup.terminal.render import Renderer, color_wanted, detect_image_protocol, strip_ansi

if TYPE_CHECKING:
    from jup.terminal.settings import TerminalShell

EXIT_WORDS = {"exit", "quit", "exit()", "quit()"}
_LEXER_ALIASES = {"ipython3": "python3", "ipython2": "python2", "ipython": "python"}


def _branding() -> Any:
    """The organisation's Branding from the `jup_branding` hook, or jup's own."""
    from jup.core.specs import Branding
    try:
        from jup.core.pluginhost import get_plugin_manager
        result = get_plugin_manager().call_first("jup_branding")
        if result is not None:
            return result
    except Exception:
        pass
    return Branding()


def make_lexer(language_info: dict) -> Any:
    """A prompt_toolkit lexer from the kernel's pygments lexer name, or None if pygments lacks it."""
    from pygments.lexers import find_lexer_class_by_name
    from pygments.util import ClassNotFound
    name = language_info.get("pygments_lexer") or language_info.get("name") or ""
    name = _LEXER_ALIASES.get(name, name)
    try:
        cls = find_lexer_class_by_name(name)
    except ClassNotFound:
        return None
    from jup.terminal.lexer import IncrementalPygmentsLexer
    return IncrementalPygmentsLexer(cls)  # re-lexes from the edited line, not the whole cell


class LazyLexer:
    """Plain text until the kernel's lexer is built (its regexes take ~70 ms) on a worker thread
    after the first prompt is on screen; then highlighting switches on."""

    def __init__(self, language_info: dict):
        self.language_info = language_info
        self.lexer: Any = None

    def current(self) -> Any:
        return self.lexer

    def build(self, app: Any) -> None:
        """Start building; not an app task, which would be cancelled when the prompt returns."""
        import asyncio

        def done(fut: asyncio.Future) -> None:
            if not fut.cancelled() and fut.exception() is None:
                self.lexer = fut.result()
                app.invalidate()

        asyncio.get_running_loop().run_in_executor(None, make_lexer, self.language_info).add_done_callback(done)


_STYLES: dict[tuple[str, str], Any] = {}  # made once: the start checks the name, the session uses it


def make_style(settings: TerminalShell) -> Any:
    """The pygments style named in config, plus the prompt colours."""
    key = (settings.highlighting_style, settings.color_prompt_in)
    if key not in _STYLES:
        _STYLES[key] = _make_style(settings)
    return _STYLES[key]


def _make_style(settings: TerminalShell) -> Any:
    from prompt_toolkit.styles import Style, merge_styles, style_from_pygments_cls
    from pygments.styles import get_all_styles, get_style_by_name
    from pygments.util import ClassNotFound
    try:
        base = style_from_pygments_cls(get_style_by_name(settings.highlighting_style))
    except ClassNotFound:
        raise ConfigError(f"TerminalShell.highlighting_style {settings.highlighting_style!r} is not a pygments "
                          f"style; pick one of: {', '.join(sorted(get_all_styles()))}.") from None
    return merge_styles([base, Style.from_dict({
        "prompt.in": settings.color_prompt_in, "prompt.cont": settings.color_prompt_in,
        "bottom-toolbar": "noreverse bg:ansibrightblack fg:ansiwhite",
    })])


def fits_on_screen(text: str, size: os.terminal_size | None = None) -> bool:
    """True when `text`, wrapped at the terminal width, leaves room for the prompt below it."""
    size = size or shutil.get_terminal_size()
    cols = max(size.columns, 1)
    rows = sum(max(1, -(-len(line) // cols)) for line in strip_ansi(text).rstrip("\n").split("\n"))
    return rows <= size.lines - 2


class Shell:
    """One interactive session on one kernel."""

    def __init__(self, bridge: KernelBridge, settings: TerminalShell):
        self.bridge = bridge
        self.settings = settings
        self.language = bridge.language_info.get("name", "")
        self.execution_count = bridge.execution_count + 1
        self.toolbar_text = ""
        self.next_input = ""
        self.session: PromptSession | None = None
        self.color = color_wanted(sys.stdout)
        protocol = settings.image_protocol
        self.renderer = Renderer(color=self.color,
                                 image_protocol=detect_image_protocol() if protocol == "auto" else
                                 (None if protocol == "file" else protocol),
                                 out_prompt=lambda n: settings.prompt_out.format(n=n),
                                 out_color=settings.color_prompt_out, probe_sixel=protocol == "auto")
        self._exit_status = 0

    # ---- pieces the key bindings use -------------------------------------------------------------

    def current_line_prefix_is_blank(self) -> bool:
        if self.session is None:
            return False
        return not self.session.default_buffer.document.current_line_before_cursor.strip()

    def request_calltip(self, code: str, pos: int) -> None:
        """Ask the kernel for the signature of the call being opened; show it in the toolbar."""
        app = self.session.app if self.session else None
        if app is None:
            return

        async def fetch() -> None:
            try:
                reply = await self.bridge.inspect(code, pos, 0)
            except JupError:
                return
            self.set_toolbar(calltip_from_inspect(reply))
            app.invalidate()

        app.create_background_task(fetch())

    def set_toolbar(self, text: str) -> None:
        """Show `text` in the bottom toolbar; with no text there is no toolbar (not an empty grey bar)."""
        self.toolbar_text = text
        if self.session is not None:
            self.session.bottom_toolbar = text or None

    # ---- prompts ---------------------------------------------------------------------------------

    def banner(self) -> str:
        brand = _branding()
        ki = self.bridge.kernel_info
        li = self.bridge.language_info
        impl = " ".join(x for x in (ki.get("implementation", ""), ki.get("implementation_version", "")) if x)
        lang = " ".join(x for x in (li.get("name", "?"), li.get("version", "")) if x)
        lines = [f"{brand.name} terminal {__version__} · kernel {self.bridge.handle.name} ({impl}) · {lang}"]
        if brand.banner:
            lines.append(brand.banner.strip())
        helps = " `?` gives help," if self.language == "python" else ""  # IPython syntax, both kernels
        lines.append(f"Tab completes, `(` shows the signature,{helps} Ctrl-C interrupts, Ctrl-D exits.")
        return "\n".join(lines) + "\n"

    def _prompt(self) -> list:
        return [("class:prompt.in", self.settings.prompt_in.format(n=self.execution_count))]

    def _continuation(self, width: int, line_number: int, is_soft_wrap: bool) -> list:
        return [("class:prompt.cont", self.settings.prompt_cont.rjust(width))]

    def _make_session(self, history: list[str]) -> PromptSession:
        s = self.settings
        self._lazy_lexer = LazyLexer(self.bridge.language_info) if s.highlight else None
        return PromptSession(
            history=kernel_history(history), multiline=True, key_bindings=build_key_bindings(self),
            lexer=DynamicLexer(self._lazy_lexer.current) if self._lazy_lexer else None,
            style=make_style(s), include_default_pygments_style=False,
            completer=KernelCompleter(self.bridge), complete_while_typing=False,
            complete_style=CompleteStyle.COLUMN,
            auto_suggest=AutoSuggestFromHistory() if s.autosuggest else None,
            enable_history_search=True, prompt_continuation=self._continuation,
            input_processors=[HighlightMatchingBracketProcessor(chars="[](){}")],
            bottom_toolbar=None,
            editing_mode=EditingMode.VI if s.editing_mode == "vi" else EditingMode.EMACS,
            color_depth=None if self.color else ColorDepth.DEPTH_1_BIT,
            enable_open_in_editor=True, mouse_support=False,
        )

    async def _ask(self, question: str, default: bool) -> bool:
        """A yes/no question on its own prompt; Ctrl-C or Ctrl-D means no."""
        try:  # handle_sigint=False: the tty is raw, Ctrl-C is a key; and prompt_toolkit would remove
            # the SIGINT handler of a running cell (run_cell) when the question ends
            answer = await PromptSession().prompt_async(question, handle_sigint=False)
        except (KeyboardInterrupt, EOFError):
            return False
        answer = answer.strip().lower()
        return default if not answer else answer.startswith("y")

    async def _input(self, prompt: str, password: bool) -> str:
        """The kernel's input()/getpass() answered on a fresh prompt."""
        from jup.terminal.lineinput import ask_line
        self.renderer.at_line_start = True
        return await ask_line(prompt, password)

    # ---- the loop --------------------------------------------------------------------------------

    def _show_banner(self) -> Any:
        """Print the banner, unless the instant prompt shows it already: then return what puts the
        terminal back just before prompt_toolkit draws (see jup.terminal.instant)."""
        from jup.terminal import instant
        from jup.terminal.render import ansi_sgr
        text = self.banner() + "\n" if self.settings.banner else ""
        pre_run = instant.hand_over(text, self.settings.prompt_in.format(n=self.execution_count),
                                    ansi_sgr(self.settings.color_prompt_in) if self.color else "",
                                    bool(getattr(self.settings, "instant_prompt", True)))
        if pre_run is None:
            self.renderer.write(text)
        return pre_run

    async def run(self) -> int:
        """Prompt and run cells until the person exits; returns the exit status."""
        pre_run = self._show_banner()
        history = await self.bridge.history_tail(self.settings.history_length)
        self.session = self._make_session(history)
        self.bridge.on_death = self._died_while_idle
        if self._lazy_lexer is not None:
            app = self.session.app

            def after_first_render(_: Any) -> None:  # the prompt is on screen: now build the lexer
                app.after_render.remove_handler(after_first_render)
                self._lazy_lexer.build(app)

            app.after_render.add_handler(after_first_render)
        while True:
            self.set_toolbar("")
            try:
                text = await self.session.prompt_async(self._prompt, default=self.next_input, pre_run=pre_run)
                pre_run = None
            except KeyboardInterrupt:
                self.next_input = ""
                continue
            except EOFError:
                if not self.settings.confirm_exit or await self._ask("Do you really want to exit ([y]/n)? ", True):
                    return self._exit_status
                continue
            self.next_input = ""
            if text.strip() in EXIT_WORDS:
                return self._exit_status
            if self.bridge.died is not None:
                if not await self._on_death(self.bridge.died):
                    return self._exit_status
                continue
            if not text.strip():
                continue
            if not await self.run_cell(text):
                return self._exit_status

    async def run_cell(self, code: str) -> bool:
        """Run one cell; Ctrl-C interrupts it. Returns False when the shell should exit."""
        loop = asyncio.get_running_loop()
        task = loop.create_task(self.bridge.execute(code.rstrip(), self.renderer, self._input))
        restart_wanted = asyncio.Event()
        presses = 0
        asking = False
        interrupting: list[asyncio.Task] = []  # held so the task is not collected while it runs

        def on_sigint() -> None:
            nonlocal presses
            presses += 1
            self.renderer.at_line_start = False  # the tty echoed ^C: what we say next goes on a line below
            if presses == 1:
                interrupting.append(loop.create_task(self._interrupt(task)))
                interrupting[-1].add_done_callback(hint_if_ignored)
            else:
                restart_wanted.set()

        def hint_if_ignored(done: asyncio.Task) -> None:
            # Two quick Ctrl-Cs can reach us as one SIGINT (the OS merges a signal still pending), and
            # a person cannot know a second one offers a restart: say so once the interrupt is ignored.
            if done.cancelled() or done.exception() is not None or not done.result():
                return
            if task.done() or presses > 1 or asking:  # the cell ended, or the restart question is up
                return
            self.renderer.ensure_newline()
            self.renderer.write("The kernel did not stop at the interrupt. Press Ctrl-C again to restart it.\n",
                                sys.stderr)

        in_process = getattr(self.bridge.handle, "in_process", False)
        if not in_process:  # in-process code runs on this thread: Ctrl-C raises right there
            loop.add_signal_handler(signal.SIGINT, on_sigint)
        try:
            while True:
                waiter = loop.create_task(restart_wanted.wait())
                done, _ = await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
                waiter.cancel()
                if task in done:
                    break
                restart_wanted.clear()
                presses, asking = 1, True
                self.renderer.ensure_newline()
                try:
                    if await self._ask("The kernel is still busy after the interrupt. Restart it? [y/N] ", False):
                        task.cancel()
                        return await self._restart("Restarting the kernel at your request.")
                finally:
                    asking = False
                if not task.done():
                    self.renderer.write("Waiting for the cell to finish. Press Ctrl-C to be asked again.\n",
                                        sys.stderr)
            try:
                reply = task.result()
            except KernelDied as e:
                return await self._on_death(e)
        finally:
            if not in_process:
                loop.remove_signal_handler(signal.SIGINT)
        self._after(reply)
        return self._keep_going

    async def _interrupt(self, task: asyncio.Task) -> bool:
        """Interrupt once the kernel runs the cell (a signal before that is lost); repeat once if ignored.
        True when both were sent and the cell still runs (the kernel ignores them)."""
        started = self.bridge.running_started
        try:
            if started is not None:
                await asyncio.wait_for(started.wait(), 5.0)
            for _ in range(2):
                await self.bridge.interrupt()
                done, _ = await asyncio.wait({task}, timeout=1.5)
                if done:
                    return False
        except (TimeoutError, JupError) as e:
            self.renderer.write(f"\n{e or 'The kernel did not start the cell.'}\n", sys.stderr)
            return False
        return not task.done()

    def _after(self, reply: dict) -> None:
        self._keep_going = True
        if reply.get("execution_count"):
            self.execution_count = int(reply["execution_count"]) + 1
        for payload in reply.get("payload") or []:
            source = payload.get("source")
            if source == "page":
                self._page(payload.get("data", {}))
            elif source == "set_next_input":  # `%load f.py`, `%recall` (replace=True has no other
                self.next_input = payload.get("text", "")  # meaning here: the cell already ran)
            elif source == "ask_exit":
                self._keep_going = False
        self.renderer.ensure_newline()
        held = getattr(self.bridge, "held_back", None)
        if held and held.get("execution_count"):
            n, size = held["execution_count"], sum((held.get("held_back") or {}).values())
            self.renderer.write(f"This cell printed {size / 1e6:.1f} MB; only its start and end are shown. "
                                f"Run %output {n} to see all of it.\n", sys.stderr)
        self.renderer.write("\n")

    _keep_going = True

    def _page(self, data: dict) -> None:
        """Show help text (`obj?`): printed when it fits on the screen (so it stays in view while the
        person types), else in the pager ($PAGER, else less/more) the way pydoc does."""
        import pydoc
        text = data.get("text/plain") or ""
        if not self.color:
            text = strip_ansi(text)
        self.renderer.ensure_newline()
        if fits_on_screen(text):
            self.renderer.write(text.rstrip("\n") + "\n")
            return
        saved = os.environ.get("LESS")
        if "R" not in (saved or ""):  # less shows colours (not `ESC[31m`) only with -R
            os.environ["LESS"] = f"{saved or ''} -R".strip()
        try:
            pydoc.pager(text)
        finally:
            if saved is None:
                os.environ.pop("LESS", None)
            else:
                os.environ["LESS"] = saved

    def _died_while_idle(self, died: KernelDied) -> None:
        """Say at once that the kernel died, above the prompt; the next cell offers the restart."""
        app = self.session.app if self.session else None
        if app is None or not app.is_running:
            return  # a running cell reports it itself
        from prompt_toolkit.application import run_in_terminal
        text = f"{died} Press Enter to restart it."
        run_in_terminal(lambda: self.renderer.write((f"\x1b[31m{text}\x1b[0m\n" if self.color else text + "\n"),
                                                    sys.stderr))

    async def _on_death(self, died: KernelDied) -> bool:
        self.renderer.ensure_newline()
        message = str(died)
        self.renderer.write((f"\x1b[31m{message}\x1b[0m\n" if self.color else message + "\n"), sys.stderr)
        if not self.bridge.handle.can_restart():
            self._exit_status = 1
            return False
        if await self._ask("Restart the kernel? [Y/n] ", True):
            return await self._restart("Restarting the kernel.")
        self._exit_status = 1
        return False

    async def _restart(self, note: str) -> bool:
        self.renderer.write(note + "\n")
        try:
            await self.bridge.restart()
        except JupError as e:
            self.renderer.write(f"{e}\n", sys.stderr)
            self._exit_status = 1
            return False
        self.execution_count = 1
        self.renderer.write("Kernel restarted; your input history is kept.\n\n")
        return True
