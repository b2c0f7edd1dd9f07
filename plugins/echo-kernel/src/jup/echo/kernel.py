"""EchoKernel: every cell is echoed back, as a stream and as the cell's result.

A cell may also be one of these commands, each showing one kernel service:

    input: PROMPT     ask the frontend for a line (stdin channel) and echo the answer
    sleep N           sleep N seconds (interruptible), to try interrupt and busy-time requests
    error: MESSAGE    fail with MESSAGE (shows the error path and stop_on_error)
    stderr: TEXT      write TEXT to stderr          display: TEXT   show TEXT as display_data
    page: TEXT        page TEXT (a payload)         clear           clear the cell's output

Completion offers the command names and words seen in earlier cells; inspect tells how often a word was seen; a cell
ending with a backslash is incomplete; history serves tail, range and search.
"""

from __future__ import annotations

import time

from jup.core.kernelbase import Kernel


def words_of(text: str) -> list[tuple[int, int, str]]:
    """(start, end, word) for each identifier-like word (no `re`: it costs start-up time)."""
    found, start = [], None
    for i, ch in enumerate(text + " "):
        if ch.isalnum() or ch == "_":
            if start is None:
                start = i
        elif start is not None:
            found.append((start, i, text[start:i]))
            start = None
    return found


COMMANDS = ("input", "sleep", "error", "stderr", "display", "page", "clear")


class EchoKernel(Kernel):
    implementation = "jup-echo"
    implementation_version = "0.1.0"
    language_info = {"name": "echo", "version": "1.0", "mimetype": "text/plain",
                     "file_extension": ".txt"}
    banner = "jup echo kernel: every cell comes back as it was sent."

    session_number = 1

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.words: dict[str, int] = dict.fromkeys(COMMANDS, 0)  # word -> times seen in cells
        self.history: list[tuple[int, str, str]] = []  # (line number, input, output)

    # Runs on the main thread; may take as long as it likes (interrupts raise KeyboardInterrupt).
    def do_execute(self, code, silent, store_history=True, user_expressions=None, allow_stdin=False):
        output = code
        command, _, arg = code.partition(":")
        command, arg = command.strip(), arg.strip()
        if command == "input":
            output = self.raw_input(arg + " ")  # StdinNotImplementedError if not allowed
        elif command == "error":  # a kernel that reports an error publishes it, then replies
            self.publish("error", {"ename": "EchoError", "evalue": arg, "traceback": [f"EchoError: {arg}"]})
            return {"status": "error", "ename": "EchoError", "evalue": arg, "traceback": []}
        elif command == "stderr":
            self.stream("stderr", arg + "\n")
            return {"status": "ok"}
        elif command == "display":
            self.display({"text/plain": arg})
            return {"status": "ok"}
        elif command == "page":
            self.send_payload("page", data={"text/plain": arg}, start=0)
            return {"status": "ok"}
        elif code.strip() == "clear":
            self.clear_output()
            return {"status": "ok"}
        elif code.split()[:1] == ["sleep"] and len(code.split()) == 2:
            time.sleep(float(code.split()[1]))
        for _, _, word in words_of(code + " " + output):
            self.words[word] = self.words.get(word, 0) + 1
        if store_history:
            self.history.append((self.execution_count, code, output))
        if not silent:
            self.stream("stdout", output if output.endswith("\n") else output + "\n")
            self.execute_result({"text/plain": output})
        return {"status": "ok"}

    # The rest run on an introspection thread, possibly while do_execute runs.
    def do_complete(self, code, cursor_pos):
        start = cursor_pos
        while start > 0 and (code[start - 1].isalnum() or code[start - 1] == "_"):
            start -= 1
        prefix = code[start:cursor_pos]
        matches = sorted(w for w in list(self.words) if w.startswith(prefix) and w != prefix)
        return {"matches": matches, "cursor_start": start, "cursor_end": cursor_pos, "metadata": {}}

    def do_inspect(self, code, cursor_pos, detail_level=0):
        word = ""
        for start, end, w in words_of(code):
            if start <= cursor_pos <= end:
                word = w
        count = self.words.get(word, 0)
        if not count:
            return {"found": False, "data": {}, "metadata": {}}
        return {"found": True, "data": {"text/plain": f"{word}: seen {count} time(s)"}, "metadata": {}}

    def do_is_complete(self, code):
        if code.rstrip("\n").endswith("\\"):
            return {"status": "incomplete", "indent": ""}
        return {"status": "complete"}

    def do_history(self, hist_access_type, output, raw, session=None, start=None, stop=None, n=None,
                   pattern=None, unique=False):
        entries = list(self.history)
        if hist_access_type == "range":
            lo, hi = start or 0, stop if stop is not None else len(entries) + 1
            entries = [e for e in entries if lo <= e[0] < hi]
        elif hist_access_type == "search":
            import fnmatch
            entries = [e for e in entries if fnmatch.fnmatch(e[1], pattern or "*")]
            if unique:
                seen: set[str] = set()
                entries = [e for e in reversed(entries) if not (e[1] in seen or seen.add(e[1]))][::-1]
        if hist_access_type in ("tail", "search") and n:
            entries = entries[-n:]
        return {"history": [[self.session_number, line, [code, out] if output else code]
                            for line, code, out in entries]}
