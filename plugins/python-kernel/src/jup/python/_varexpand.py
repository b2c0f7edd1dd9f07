"""`$name` and `{expr}` in shell commands and magic lines, read from the user's scope.

Anything that does not evaluate is left as typed, so `awk '{print $1}'` passes through intact.
"""

from __future__ import annotations

import re
from typing import Any

_TOKEN = re.compile(r"\$\$|\$([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)|\{([^{}]+)\}")


def expand(text: str, ns: dict[str, Any]) -> str:
    """`text` with `$$` as `$`, and `$name`, `$a.b`, `{expr}` replaced by their values."""
    def repl(m: re.Match) -> str:
        whole = m.group(0)
        if whole == "$$":
            return "$"
        expr = m.group(1) or m.group(2)
        try:
            return str(eval(expr, {"__builtins__": __builtins__}, ns))  # noqa: S307 - user's own code
        except Exception:
            return whole
    return _TOKEN.sub(repl, text)
