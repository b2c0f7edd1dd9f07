"""A few magics end to end: a real kernel process, a real client (jupyter_client), real sockets."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.timeout(120)


def execute(kc, code: str, timeout: float = 30) -> tuple[dict, list[dict]]:
    """Execute `code` on the kernel; the execute_reply and the cell's iopub messages until idle."""
    msgs: list[dict] = []
    reply = kc.execute_interactive(code, timeout=timeout, output_hook=msgs.append)
    return reply, msgs


def stream_text(msgs: list[dict], name: str = "stdout") -> str:
    return "".join(m["content"]["text"] for m in msgs
                   if m["msg_type"] == "stream" and m["content"]["name"] == name)


def test_timeit_and_time_output_reach_the_client(kernel):
    reply, msgs = execute(kernel, "%timeit -n 100 -r 3 sum(range(10))")
    assert reply["content"]["status"] == "ok"
    assert re.search(r"per loop \(mean ± std\. dev\. of 3 runs, 100 loops each\)", stream_text(msgs))
    reply, msgs = execute(kernel, "%time x = 1")
    assert "Wall time:" in stream_text(msgs)


def test_usage_error_is_an_error_reply_without_a_traceback(kernel):
    reply, msgs = execute(kernel, "%timeit -n nope pass")
    content = reply["content"]
    assert content["status"] == "error" and content["ename"] == "UsageError"
    errors = [m["content"] for m in msgs if m["msg_type"] == "error"]
    assert errors and len(errors[0]["traceback"]) == 1


def test_load_sends_a_set_next_input_payload(kernel):
    reply, _ = execute(kernel, "%load str")  # a builtin has no Python source to load
    assert reply["content"]["status"] == "error" and reply["content"]["ename"] == "UsageError"
    reply, _ = execute(kernel, "%%writefile snippet.py\nprint('from the file')")
    reply, _ = execute(kernel, "%load snippet.py")
    [payload] = [p for p in reply["content"]["payload"] if p["source"] == "set_next_input"]
    assert payload["text"] == "# %load snippet.py\nprint('from the file')\n"


def test_shell_escape_and_capture(kernel):
    reply, msgs = execute(kernel, "!echo hello from the shell")
    assert "hello from the shell" in stream_text(msgs)
    reply, msgs = execute(kernel, "%%capture out\nprint('hidden')")
    assert "hidden" not in stream_text(msgs)
    reply, msgs = execute(kernel, "print(out.stdout.upper())")
    assert "HIDDEN" in stream_text(msgs)


def test_debug_post_mortem_talks_over_the_stdin_channel(kernel):
    reply, _ = execute(kernel, "def broken(n):\n    hidden_local = n + 1\n    raise ValueError(n)\n"
                               "broken(41)")
    assert reply["content"]["status"] == "error"
    answers = ["p hidden_local", "q"]
    prompts: list[str] = []

    def answer(msg):
        prompts.append(msg["content"]["prompt"])
        kernel.input(answers.pop(0) if answers else "q")

    msgs: list[dict] = []
    reply = kernel.execute_interactive("%debug", timeout=30, allow_stdin=True, stdin_hook=answer,
                                       output_hook=msgs.append)
    assert reply["content"]["status"] == "ok"
    assert prompts[:2] == ["(Pdb) ", "(Pdb) "]
    assert "42" in stream_text(msgs)


_FAILING_CELL = ("class Oops(Exception):\n    pass\n"
                 "def g():\n    v = 1234 * 2\n    raise Oops('v went wrong')\n"
                 "g()")


def test_pdb_on_debugs_a_failing_cell_then_the_reply_still_names_the_error(kernel):
    execute(kernel, "%pdb on")
    answers = ["p v", "where", "q"]
    prompts: list[str] = []

    def answer(msg):
        prompts.append(msg["content"]["prompt"])
        kernel.input(answers.pop(0) if answers else "q")

    msgs: list[dict] = []
    reply = kernel.execute_interactive(_FAILING_CELL, timeout=30, allow_stdin=True,
                                       stdin_hook=answer, output_hook=msgs.append)
    assert prompts == ["(Pdb) "] * 3
    content = reply["content"]
    assert content["status"] == "error" and content["ename"] == "Oops"
    assert content["evalue"] == "v went wrong"
    debugger = stream_text(msgs)
    assert "\n2468\n" in debugger  # `p v` in the frame that raised
    # the debugger names the cell as the traceback does, and shows none of the shell's frames
    count = reply["content"]["execution_count"]
    assert debugger.startswith(f"> Cell In[{count}], line 5, in g()\n-> raise Oops")
    assert f"  Cell In[{count}], line 6, in <module>()\n-> g()" in debugger
    assert "shell.py" not in debugger and "<jup-input" not in debugger
    reply, _ = execute(kernel, "'still answering'")
    assert reply["content"]["status"] == "ok"


def test_pdb_on_without_stdin_skips_the_debugger_and_says_so(kernel):
    execute(kernel, "%pdb on")
    asked: list[dict] = []
    msgs: list[dict] = []
    reply = kernel.execute_interactive(_FAILING_CELL, timeout=30, allow_stdin=False,
                                       stdin_hook=asked.append, output_hook=msgs.append)
    content = reply["content"]
    assert content["status"] == "error" and content["ename"] == "Oops"  # not StdinNotImplementedError
    assert asked == []
    err = stream_text(msgs, "stderr")
    assert err.count("\n") == 1 and "debugger was not started" in err and "allow_stdin is false" in err
    assert [m["content"]["ename"] for m in msgs if m["msg_type"] == "error"] == ["Oops"]
    # %debug asked for explicitly from such a frontend is a usage error that says why
    msgs = []
    reply = kernel.execute_interactive("%debug", timeout=30, allow_stdin=False,
                                       stdin_hook=asked.append, output_hook=msgs.append)
    assert reply["content"]["ename"] == "UsageError" and asked == []
    assert "allow_stdin is false" in reply["content"]["evalue"]
    assert stream_text(msgs) == ""  # no half-started debugger output


def test_interrupt_at_the_debugger_prompt_keeps_the_debugger_and_the_users_error(kernel):
    execute(kernel, "%pdb on")
    prompts: list[str] = []

    def interrupt_then_quit(msg):  # the user presses interrupt at the first (Pdb) prompt, then q
        prompts.append(msg["content"]["prompt"])
        if len(prompts) == 1:
            kernel.control_channel.send(kernel.session.msg("interrupt_request", {}))
        else:
            kernel.input("q")

    msgs: list[dict] = []
    reply = kernel.execute_interactive(_FAILING_CELL, timeout=30, allow_stdin=True,
                                       stdin_hook=interrupt_then_quit, output_hook=msgs.append)
    assert prompts == ["(Pdb) ", "(Pdb) "]  # pdb's own way: the interrupt gives a fresh prompt
    assert "--KeyboardInterrupt--" in stream_text(msgs)
    assert reply["content"]["status"] == "error" and reply["content"]["ename"] == "Oops"
    reply, msgs = execute(kernel, "6 * 7")
    assert reply["content"]["status"] == "ok"
