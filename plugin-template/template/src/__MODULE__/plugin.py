"""The hooks of __NAME__. jup imports this module through the entry point in pyproject.toml.

Keep module import cheap: jup imports every plugin when it starts a command, so import heavy
libraries inside the functions that need them.
"""

from __future__ import annotations

from jup.core import MagicSpec, SubcommandSpec, hookimpl


def hello(argv: list[str]) -> int:
    """`jup __NAME__ [WHO]`: the exit code is what the function returns."""
    who = " ".join(argv) or "jup"
    print(f"hello {who} from __NAME__")
    return 0


@hookimpl
def jup_subcommands() -> list[SubcommandSpec]:
    return [SubcommandSpec("__NAME__", hello, "say hello (from the __NAME__ plugin)")]


@hookimpl
def jup_magics(language: str) -> list[MagicSpec]:
    if language != "python":
        return []
    return [MagicSpec("__MODULE___hello", lambda line: f"hello {line or 'jup'}", needs_shell=False,
                      help="Say hello.")]
