"""Real notebooks run unchanged: `IPython.display`, `get_ipython()` and `IPython.core.magic` are
served by jup inside the kernel, shadowing a real IPython (which is installed in this env)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from pykernel_helpers import outputs, run, start_kernel, stdout_of

from jup.python import compat


@pytest.fixture
def ipy_shell(shell):
    compat.install()
    yield shell
    compat.uninstall()


def test_ipython_display_names_are_ours(ipy_shell):
    r = ipy_shell.run_cell(
        "from IPython.display import (display, HTML, Markdown, Image, Math, clear_output, "
        "update_display, DisplayHandle, Javascript, SVG, JSON, IFrame, Code, Pretty, Latex, FileLink)\n"
        "from IPython.core.display import display as d2\n"
        "import IPython, jup.python.display as ours\n"
        "(HTML is ours.HTML, d2 is ours.display, IPython.get_ipython() is get_ipython())")
    assert r.result == (True, True, True)


def test_from_ipython_import_display_gives_the_module(ipy_shell):
    r = ipy_shell.run_cell("from IPython import display\ndisplay.clear_output(wait=True)\n"
                           "display.display(display.HTML('x'))")
    assert r.success
    assert [k for k, _ in ipy_shell.publisher.events] == ["clear_output", "display_data"]


def test_get_ipython_api(ipy_shell):
    ipy_shell.run_cell("ip = get_ipython()\n"
                       "def hello(line):\n    return 'hello ' + line\n"
                       "ip.register_magic_function(hello)\n"
                       "ip.user_ns['z'] = 5\n"
                       "ip.events.register('post_execute', lambda: None)")
    assert ipy_shell.run_cell("get_ipython().run_line_magic('hello', 'you')").result == "hello you"
    assert ipy_shell.run_cell("%hello $z").result == "hello 5"
    assert ipy_shell.run_cell("get_ipython().magic('hello there')").result == "hello there"
    assert ipy_shell.run_cell("get_ipython().getoutput('echo hi')").result == ["hi"]
    assert ipy_shell.run_cell("get_ipython().kernel is None and get_ipython().display_pub is not None").result


def test_magics_classes_and_decorators(ipy_shell):
    code = ("from IPython.core.magic import (Magics, magics_class, line_magic, cell_magic,\n"
            "                                register_line_magic, register_cell_magic)\n"
            "@magics_class\nclass Mine(Magics):\n"
            "    @line_magic\n    def twice(self, line):\n        return line * 2\n"
            "    @cell_magic('rev')\n    def reverse(self, line, cell):\n        return cell[::-1]\n"
            "get_ipython().register_magics(Mine)\n"
            "@register_cell_magic\ndef upper(line, cell):\n    return cell.upper()\n")
    assert ipy_shell.run_cell(code).success
    assert ipy_shell.run_cell("%twice ab").result == "abab"
    assert ipy_shell.run_cell("%%rev\nxyz").result == "zyx"
    assert ipy_shell.run_cell("%%upper\nxyz").result == "XYZ"


def test_usage_error_import_and_interactiveshell(ipy_shell):
    r = ipy_shell.run_cell("from IPython.core.error import UsageError\n"
                           "from IPython.core.interactiveshell import InteractiveShell\n"
                           "from IPython.lib.pretty import pretty\n"
                           "pretty([1, 2]), isinstance(get_ipython(), InteractiveShell)")
    assert r.result == ("[1, 2]", True)


def test_unserved_ipython_module_says_why(ipy_shell):
    r = ipy_shell.run_cell("import IPython.terminal.embed")
    assert isinstance(r.error_in_exec, ModuleNotFoundError)
    assert "ipykernel kernel" in str(r.error_in_exec)


def test_uninstall_gives_back_the_real_ipython(ipy_shell):
    compat.uninstall()
    import IPython
    assert not hasattr(IPython, "__path__") or IPython.__path__ != []
    assert "jup" not in IPython.__file__
    compat.install()


def test_notebook_code_in_the_kernel(shared_kernel):
    reply, msgs = run(shared_kernel, "from IPython.display import HTML, display, Markdown\n"
                                     "import IPython\n"
                                     "display(HTML('<b>test</b>'))\n"
                                     "ip = get_ipython()\n"
                                     "print(type(ip).__name__, ip.kernel is not None)\n"
                                     "IPython.display.Markdown('*m*')")
    assert reply["content"]["status"] == "ok"
    assert outputs(msgs, "display_data")[0]["data"]["text/html"] == "<b>test</b>"
    assert stdout_of(msgs) == "ZMQInteractiveShell True\n"
    assert outputs(msgs, "execute_result")[0]["data"]["text/markdown"] == "*m*"


def test_comm_package_is_served_by_the_kernel(shared_kernel):
    reply, msgs = run(shared_kernel, "import comm\n"
                                     "c = comm.create_comm(target_name='t1', data={'x': 1})\n"
                                     "c.comm_id in comm.get_comm_manager().comms")
    assert outputs(msgs, "execute_result")[0]["data"]["text/plain"] == "True"
    (opened,) = outputs(msgs, "comm_open")
    assert opened["target_name"] == "t1" and opened["data"] == {"x": 1}


def test_notebook_code_runs_when_ipython_is_broken_or_absent(tmp_path):
    """A kernel whose sys.path finds an IPython that cannot be imported (as if it were missing or
    broken) still serves the notebook API: the compatibility finder is consulted first."""
    fake = tmp_path / "site"
    (fake / "IPython").mkdir(parents=True)
    (fake / "IPython" / "__init__.py").write_text(
        "raise ImportError('IPython is not installed here (test stand-in)')\n")
    pythonpath = os.pathsep.join(p for p in (str(fake), os.environ.get("PYTHONPATH")) if p)
    plain = subprocess.run([sys.executable, "-c", "import IPython"], env={**os.environ, "PYTHONPATH": pythonpath},
                           capture_output=True, text=True, timeout=60)
    assert plain.returncode != 0 and "not installed here" in plain.stderr  # the real one is hidden
    kp = start_kernel(tmp_path, {"PYTHONPATH": pythonpath})
    kc = kp.kc
    try:
        reply, msgs = run(kc, "import importlib.machinery\n"
                              "importlib.machinery.PathFinder.find_spec('IPython').origin")
        assert str(fake) in outputs(msgs, "execute_result")[0]["data"]["text/plain"]

        reply, msgs = run(kc, "from IPython.display import display, HTML, Markdown, clear_output\n"
                              "display(HTML('<i>h</i>'), Markdown('**m**'))\n"
                              "clear_output(wait=True)")
        assert reply["content"]["status"] == "ok"
        assert [m["msg_type"] for m in msgs if m["msg_type"] in ("display_data", "clear_output")] == \
            ["display_data", "display_data", "clear_output"]
        html, md = outputs(msgs, "display_data")
        assert html["data"]["text/html"] == "<i>h</i>" and md["data"]["text/markdown"] == "**m**"

        reply, msgs = run(kc, "get_ipython().run_line_magic('precision', '3')\n3.14159")
        assert outputs(msgs, "execute_result")[0]["data"]["text/plain"] == "3.142"

        target = tmp_path / "written.txt"
        reply, msgs = run(kc, f"get_ipython().run_cell_magic('writefile', {str(target)!r}, 'one\\ntwo\\n')")
        assert reply["content"]["status"] == "ok"
        assert target.read_text() == "one\ntwo\n" and f"Writing {target}" in stdout_of(msgs)

        reply, msgs = run(kc, "def shout(line):\n    return line.upper() + '!'\n"
                              "get_ipython().register_magic_function(shout)\n"
                              "%shout quiet please")
        assert outputs(msgs, "execute_result")[0]["data"]["text/plain"] == "'QUIET PLEASE!'"
    finally:
        kp.stop()
