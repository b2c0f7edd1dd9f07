"""Magics over the input history: %history, %recall, %rerun, %load, %save.

They read through the shell's history object (`shell.history`: get_ranges, get_tail, search), so
any kernel whose shell offers those methods gets them.
"""

from __future__ import annotations

import inspect
import os
import re
from typing import Any

from jup.core import UsageError
from jup.magics.args import int_option, magic_spec, split_options


def _lines(shell: Any, spec: str, raw: bool = True, output: bool = False) -> list[tuple]:
    try:
        return shell.history.get_ranges(spec, raw=raw, output=output)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _current_session(shell: Any) -> int:
    return getattr(shell.history, "session_number", 0)


def history(line: str, *, shell: Any) -> None:
    """Show input history: `%history [-n] [-o] [-p] [-t] [-u] [-l N] [-g PATTERN] [-f FILE] [RANGES]`.

    RANGES: `4` `4-6` (inclusive) `4:6` (4 and 5) `~1/` (all of the previous session)
    `~2/7` (line 7, two sessions back) `12/1-3` (session 12); default: this session.
    -n  line numbers        -o  also outputs       -p  `>>>` prompts     -t  translated source
    -g PATTERN  search every session (glob: `*` any text, `?` one char)   -u  unique (with -g)
    -l N  the last N inputs   -f FILE  write to FILE instead of showing
    """
    opts, rest = split_options(line, "nopturl:g:f:", "history")
    raw = not opts.get("t")
    output = bool(opts.get("o"))
    hist = shell.history
    session_now = _current_session(shell)
    if "g" in opts:
        pattern = opts["g"] + (" " + rest if rest else "")
        pattern = pattern.strip()
        if not (pattern.startswith("*") or pattern.endswith("*")):
            pattern = f"*{pattern}*"
        n = int_option(opts, "l", "history")
        entries = hist.search(pattern, raw=raw, output=output, n=n, unique=bool(opts.get("u")))
        show_session = True
        session_now = -1  # every line found says which session it comes from
    elif "l" in opts:
        n = int_option(opts, "l", "history", 10)
        entries = hist.get_tail(n, raw=raw, output=output, include_latest=False)
        show_session = any(e[0] != session_now for e in entries)
    else:
        entries = _lines(shell, rest or "1:999999999", raw, output)
        show_session = any(e[0] != session_now for e in entries)
    text = _format(entries, numbers=bool(opts.get("n")) or "g" in opts, prompts=bool(opts.get("p")),
                   output=output, show_session=show_session, session_now=session_now)
    if opts.get("f"):
        path = os.path.expanduser(opts["f"])
        with open(path, "w", encoding="utf-8") as f:
            f.write(text + ("\n" if text else ""))
        print(f"Wrote {len(entries)} entries to {opts['f']}")
        return
    if text:
        print(text)


def _format(entries: list[tuple], numbers: bool, prompts: bool, output: bool, show_session: bool,
            session_now: int) -> str:
    width = max((len(str(e[1])) for e in entries), default=1)
    out = []
    for session, line_no, value in entries:
        source, result = (value if output else (value, None))
        if prompts:
            lines = source.splitlines() or [""]
            source = "\n".join([">>> " + lines[0]] + ["... " + x for x in lines[1:]])
        if numbers:
            label = f"{session}/{line_no}" if show_session and session != session_now else str(line_no)
            pad = " " * (len(label) + 2)
            source = source.replace("\n", "\n" + pad)
            source = f"{label:>{max(width, len(label))}}: {source}"
        out.append(source)
        if output and result is not None:
            out.append(result)
    return "\n".join(out)


def _source_of(shell: Any, spec: str) -> str:
    return "\n".join(e[2] for e in _lines(shell, spec))


def recall(line: str, *, shell: Any) -> None:
    """Put earlier input back in the next cell to edit: `%recall` (the last input), `%recall 4-6`
    (ranges as in %history), `%recall -l N` is not needed: `%recall ~1/` takes a whole session."""
    spec = line.strip()
    if not spec:
        tail = shell.history.get_tail(1, include_latest=False)
        if not tail:
            raise UsageError("%recall: no history yet")
        text = tail[-1][2]
    else:
        text = _source_of(shell, spec)
        if not text:
            raise UsageError(f"%recall: no input in range {spec!r}")
    shell.set_next_input(text)


def rerun(line: str, *, shell: Any) -> None:
    """Run earlier input again: `%rerun` (the last input), `%rerun 4-6` (ranges as in %history),
    `%rerun -l N` (the last N inputs), `%rerun -g PATTERN` (the last input matching PATTERN)."""
    opts, rest = split_options(line, "l:g:", "rerun")
    if "l" in opts:
        n = int_option(opts, "l", "rerun")
        entries = shell.history.get_tail(n, include_latest=False)
    elif "g" in opts:
        pattern = (opts["g"] + (" " + rest if rest else "")).strip()
        found = shell.history.search(f"*{pattern}*", n=2)
        found = [e for e in found if not re.match(r"\s*%rerun\b", e[2])]
        entries = found[-1:]
    elif rest.strip():
        entries = _lines(shell, rest)
    else:
        entries = shell.history.get_tail(1, include_latest=False)
    entries = [e for e in entries if not re.match(r"\s*%rerun\b", e[2])]
    if not entries:
        raise UsageError("%rerun: nothing to run there; see %history -n for line numbers")
    code = "\n".join(e[2] for e in entries)
    print("=== Executing: ===")
    print(code)
    print("=== Output: ===")
    shell.run_cell(code, store_history=False)


def load(line: str, *, shell: Any) -> None:
    """Load code into the next cell, to edit before running: `%load SOURCE [-r LINES] [-s NAMES]`.

    SOURCE is a file, a URL, a history range (`4-6`) or the name of a function, class or module
    (its source). -r 5-10 takes only those lines (1-based, ranges and commas: `-r 1-3,7`);
    -s f,g takes only those functions/classes from a file."""
    opts, rest = split_options(line, "r:s:yn:", "load")
    source = rest.strip()
    if not source:
        raise UsageError("%load needs a file, URL, history range or object name")
    text = _load_text(shell, source)
    if opts.get("s"):
        text = _pick_symbols(text, opts["s"].split(","), source)
    if opts.get("r"):
        text = _pick_lines(text, opts["r"])
    shell.set_next_input(f"# %load {line.strip()}\n{text}", replace=True)


def _load_text(shell: Any, source: str) -> str:
    if re.match(r"^(https?|ftp)://", source):
        import urllib.request  # here, not at the top: ~12 ms and ~1.5 MB at every kernel start
        try:
            with urllib.request.urlopen(source, timeout=30) as resp:
                return resp.read().decode("utf-8", "replace")
        except OSError as exc:
            raise UsageError(f"%load: could not fetch {source}: {exc}") from None
    path = os.path.expanduser(source)
    if os.path.isfile(path):
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    if re.fullmatch(r"[~\d/\-: ]+", source):
        text = _source_of(shell, source)
        if text:
            return text
    try:
        obj = shell.ev(source)
    except Exception:
        obj = None
    if obj is not None:
        try:
            return inspect.getsource(obj)
        except (TypeError, OSError):
            pass
    raise UsageError(f"%load: {source!r} is neither a file, a URL, a history range nor an object "
                     "with source code")


def _pick_lines(text: str, spec: str) -> str:
    lines = text.splitlines()
    picked: list[str] = []
    for part in spec.split(","):
        m = re.fullmatch(r"\s*(\d+)?\s*(?:([-:])\s*(\d+)?)?\s*", part)
        if not m or (m.group(1) is None and m.group(3) is None):
            raise UsageError(f"%load -r: bad line range {part!r}; write e.g. 5-10 or 1-3,7")
        first = int(m.group(1) or 1)
        if m.group(2) is None:
            last = first
        else:
            last = int(m.group(3)) if m.group(3) else len(lines)
            if m.group(2) == ":":
                last -= 1
        picked.extend(lines[first - 1:last])
    return "\n".join(picked)


def _pick_symbols(text: str, names: list[str], source: str) -> str:
    import ast
    try:
        tree = ast.parse(text)
    except SyntaxError as exc:
        raise UsageError(f"%load -s: {source} does not parse as Python ({exc})") from None
    lines = text.splitlines()
    found = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            start = min([node.lineno] + [d.lineno for d in node.decorator_list])
            found[node.name] = "\n".join(lines[start - 1: node.end_lineno])
    wanted = [n.strip() for n in names if n.strip()]
    missing = [n for n in wanted if n not in found]
    if missing:
        raise UsageError(f"%load -s: {', '.join(missing)} not found in {source}")
    return "\n\n".join(found[n] for n in wanted)


def save(line: str, *, shell: Any) -> None:
    """Save input history to a file: `%save [-a] [-f] FILENAME RANGES` (`.py` is added when the
    name has no extension; -a appends; -f overwrites without asking)."""
    opts, rest = split_options(line, "afr", "save")
    parts = rest.split(None, 1)
    if len(parts) < 2:
        raise UsageError("%save needs a file name and ranges: %save FILENAME 1-5 8")
    filename, spec = parts
    if not os.path.splitext(filename)[1]:
        filename += ".py"
    path = os.path.expanduser(filename)
    text = _source_of(shell, spec)
    if not text:
        raise UsageError(f"%save: no input in range {spec!r}; see %history -n")
    mode = "a" if opts.get("a") else "w"
    with open(path, mode, encoding="utf-8") as f:
        f.write(text + "\n")
    verb = "appended to" if mode == "a" else "written to"
    print(f"The following commands were {verb} file `{filename}`:")
    print(text)


MAGICS = [magic_spec(history), magic_spec(recall), magic_spec(rerun), magic_spec(load),
          magic_spec(save)]
