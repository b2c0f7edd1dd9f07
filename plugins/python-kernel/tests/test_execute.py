"""Running cells: results, output history, IPython syntax, top-level await, and the things users
do that must never end the kernel."""

from __future__ import annotations

import os
import signal
import sys
import time

import pytest
from pykernel_helpers import outputs, run, stdout_of

from jup.python.traceback import strip_ansi
from jup.python.transform import transform_cell

# ---- the shell, in-process --------------------------------------------------------------------


def results(shell) -> list[str]:
    return [c["data"]["text/plain"] for c in shell.publisher.of("execute_result")]


def test_last_expression_is_shown_with_its_count(shell):
    r = shell.run_cell("x = 20\nx + 22")
    assert r.success and r.result == 42 and r.execution_count == 1
    assert shell.publisher.of("execute_result") == [
        {"execution_count": 1, "data": {"text/plain": "42"}, "metadata": {}}]
    assert shell.execution_count == 2


def test_trailing_semicolon_silences_the_result(shell):
    shell.run_cell("1 + 1;")
    shell.run_cell("1 + 1;  # a comment after it")
    shell.run_cell("s = 'a;'\ns")
    assert results(shell) == ["'a;'"]


def test_output_history_names(shell):
    shell.run_cell("10")
    shell.run_cell("20")
    shell.run_cell("30")
    r = shell.run_cell("(_, __, ___, _1, Out[2], In[3], _i, _ii, _i1)")
    assert r.result == (30, 20, 10, 10, 20, "30", "30", "20", "10")


def test_silent_and_no_history_cells_do_not_count(shell):
    shell.run_cell("1", silent=True)
    shell.run_cell("2", store_history=False)
    assert shell.execution_count == 1
    assert results(shell) == ["2"]
    assert shell.user_ns["In"] == [""]


@pytest.mark.parametrize("mode, shown", [
    ("all", ["1", "2"]), ("none", []), ("last_expr_or_assign", ["2", "5"]), ("last_expr", ["2"])])
def test_ast_node_interactivity(shell, mode, shown):
    shell.ast_node_interactivity = mode
    shell.run_cell("1\n2")
    shell.run_cell("x = 5")
    assert results(shell) == shown


def test_top_level_await(shell):
    r = shell.run_cell("import asyncio\nawait asyncio.sleep(0)\nasync def f():\n    return 7\nawait f()")
    assert r.success and r.result == 7


def test_tasks_survive_between_cells(shell):
    shell.run_cell("import asyncio\nt = asyncio.ensure_future(asyncio.sleep(0, result='done'))")
    assert shell.run_cell("await t").result == "done"


def test_errors_are_shown_and_returned_not_raised(shell):
    r = shell.run_cell("1/0")
    assert not r.success and isinstance(r.error_in_exec, ZeroDivisionError)
    (err,) = shell.publisher.of("error")
    assert err["ename"] == "ZeroDivisionError" and err["evalue"] == "division by zero"
    assert shell.run_cell("'alive'").result == "alive"


def test_syntax_error_is_reported_before_running(shell):
    r = shell.run_cell("x = 1\nprint(x +)")
    assert isinstance(r.error_before_exec, SyntaxError)
    assert "x" not in shell.user_ns  # nothing of the cell ran
    assert shell.publisher.of("error")[0]["ename"] == "SyntaxError"


@pytest.mark.parametrize("code, ename", [
    ("raise SystemExit(3)", "SystemExit"),
    ("import sys; sys.exit()", "SystemExit"),
    ("def r(): return r()\nr()", "RecursionError"),
    ("raise KeyboardInterrupt", "KeyboardInterrupt"),
    ("class E(Exception):\n    def __str__(self): raise ValueError\nraise E()", "E"),
])
def test_nothing_a_cell_raises_ends_the_shell(shell, code, ename):
    r = shell.run_cell(code)
    assert not r.success
    assert shell.publisher.of("error")[-1]["ename"] == ename
    assert shell.run_cell("40 + 2").result == 42


def test_failing_repr_falls_back_and_says_why(shell, capsys):
    r = shell.run_cell("class B:\n    def __repr__(self): raise ValueError('no repr')\nB()")
    assert r.success
    (res,) = shell.publisher.of("execute_result")
    assert res["data"]["text/plain"].startswith("<__main__.B object at 0x")
    assert "ValueError: no repr" in capsys.readouterr().err


def test_reset_empties_namespace_and_history(shell):
    shell.run_cell("a = 1")
    shell.reset()
    assert "a" not in shell.user_ns and shell.execution_count == 1 and shell.user_ns["In"] == [""]


def test_push_ex_ev(shell):
    shell.push({"n": 4})
    shell.ex("m = n * 2")
    assert shell.ev("m + 1") == 9


def test_hooks_and_events_run_around_cells(shell):
    seen = []
    shell.events.register("pre_run_cell", lambda info: seen.append(("pre", info.raw_cell)))
    shell.events.register("post_run_cell", lambda result: seen.append(("post", result.success)))
    shell.run_cell("1")
    assert seen == [("pre", "1"), ("post", True)]
    with pytest.raises(KeyError, match="Unknown event"):
        shell.events.register("no_such_event", print)


def test_plugin_input_transformers_and_lifecycle_hooks(shell):
    calls = []

    class Host:
        def call(self, name, **kw):
            calls.append(name)
            return []

        def collect(self, name, **kw):
            return [lambda code: code.replace("TWO", "2")] if name == "jup_input_transformers" else []

    shell.plugin_host = Host()
    shell.load_plugins()
    assert shell.run_cell("TWO * 21").result == 42
    assert calls == ["jup_pre_execute", "jup_post_execute"]


def test_magics_registry_and_var_expand(shell):
    from jup.core import MagicSpec
    shell.magics.register(MagicSpec("echo", lambda line: line, needs_shell=False))
    shell.magics.register(MagicSpec("rev", lambda line, cell, shell: cell[::-1], kind="cell"))
    shell.run_cell("name = 'world'")
    assert shell.run_cell("%echo hello $name {1+1} $$HOME").result == "hello world 2 $HOME"
    assert shell.run_cell("x = %echo hi\nx").result == "hi"
    assert shell.run_cell("%%rev\nabc").result == "cba"
    assert shell.magics.names("line") == ["echo"] and shell.magics.find("rev", "cell")


def test_unknown_magic_is_a_usage_error_without_traceback(shell):
    r = shell.run_cell("%nosuchmagic")
    assert not r.success
    (err,) = shell.publisher.of("error")
    assert err["ename"] == "UsageError" and "`%nosuchmagic` not found" in err["evalue"]
    assert len(err["traceback"]) == 1


def test_var_expand_leaves_what_it_cannot_evaluate(shell):
    shell.user_ns["f"] = "data.csv"
    assert shell.var_expand("awk '{print $1}' $f {missing}") == "awk '{print $1}' data.csv {missing}"


def test_help_syntax_pages_through_the_inspector(shell):
    shell.run_cell("zip?")
    (page,) = [p for p in shell.publisher.of("payload") if p["source"] == "page"]
    assert "zip" in page["data"]["text/plain"]
    shell.run_cell("no_such_name_here?")
    assert "Object `no_such_name_here` not found." in "".join(
        s["text"] for s in shell.publisher.of("stream"))


@pytest.mark.parametrize("raw, python", [
    ("%time x = 1", "get_ipython().run_line_magic('time', 'x = 1')"),
    ("files = !ls $d", "files = get_ipython().getoutput('ls $d')"),
    ("!echo hi", "get_ipython().system('echo hi')"),
    ("obj.attr??", "get_ipython().pinfo('obj.attr', 1)"),
    ("?zip", "get_ipython().pinfo('zip', 0)"),
    ("%%time??", "get_ipython().pinfo('%%time', 1)"),
    ("%%bash -x\necho 1", "get_ipython().run_cell_magic('bash', '-x', 'echo 1')"),
    ('s = """\n%not_a_magic\n"""', 's = """\n%not_a_magic\n"""'),
    ("x = (1 +\n%2)", "x = (1 +\n%2)"),
    ("y = 5 % 3", "y = 5 % 3"),
    ("print('why?')  # really?", "print('why?')  # really?"),
    ("if x:\n    %cd /tmp", "if x:\n    get_ipython().run_line_magic('cd', '/tmp')"),
])
def test_ipython_syntax_becomes_python(raw, python):
    assert transform_cell(raw) == python


def test_shell_commands_capture_output(shell):
    shell.run_cell("d = 'hello'\nlines = !echo $d; echo two")
    assert list(shell.user_ns["lines"]) == ["hello", "two"]
    assert shell.user_ns["lines"].s == "hello two"


# ---- the kernel process -----------------------------------------------------------------------


def test_kernel_runs_a_cell_and_shows_the_result(shared_kernel):
    reply, msgs = run(shared_kernel, "print('hi')\n6 * 7")
    assert reply["content"]["status"] == "ok"
    assert stdout_of(msgs) == "hi\n"
    (res,) = outputs(msgs, "execute_result")
    assert res["data"]["text/plain"] == "42"
    assert res["execution_count"] == reply["content"]["execution_count"]


def test_kernel_error_reply_carries_the_traceback(shared_kernel):
    reply, msgs = run(shared_kernel, "def f():\n    return 1/0\nf()")
    c = reply["content"]
    assert c["status"] == "error" and c["ename"] == "ZeroDivisionError"
    (err,) = outputs(msgs, "error")
    text = strip_ansi("\n".join(err["traceback"]))
    assert "Cell In[" in text and "----> 2" in text
    assert run(shared_kernel, "'still alive'")[0]["content"]["status"] == "ok"


def test_kernel_survives_closed_stdout_and_systemexit(shared_kernel):
    run(shared_kernel, "import sys; sys.stdout.close()")
    reply, msgs = run(shared_kernel, "print('after close')")
    assert stdout_of(msgs) == "after close\n"
    reply, _ = run(shared_kernel, "raise SystemExit(1)")
    assert reply["content"]["ename"] == "SystemExit"
    reply, msgs = run(shared_kernel, "1")
    assert reply["content"]["status"] == "ok"


def test_input_refused_when_frontend_has_no_stdin(shared_kernel):
    reply, msgs = run(shared_kernel, "input('name? ')", allow_stdin=False)
    assert reply["content"]["status"] == "error"
    assert "allow_stdin" in reply["content"]["evalue"]


def test_getpass_refused_when_frontend_has_no_stdin(shared_kernel):
    asked: list[dict] = []
    reply, msgs = run(shared_kernel, "import getpass\npw = getpass.getpass('Token: ')",
                      allow_stdin=False, stdin_hook=asked.append)
    c = reply["content"]
    assert asked == []  # the frontend was never asked
    assert c["status"] == "error" and c["ename"] == "StdinNotImplementedError"
    assert "does not accept input requests (allow_stdin is false)" in c["evalue"]
    _, msgs = run(shared_kernel, "'pw' in dir()")
    assert outputs(msgs, "execute_result")[0]["data"]["text/plain"] == "False"  # nothing assigned


def test_kernel_answers_after_infinite_recursion(shared_kernel):
    reply, msgs = run(shared_kernel, "def down(n):\n    return down(n + 1)\ndown(0)")
    c = reply["content"]
    assert c["status"] == "error" and c["ename"] == "RecursionError"
    (err,) = outputs(msgs, "error")
    assert len(err["traceback"]) < 60  # the repeated frames are folded, not sent a thousand times
    reply, msgs = run(shared_kernel, "def depth(n):\n    return n if n == 500 else depth(n + 1)\ndepth(0)")
    assert reply["content"]["status"] == "ok"  # and recursion still works to the usual depth
    assert outputs(msgs, "execute_result")[0]["data"]["text/plain"] == "500"


def test_kernel_shows_a_fallback_when_repr_raises(shared_kernel):
    reply, msgs = run(shared_kernel, "class NoRepr:\n    def __repr__(self):\n"
                                     "        raise ValueError('no repr today')\nNoRepr()")
    assert reply["content"]["status"] == "ok"
    (res,) = outputs(msgs, "execute_result")
    assert list(res["data"]) == ["text/plain"]
    assert res["data"]["text/plain"].startswith("<__main__.NoRepr object at 0x")
    err = stdout_of(msgs, "stderr")
    assert err.count("\n") == 1
    assert "formatter for NoRepr raised ValueError: no repr today" in err
    assert run(shared_kernel, "'alive'")[0]["content"]["status"] == "ok"


def test_input_goes_through_the_frontend(shared_kernel):
    prompts = []

    def answer(msg):
        prompts.append(msg["content"]["prompt"])
        shared_kernel.input("Ada")

    reply, msgs = run(shared_kernel, "n = input('name? ')\nn.upper()", allow_stdin=True,
                      stdin_hook=answer)
    assert prompts == ["name? "]
    assert outputs(msgs, "execute_result")[0]["data"]["text/plain"] == "'ADA'"


def test_ctrl_d_at_input_is_eoferror_pointing_at_the_users_line(shared_kernel):
    def answer(msg):
        shared_kernel.input("\x04")  # what a frontend answers for Ctrl-D (as jupyter_console does)

    reply, _ = run(shared_kernel, "def ask():\n    return input('name? ')\nask()", allow_stdin=True,
                   stdin_hook=answer)
    content = reply["content"]
    assert content["status"] == "error" and content["ename"] == "EOFError"
    text = strip_ansi("\n".join(content["traceback"]))
    assert "return input('name? ')" in text, text
    assert "kernel.py" not in text and "kernelbase" not in text, text


def test_getpass_asks_for_a_password(shared_kernel):
    requests = []

    def answer(msg):
        requests.append(msg["content"])
        shared_kernel.input("s3cret")

    _, msgs = run(shared_kernel, "import getpass\nlen(getpass.getpass())", allow_stdin=True,
                  stdin_hook=answer)
    assert requests == [{"prompt": "Password: ", "password": True}]
    assert outputs(msgs, "execute_result")[0]["data"]["text/plain"] == "6"


def test_huge_output_does_not_end_the_kernel(shared_kernel):
    reply, msgs = run(shared_kernel, "for i in range(200_000): print(i)", timeout=60)
    assert reply["content"]["status"] == "ok"
    text = stdout_of(msgs)
    assert text.startswith("0\n1\n") and text.rstrip().endswith("199999")
    assert len(outputs(msgs, "stream")) < 1000  # batched, not one message per line
    assert run(shared_kernel, "'alive'")[0]["content"]["status"] == "ok"


def test_cell_code_pickles_and_shows_its_source(shared_kernel):
    code = ("import pickle, inspect\n"
            "class Point:\n    def __init__(self, x):\n        self.x = x\n"
            "def double(v):\n    return v * 2\n"
            "(pickle.loads(pickle.dumps(Point(3))).x, pickle.loads(pickle.dumps(double))(4),\n"
            " inspect.getsource(double).splitlines()[0], __name__)")
    _, msgs = run(shared_kernel, code)
    assert outputs(msgs, "execute_result")[0]["data"]["text/plain"] == \
        "(3, 8, 'def double(v):', '__main__')"


def test_user_expressions(shared_kernel):
    reply, _ = run(shared_kernel, "a = 5", user_expressions={"double": "a * 2", "bad": "nope"})
    ue = reply["content"]["user_expressions"]
    assert ue["double"]["data"]["text/plain"] == "10"
    assert ue["bad"]["status"] == "error" and ue["bad"]["ename"] == "NameError"


def test_is_complete(shared_kernel):
    def ask(code):
        shared_kernel.is_complete(code)
        return shared_kernel.get_shell_msg(timeout=10)["content"]
    assert ask("x = 1")["status"] == "complete"
    assert ask("for i in x:") == {"status": "incomplete", "indent": "    "}
    assert ask("x = = 1")["status"] == "invalid"


_RUNNING = {
    "sleep loop": "while True: time.sleep(0.01)",
    "busy loop": "while True: pass",
    "long sleep": "time.sleep(100)",
    "blocking I/O": "a, b = socket.socketpair()\na.recv(1)",
}


@pytest.mark.parametrize("what", list(_RUNNING))
@pytest.mark.parametrize("how", ["signal", "interrupt_request"])
def test_interrupt_stops_a_running_cell(kernel, how, what):
    reply, _ = run(kernel, "import os, socket, time", user_expressions={"pid": "os.getpid()"})
    pid = int(reply["content"]["user_expressions"]["pid"]["data"]["text/plain"])
    # stop_on_error=False: kernelbase publishes idle before it aborts queued cells (reported), so a
    # cell sent right after idle could be aborted
    msg_id = kernel.execute("print('running', flush=True)\n" + _RUNNING[what], stop_on_error=False)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # wait until the loop runs
        msg = kernel.get_iopub_msg(timeout=10)
        if msg["msg_type"] == "stream" and msg["parent_header"]["msg_id"] == msg_id:
            break
    if how == "signal":
        os.kill(pid, signal.SIGINT)
    else:
        kernel.control_channel.send(kernel.session.msg("interrupt_request", {}))
    reply = kernel.get_shell_msg(timeout=10)
    assert reply["parent_header"]["msg_id"] == msg_id
    assert reply["content"]["status"] == "error" and reply["content"]["ename"] == "KeyboardInterrupt"
    assert "kernelbase" not in "".join(reply["content"]["traceback"])
    while time.monotonic() < deadline + 10:  # the interrupted cell ends (idle) before the next
        msg = kernel.get_iopub_msg(timeout=10)
        if msg["parent_header"].get("msg_id") == msg_id and \
                msg["content"].get("execution_state") == "idle":
            break
    assert run(kernel, "'alive'")[0]["content"]["status"] == "ok"


# a thread of the cell's takes the SIGINT once the main thread sleeps (/proc says so): CPython's
# C handler runs there and the Python handler waits for the main thread's next bytecode, as when a
# signal lands just before a blocking call; the kernel must redeliver it, not wait out the sleep
_SIGINT_ELSEWHERE = """\
import signal, threading, time
main_tid = threading.main_thread().native_id
def take_the_signal():
    for _ in range(2000):
        with open(f'/proc/self/task/{main_tid}/stat') as f:
            if f.read().rsplit(')', 1)[1].split()[0] == 'S':
                break
        time.sleep(0.005)
    signal.pthread_kill(threading.get_ident(), signal.SIGINT)
threading.Thread(target=take_the_signal, daemon=True).start()
time.sleep(100)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/task")
@pytest.mark.parametrize("loop", [False, True], ids=["plain", "asyncio"])
def test_an_interrupt_caught_by_another_thread_still_stops_a_sleeping_cell(kernel, loop):
    if loop:  # cells run as tasks of the kernel's event loop from now on
        assert run(kernel, "import asyncio")[0]["content"]["status"] == "ok"
    t0 = time.monotonic()
    reply, msgs = run(kernel, _SIGINT_ELSEWHERE, timeout=20)
    assert reply["content"]["status"] == "error" and reply["content"]["ename"] == "KeyboardInterrupt"
    assert time.monotonic() - t0 < 15, "the interrupt waited for the sleep to end"
    assert run(kernel, "'alive'")[0]["content"]["status"] == "ok"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_an_interrupt_of_a_forked_child_leaves_the_cell_running(kernel):
    """A child forked by the cell (multiprocessing) that is interrupted is not the kernel: the
    cell, which goes on for a second after it, ends normally."""
    code = ("import os, signal, time\n"
            "pid = os.fork()\n"
            "if pid == 0:\n"
            "    try:\n        os.kill(os.getpid(), signal.SIGINT)\n        time.sleep(10)\n"
            "    finally:\n        os._exit(0)\n"
            "os.waitpid(pid, 0)\n"
            "time.sleep(1)  # the cell's own work, long after the child's signal\n"
            "print('the cell ran to its end')")
    reply, msgs = run(kernel, code, timeout=20)
    assert reply["content"]["status"] == "ok", reply["content"]
    assert stdout_of(msgs) == "the cell ran to its end\n"


def test_in_process_kernel_runs_cells_on_the_callers_thread():
    from jup.core.manager import InProcessKernelManager
    from jup.python import compat
    with InProcessKernelManager("python") as km:
        kc = km.client()
        msgs: list[dict] = []
        reply = kc.execute_interactive("import threading\nprint(threading.current_thread().name)\n6 * 7",
                                       output_hook=msgs.append, timeout=20)
        assert reply["content"]["status"] == "ok"
        assert stdout_of(msgs) == "MainThread\n"
        assert outputs(msgs, "execute_result")[0]["data"]["text/plain"] == "42"
    compat.uninstall()


def test_plugins_load_in_the_background_yet_the_first_cell_and_completion_have_them(tmp_path):
    """The shell and plugins load on a thread after start (kernel_info does not wait for them); a
    completion of a plugin magic and the first cell, sent at once, wait for them and find them."""
    from pykernel_helpers import start_kernel
    kp = start_kernel(tmp_path)
    kc = kp.kc
    try:
        kc.complete("%tim", 4)  # sent before any cell: the loader may still be running
        reply = kc.get_shell_msg(timeout=10)
        assert reply["msg_type"] == "complete_reply"
        assert "%time" in reply["content"]["matches"] or "%timeit" in reply["content"]["matches"]
        reply, msgs = run(kc, "%time x = 6 * 7\nimport threading\n"
                              "print([t.name for t in threading.enumerate() if t.name == 'jup-kernel-load'],"
                              " get_ipython().kernel._started)")
        assert reply["content"]["status"] == "ok"
        # the loader had finished, and jup_kernel_startup had been called, before the cell ran
        assert stdout_of(msgs).endswith("[] True\n")
    finally:
        kp.stop()
