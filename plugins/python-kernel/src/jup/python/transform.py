"""Turns the IPython syntax users type into plain Python before a cell is compiled:

    %%name args\\nbody  ->  get_ipython().run_cell_magic('name', 'args', 'body')
    %name args         ->  get_ipython().run_line_magic('name', 'args')
    x = %name args     ->  x = get_ipython().run_line_magic('name', 'args')
    !cmd / x = !cmd    ->  get_ipython().system('cmd') / x = get_ipython().getoutput('cmd')
    obj? / ?obj / obj?? ->  get_ipython().pinfo('obj', 0 or 1)

Only lines that start at the top level are rewritten (not inside strings, brackets or after a
backslash), and each rewritten line stays one line, so line numbers in tracebacks still match.
`$var` and `{expr}` are expanded later, when the magic or command runs, in the caller's scope.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Callable

_ASSIGN = re.compile(r"^(\s*)([\w.\[\]'\", ]+?\s*=\s*)([%!].*)$")
_HELP = re.compile(r"^(\?\??)?\s*([^\s?=()]+?|%{1,2}\w+)\s*(\?\??)?$")
_MAGIC_HELP = re.compile(r"^%{1,2}\w+\?\??$")
_MAGIC_NAME = re.compile(r"^(\w[\w.-]*)(.*)$", re.S)
_AUTOMAGIC = re.compile(r"^([A-Za-z_]\w*)(?:[ \t]+(.*))?$")
_ASSIGN_OP = re.compile(r"^(?:[-+*/%&|^@<>]|//|\*\*|<<|>>)?=(?!=)|^:")


def top_level_lines(code: str) -> list[tuple[bool, str]]:
    """For each line: whether it starts at the top level, and the line with any comment cut off."""
    out: list[tuple[bool, str]] = []
    depth = 0
    quote: str | None = None  # the open string's delimiter: ', ", ''' or \"\"\"
    cont = False
    for line in code.split("\n"):
        top = depth == 0 and quote is None and not cont
        code_end = len(line)
        i = 0
        n = len(line)
        cont = False
        while i < n:
            ch = line[i]
            if quote is not None:
                if ch == "\\":
                    i += 2
                    continue
                if line.startswith(quote, i):
                    i += len(quote)
                    quote = None
                    continue
                i += 1
                continue
            if ch == "#":
                code_end = i
                break
            if ch in "'\"":
                triple = line[i:i + 3]
                quote = triple if triple in ("'''", '"""') else ch
                i += len(quote)
                continue
            if ch in "([{":
                depth += 1
            elif ch in ")]}":
                depth = max(depth - 1, 0)
            elif ch == "\\" and i == n - 1:
                cont = True
            i += 1
        if quote in ("'", '"'):
            quote = None  # an unterminated one-line string: let the compiler report it
        out.append((top, line[:code_end]))
    return out


def _call(method: str, *args: str) -> str:
    return f"get_ipython().{method}({', '.join(repr(a) for a in args)})"


def _escape_line(stmt: str) -> str | None:
    """The Python for one `%magic`, `!cmd` or help line (without indentation), or None."""
    if stmt.startswith("!!"):
        return _call("getoutput", stmt[2:].strip())
    if stmt.startswith("!"):
        return _call("system", stmt[1:].strip())
    if stmt.startswith("%") and not stmt.startswith("%%"):
        m = _MAGIC_NAME.match(stmt[1:])
        if m:
            return _call("run_line_magic", m.group(1), m.group(2).strip())
    return None


def _help_line(stmt: str) -> str | None:
    m = _HELP.match(stmt)
    if not m or not (m.group(1) or m.group(3)):
        return None
    detail = max(len(m.group(1) or ""), len(m.group(3) or "")) - 1
    return f"get_ipython().pinfo({m.group(2)!r}, {detail})"


INTRO = """\
jup's Python shell: Python plus a few IPython conveniences.

  obj?  / obj??     help on obj / its source too (also ?obj)
  %lsmagic          the magics; %name? for one's help (e.g. %timeit?)
  !cmd / x = !cmd   run a shell command / capture its lines
  cd, pwd, ls ...   magics and aliases work without % while no variable has the name
  Tab               completes names, attributes, dict keys, paths
  _ , __ , Out[n]   earlier results; In[n] earlier inputs; %history -n to list them
"""


def transform_cell(code: str) -> str:
    """The cell as plain Python."""
    if code.strip() == "?":  # IPython's "Type '?' for help"
        return f"print({INTRO!r})"
    stripped = code.lstrip("\n")
    if _MAGIC_HELP.match(stripped.strip()):  # `%%time?`: help, not a cell magic
        return _help_line(stripped.strip()) or code
    if stripped.startswith("%%"):
        first, _, body = stripped.partition("\n")
        m = _MAGIC_NAME.match(first[2:])
        if m:
            skipped = "\n" * (len(code) - len(stripped))
            return skipped + _call("run_cell_magic", m.group(1), m.group(2).strip(), body)
    lines = code.split("\n")
    info = top_level_lines(code)
    for idx, (top, text) in enumerate(info):
        if not top:
            continue
        body = text.strip()
        if not body or body[0] not in "%!?" and not body.endswith("?") and "=" not in body:
            continue
        indent = text[: len(text) - len(text.lstrip())]
        new = _help_line(body) if _MAGIC_HELP.match(body) else _escape_line(body)
        if new is None:
            m = _ASSIGN.match(text)
            if m and not m.group(2).rstrip().endswith(("==", "!=", "<=", ">=")):
                rhs = _escape_line(m.group(3).strip())
                if rhs is not None and m.group(3).startswith("!"):
                    rhs = _call("getoutput", m.group(3).lstrip("!").strip())
                if rhs is not None:
                    new = m.group(2).strip() + " " + rhs
        if new is None and "?" in body:
            new = _help_line(body)
        if new is not None:
            lines[idx] = indent + new
    return "\n".join(lines)


def automagic(code: str, is_magic: Callable[[str], bool]) -> str:
    """`cd /tmp`, `pwd`, `timeit f()`: an unindented line that starts with a line magic's name runs
    that magic, as IPython's automagic does; `is_magic(name)` says the name is a magic and is not
    shadowed by a variable or builtin. Assignments (`pwd = 3`) and keywords are left alone."""
    lines = code.split("\n")
    for idx, (top, text) in enumerate(top_level_lines(code)):
        if not top or text[:1] in (" ", "\t"):
            continue
        m = _AUTOMAGIC.match(text.rstrip())
        if not m or keyword.iskeyword(m.group(1)) or _ASSIGN_OP.match(m.group(2) or ""):
            continue
        if is_magic(m.group(1)):
            lines[idx] = "%" + lines[idx]
    return "\n".join(lines)
