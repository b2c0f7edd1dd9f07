"""What a demanding IPython user notices at `jup run terminal`, each checked on a real screen in tmux."""

from __future__ import annotations

import os
import re

from jup.terminal.shell import fits_on_screen

TOOLBAR_BG = "\x1b[100m"  # the toolbar's grey background (ansibrightblack)


def test_no_empty_toolbar_under_the_prompt_only_a_calltip(screen):
    s = screen()
    s.wait_for(r"In \[1\]: ", timeout=60)
    s.wait_prompt()
    assert TOOLBAR_BG not in s.text(escapes=True), "an idle prompt has no grey bar under it"
    s.line("def greet(name, punctuation='!'): return name + punctuation")
    s.wait_for(r"In \[2\]: ")
    s.type("greet(")
    s.wait_for(r"greet\(name, punctuation='!'\)\s*$")  # the calltip, not the def line above
    s.wait_for(r"\x1b\[100m", escapes=True)  # ...in the grey toolbar
    s.type("'hi')")
    s.wait_for(r"In \[2\]: greet\('hi'\)\s*$")
    assert s.text().count("name, punctuation") == 1, "closing the call hides the calltip and its bar"
    assert TOOLBAR_BG not in s.text(escapes=True)
    s.press("Enter")
    s.wait_for(r"Out\[2\]: 'hi!'")
    s.line("exit")
    assert s.wait_exit() == 0


def test_short_help_stays_on_screen_and_long_help_goes_to_the_pager(screen):
    s = screen(env={"PAGER": "sed s/^/PAGED:/"})
    s.wait_for(r"In \[1\]: ", timeout=60)
    s.line("len?")
    screen_text = s.wait_for(r"Return the number of items in a container")
    assert "PAGED:" not in screen_text, "help that fits is printed, as IPython does, not paged"
    s.wait_prompt()
    s.line("def big(): pass")
    s.line("big.__doc__ = '\\n'.join(f'doc line {i}' for i in range(80))")
    s.wait_prompt()
    s.line("big?")
    s.wait_for(r"^PAGED:.*doc line 79$")  # taller than the screen: paged
    s.wait_prompt()
    s.line("exit")
    assert s.wait_exit() == 0


def test_fits_on_screen_counts_wrapped_lines_and_ignores_colour():
    size = os.terminal_size((20, 10))
    assert fits_on_screen("\n".join(["x"] * 8), size)
    assert not fits_on_screen("\n".join(["x"] * 9), size), "two rows stay free for the prompt"
    assert not fits_on_screen("y" * 200, size), "a long line takes as many rows as it wraps to"
    assert fits_on_screen("\x1b[31m" + "z" * 20 + "\x1b[0m\n" * 3, size)


def test_enter_asks_the_in_process_kernel_whether_the_cell_is_complete(screen):
    s = screen()  # the default, in-process kernel
    s.wait_for(r"In \[1\]: ", timeout=60)
    s.line("%%time")  # a cell magic waits for its body, as in IPython
    s.wait_for(r"\.\.\.:\s*$")
    s.line("total = sum(range(10))")
    s.press("Enter")  # the empty line ends the cell
    s.wait_for(r"Wall time")
    s.wait_prompt()
    s.line("pair = [1,")
    s.wait_for(r"\.\.\.:\s*$")
    s.line("2]")  # the bracket closes at the left margin: the cell is complete and runs
    s.wait_for(r"In \[3\]:\s*$")
    s.line("pair, total")
    s.wait_for(r"Out\[3\]: \(\[1, 2\], 45\)")
    s.line("exit")
    assert s.wait_exit() == 0


def test_a_started_ipykernel_prints_no_transport_warning_and_restarts(screen):
    s = screen("--kernel", "python3")  # a kernel we start talks to us over ipc, not plain tcp
    s.wait_for(r"In \[1\]: ", timeout=60)
    assert "without encryption" not in s.text(), "no ipykernel warning before the first prompt"
    s.line("import os; os._exit(3)")
    s.wait_for(r"Restart the kernel\? \[Y/n\]", timeout=30)
    s.press("Enter")
    s.wait_for(r"Kernel restarted", timeout=60)
    s.wait_prompt()
    s.line("6 * 7")
    s.wait_for(r"Out\[\d+\]: 42", timeout=30)
    assert "without encryption" not in s.text()
    s.line("exit")
    assert s.wait_exit() == 0


def test_captured_shell_output_shows_as_a_plain_list(screen):
    s = screen()
    s.wait_for(r"In \[1\]: ", timeout=60)
    s.line("found = !echo one; echo two")
    s.wait_for(r"In \[2\]:")
    s.line("found")
    s.wait_for(r"^Out\[2\]: \['one', 'two'\]$")  # as IPython shows it, not SList([...])
    s.line("many = !seq 1000 1040")
    s.line("many")
    screen_text = s.wait_for(r"^ '1040'\]$")  # too wide for one line: one item per line
    assert re.search(r"^Out\[4\]: *\n\['1000',$", screen_text, re.M), "a tall value starts under Out[n]"
    s.line("many.grep('104')")
    s.wait_for(r"^Out\[5\]: \['1040'\]$")
    s.line("exit")
    assert s.wait_exit() == 0


def test_automagic_runs_magics_typed_without_percent(screen, tmp_path):
    s = screen()
    s.wait_for(r"In \[1\]: ", timeout=60)
    s.line(f"cd {tmp_path}")
    s.wait_for(r"In \[2\]:")
    s.line("pwd")
    s.wait_for(rf"Out\[2\]: '{re.escape(str(tmp_path))}'")
    s.line("timeit -n 2 -r 1 sum(range(10))")
    s.wait_for(r"per loop", timeout=30)
    s.wait_prompt()
    s.line("pwd = 'mine'")  # an assignment is Python, and the variable then shadows the magic
    s.line("pwd")
    s.wait_for(r"Out\[\d+\]: 'mine'")
    s.line("exit")
    assert s.wait_exit() == 0


def test_automagic_leaves_python_alone():
    from jup.python.transform import automagic
    magics = {"cd", "pwd", "who"}.__contains__
    assert automagic("cd /tmp", magics) == "%cd /tmp"
    assert automagic("x = 1\nwho", magics) == "x = 1\n%who"
    for python in ("pwd = 3", "cd += 1", "pwd()", "if x:\n    cd /tmp", "s = '''\ncd x\n'''", "ls -l"):
        assert automagic(python, magics) == python


def test_traceback_frames_name_the_function_with_its_parameters(screen):
    s = screen()
    s.wait_for(r"In \[1\]: ", timeout=60)
    s.line("def ratio(a, b=2, *rest, **options): return b / a")
    s.line("ratio(0)")
    s.wait_for(r"Cell In\[1\], line 1, in ratio\(a, b, \*rest, \*\*options\)$")  # as IPython shows it
    s.wait_for(r"ZeroDivisionError: division by zero")
    s.line("exit")
    assert s.wait_exit() == 0


def test_ls_and_cat_work_without_a_bang_as_in_ipython(screen, tmp_path):
    (tmp_path / "notes.txt").write_text("first note\n")
    (tmp_path / "sub").mkdir()
    s = screen()
    s.wait_for(r"In \[1\]: ", timeout=60)
    s.line(f"cd {tmp_path}")
    s.line("ls")
    s.wait_for(r"notes\.txt\s+sub/")
    s.line("cat notes.txt")
    s.wait_for(r"^first note$")
    s.line("%alias")
    s.wait_for(r"^ls\s+ls -F$")
    s.line("exit")
    assert s.wait_exit() == 0


def test_a_lone_question_mark_gives_the_intro_help(screen):
    s = screen()
    banner = s.wait_for(r"In \[1\]: ", timeout=60)
    assert "`?` gives help" in banner, "the banner says how to get help, as IPython's does"
    s.line("?")
    s.wait_for(r"obj\?  / obj\?\?\s+help on obj")
    s.wait_prompt()
    s.line("20 + 1")
    s.line("_ * 2, Out[2], In[2]")  # what the help promises is there
    s.wait_for(r"Out\[3\]: \(42, 21, '20 \+ 1'\)")
    s.line("exit")
    assert s.wait_exit() == 0


def test_a_long_output_leaves_no_client_warning_at_the_prompt(screen):
    s = screen()  # the in-process kernel: the cell's output is shown by the executor only
    s.wait_for(r"In \[1\]: ", timeout=60)
    s.line("for n in range(25000): print(n, flush=True)")
    s.wait_for(r"^24999$", timeout=60)
    s.wait_prompt()
    s.line("'after'")
    s.wait_for(r"Out\[2\]: 'after'")
    assert "unread messages" not in s.text()
    s.line("exit")
    assert s.wait_exit() == 0


def test_attaching_again_continues_the_kernels_numbering(screen, private_env, tmp_path):
    import subprocess
    import sys
    import time
    from pathlib import Path

    cf = tmp_path / "kernel-attach.json"
    jup = str(Path(sys.executable).parent / "jup")
    kernel = subprocess.Popen([jup, "kernel", "--kernel", "python", "-f", str(cf)],
                              env={**os.environ, **private_env}, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not cf.exists() and time.monotonic() < deadline:  # bounded wait for the file
            assert kernel.poll() is None, "jup kernel failed to start"
            time.sleep(0.05)  # polling for the connection file, not a fixed delay
        first = screen("--existing", str(cf))
        first.wait_for(r"In \[1\]: ", timeout=60)
        first.line("kept = 'yes'")
        first.wait_for(r"In \[2\]: ")
        first.line("exit")
        assert first.wait_exit() == 0
        second = screen("--existing", str(cf))
        second.wait_for(r"In \[2\]: ", timeout=60)  # the kernel ran one cell: the next is 2
        second.line("kept")
        second.wait_for(r"^Out\[2\]: 'yes'$")
        second.line("exit")
        assert second.wait_exit() == 0
        assert kernel.poll() is None, "leaving an attached kernel keeps it running"
    finally:
        kernel.kill()
        kernel.wait(timeout=10)


def test_load_puts_the_file_at_the_next_prompt(screen, tmp_path):
    (tmp_path / "snippet.py").write_text("loaded_value = 40 + 2\n")
    s = screen()
    s.wait_for(r"In \[1\]: ", timeout=60)
    s.line(f"%load {tmp_path / 'snippet.py'}")
    s.wait_for(r"\.\.\.: loaded_value = 40 \+ 2")  # the file's text, ready to edit and run
    s.press("Enter")
    s.line("loaded_value")
    s.wait_for(r"Out\[\d+\]: 42")
    s.line("exit")
    assert s.wait_exit() == 0


def test_long_coloured_help_in_less_shows_colours_not_escape_codes(screen):
    s = screen("--kernel", "python3", env={"PAGER": "less", "LESS": ""})  # ipykernel colours its help
    s.wait_for(r"In \[1\]: ", timeout=60)
    s.line("import json")
    s.line("json.dumps?")  # taller than the screen: paged
    s.wait_for(r"Signature:", timeout=30)
    s.wait_for(r"\x1b\[31mSignature:", escapes=True)  # the colour reached the terminal
    assert "ESC[" not in s.text(), "less was not given -R: escape codes shown as text"
    s.press("q")
    s.wait_prompt()
    s.line("exit")
    assert s.wait_exit() == 0
