"""A person at `jup run terminal`: typing, completing, recalling history, interrupting, exiting.

Each test drives the real shell in a tmux pane against a real kernel and reads the screen.
"""

from __future__ import annotations

import re

import pytest

KERNELS = [pytest.param([], id="default-kernel"), pytest.param(["--kernel", "python3"], id="ipykernel")]


@pytest.mark.parametrize("kernel", KERNELS)
def test_a_session_as_a_person_types_it(screen, kernel):
    s = screen(*kernel)
    banner = s.wait_for(r"In \[1\]: ", timeout=60)
    assert re.search(r"kernel \S+ .*python 3\.\d+", banner), "the banner names kernel, language and version"

    # a multi-line def: Enter after the colon opens an indented line, an empty line runs it
    s.line("def double(x):")
    s.wait_for(r"   \.\.\.:")
    s.line("return x * 2")  # typed without spaces: the indent comes from the shell
    s.wait_for(r"   \.\.\.:     return x \* 2$")
    s.wait_for(r"\.\.\.: *$", count=1)
    s.press("Enter")
    s.line("double(21)")
    s.wait_for(r"Out\[\d+\]: 42")

    # completion menu from the kernel
    s.line("alpha_one, alpha_two = 1, 2")
    s.type("alpha_")
    s.press("Tab")
    menu = s.wait_for(r"^\s+alpha_two\b")  # a menu line under the input, not the line typed before
    assert re.search(r"^\s+alpha_one\b", menu, re.M)
    s.press("C-c")  # Ctrl-C clears the input
    s.wait_for(r"In \[\d+\]:\s*$")

    # an error shows its traceback and the shell goes on
    s.line("1/0")
    s.wait_for(r"ZeroDivisionError: division by zero")

    # interrupting a busy loop
    s.line("exec('print(\"spinning\", flush=True)\\nwhile True: pass')")
    s.wait_for(r"^spinning$")  # the loop is running: now a person presses Ctrl-C
    s.press("C-c")
    s.wait_for(r"KeyboardInterrupt", timeout=20)
    s.wait_for(r"In \[\d+\]:\s*$")

    # input() is answered at a prompt
    s.line("name = input('your name? ')")
    s.wait_for(r"your name\?\s*$")
    s.line("Ada")
    s.line("name.upper()")
    s.wait_for(r"Out\[\d+\]: 'ADA'")

    # history: Up recalls by prefix, Ctrl-R searches
    s.wait_prompt()
    s.type("doub")
    s.press("Up")
    s.wait_for(r"In \[\d+\]: double\(21\)$")
    s.press("Enter")
    s.wait_for(r"Out\[\d+\]: 42", count=2)
    s.wait_prompt()
    s.press("C-r")
    s.type("upper")
    s.wait_for(r"reverse-i-search\)`upper': name\.upper\(\)|name\.upper\(\)", count=2)
    s.press("Enter")
    s.press("Enter")
    s.wait_for(r"Out\[\d+\]: 'ADA'", count=2)

    # %timeit (a magic) reports a time per loop
    s.line("%timeit -n 3 -r 2 sum(range(100))")
    s.wait_for(r"per loop", timeout=30)

    # Ctrl-D asks, then exits
    s.wait_prompt()  # control keys go to the prompt once it is back
    s.press("C-d")
    s.wait_for(r"really want to exit")
    s.line("y")
    assert s.wait_exit() == 0


def test_kernel_death_is_reported_and_restart_offered(screen):
    s = screen("--kernel", "python3")
    s.wait_for(r"In \[1\]: ", timeout=60)
    s.line("keep_me = 1")
    s.wait_prompt()
    s.line("import os; os._exit(3)")
    s.wait_for(r"exited with code 3", timeout=30)
    s.wait_for(r"Restart the kernel\? \[Y/n\]")
    s.line("y")
    s.wait_for(r"Kernel restarted", timeout=60)
    s.wait_prompt()
    s.press("Up", "Up")  # history from before the death is still there
    s.wait_for(r"In \[1\]: keep_me = 1$")
    s.press("C-c")
    s.line("exit")
    assert s.wait_exit() == 0


def test_no_color_prompt_and_traceback_have_no_colour(screen):
    s = screen("--kernel", "python3", env={"NO_COLOR": "1"})
    s.wait_for(r"In \[1\]: ", timeout=60)
    s.line("1/0")
    s.wait_for(r"ZeroDivisionError: division by zero")
    coloured = s.text(escapes=True)
    assert not re.search(r"\x1b\[(?:\d+;)*3\d(?:;\d+)*m|\x1b\[38;", coloured), coloured[-800:]
    s.line("exit")
    assert s.wait_exit() == 0


def test_colour_is_used_without_no_color(screen):
    s = screen("--kernel", "python3")
    s.wait_for(r"In \[1\]: ", timeout=60)
    s.line("1/0")
    s.wait_for(r"ZeroDivisionError: division by zero")
    assert "\x1b[" in s.text(escapes=True)
    s.wait_prompt()
    s.type("import os")  # the kernel's lexer colours the keyword as it is typed
    s.wait_for(r"\x1b\[38;5;\d+mimport", escapes=True)  # a 256-colour foreground on the keyword
    s.press("C-c")
    s.wait_prompt()
    s.line("quit")
    assert s.wait_exit() == 0


def test_calltip_shows_the_signature_in_the_toolbar(screen):
    s = screen("--kernel", "python3")
    s.wait_for(r"In \[1\]: ", timeout=60)
    s.line("def greet(name, punctuation='!'): return name + punctuation")
    s.type("greet(")
    s.wait_for(r"name, punctuation='!'")
    s.type("'hi')")
    s.press("Enter")
    s.wait_for(r"Out\[\d+\]: 'hi!'")
    s.line("exit")
    assert s.wait_exit() == 0


def test_help_goes_through_the_pager(screen):
    s = screen("--kernel", "python3")  # PAGER=cat in these tests
    s.wait_for(r"In \[1\]: ", timeout=60)
    s.line("len?")
    s.wait_for(r"Return the number of items in a container")
    s.line("exit")
    assert s.wait_exit() == 0


def test_ctrl_d_without_confirmation_when_configured(screen):
    s = screen("--kernel", "python3", "--no-confirm-exit")
    s.wait_for(r"In \[1\]: ", timeout=60)
    s.press("C-d")
    assert s.wait_exit() == 0


def test_editing_keys_paste_autosuggest_and_forced_newline(screen):
    s = screen("--kernel", "python3")
    s.wait_for(r"In \[1\]: ", timeout=60)

    # a bracketed paste of several lines runs as one cell
    s.paste("a = 20\nb = 22\nprint('sum', a + b)\n")
    s.wait_for(r"\.\.\.: print\('sum', a \+ b\)")
    s.press("Enter")
    s.wait_for(r"^sum 42$")

    # fish-style suggestion from history, accepted with the right arrow
    s.line("'suggested text'")
    s.wait_for(r"Out\[\d+\]: 'suggested text'")
    s.wait_prompt()
    s.type("'sugg")
    s.press("Right")
    s.press("Enter")
    s.wait_for(r"Out\[\d+\]: 'suggested text'", count=2)

    # Esc-Enter forces a new line even though the code is complete
    s.wait_prompt()
    s.type("x = 1")
    s.press("Escape", "Enter")
    s.wait_for(r"\.\.\.:\s*$")
    s.line("y = 2")
    s.line("x + y")
    s.wait_for(r"Out\[\d+\]: 3")
    s.line("exit")
    assert s.wait_exit() == 0


def test_vi_mode(screen):
    s = screen("--kernel", "python3", "--vi")
    s.wait_for(r"In \[1\]: ", timeout=60)
    s.type("21+21")
    s.press("Escape")
    s.type("0x")  # normal mode: go to the start, delete one character
    s.wait_for(r"In \[1\]: 1\+21")
    s.press("Enter")
    s.wait_for(r"Out\[1\]: 22")
    s.line("exit")
    assert s.wait_exit() == 0


def test_second_ctrl_c_offers_a_restart_when_the_interrupt_is_ignored(screen):
    s = screen("--kernel", "python3")
    s.wait_for(r"In \[1\]: ", timeout=60)
    s.line("stubborn = 'import signal; signal.signal(signal.SIGINT, signal.SIG_IGN)\\n"
           "print(\"stubborn\", flush=True)\\nwhile True: pass'")
    s.wait_prompt()
    s.line("exec(stubborn)")  # code that ignores SIGINT, as C code that never checks would
    s.wait_for(r"^stubborn$")
    s.press("C-c")
    # the shell says what a second Ctrl-C does; pressing it only then keeps the two presses two
    # signals (pressed together, the OS can merge them into one while the shell waits for a CPU)
    s.wait_for(r"did not stop at the interrupt\. Press Ctrl-C again to restart it", timeout=20)
    s.press("C-c")
    s.wait_for(r"still busy after the interrupt\. Restart it\? \[y/N\]", timeout=20)
    s.line("n")  # not yet: the cell goes on, and Ctrl-C still works on it
    s.wait_for(r"Waiting for the cell to finish\. Press Ctrl-C to be asked again")
    s.press("C-c")
    s.wait_for(r"still busy after the interrupt\. Restart it\? \[y/N\]", count=2, timeout=20)
    s.line("y")
    s.wait_for(r"Kernel restarted", timeout=60)
    s.wait_prompt()
    s.line("stubborn")  # a fresh kernel: the old namespace is gone
    s.wait_for(r"NameError")
    s.line("exit")
    assert s.wait_exit() == 0


def test_style_by_pygments_name_and_a_wrong_name_is_refused(screen):
    s = screen("--kernel", "python3", "--style", "monokai")
    s.wait_for(r"In \[1\]: ", timeout=60)
    s.line("exit")
    assert s.wait_exit() == 0
    bad = screen("--style", "no-such-style")
    screen_text = bad.wait_for(r"__EXIT__\d+")
    assert "is not a pygments style" in screen_text and "monokai" in screen_text
    assert bad.wait_exit() == 2


def test_kernel_killed_while_idle_is_reported_at_the_prompt(screen, private_env):
    import os
    import signal
    s = screen("--kernel", "python3")
    s.wait_for(r"In \[1\]: ", timeout=60)
    s.line("import os; os.getpid()")
    pid = int(s.wait_for(r"Out\[1\]: (\d+)").split("Out[1]: ")[1].split()[0])
    s.wait_prompt()
    os.kill(pid, signal.SIGKILL)  # as the OOM killer would
    s.wait_for(r"killed by SIGKILL.*Press Enter to restart it", timeout=30)
    s.press("Enter")
    s.wait_for(r"Restart the kernel\? \[Y/n\]")
    s.line("y")
    s.wait_for(r"Kernel restarted", timeout=60)
    s.wait_prompt()
    s.line("exit")
    assert s.wait_exit() == 0


def test_prompts_from_the_config_file_and_the_command_line(screen, tmp_path):
    import json
    (tmp_path / "jup_config.json").write_text(json.dumps(
        {"TerminalShell": {"prompt_in": "py[{n}]> ", "prompt_out": "=[{n}]= ", "banner": False}}))
    s = screen("--kernel", "python3", "--TerminalShell.prompt_cont='.. '", env={"JUP_CONFIG_DIR": str(tmp_path)})
    first = s.wait_for(r"py\[1\]> ", timeout=60)
    assert "jup terminal" not in first, "banner=False hides the banner"
    s.line("6 * 7")
    s.wait_for(r"^=\[1\]= 42$")
    s.type("if True:")
    s.press("Enter")
    s.wait_for(r"^ +\.\. $|^ +\.\.$")
    s.line("pass")
    s.press("Enter")
    s.wait_for(r"py\[3\]> ")
    s.line("exit")
    assert s.wait_exit() == 0


def test_dash_i_stays_in_the_shell_after_dash_c(screen):
    s = screen("-i", "-c", "x = 41; print('setup done')")
    s.wait_for(r"^setup done$", timeout=60)
    s.wait_for(r"In \[2\]: ")  # numbering goes on from the -c cell
    s.line("x + 1")
    s.wait_for(r"Out\[2\]: 42")
    s.wait_prompt()
    s.line("quit")
    assert s.wait_exit() == 0


def test_ctrl_c_at_an_input_prompt_ends_the_cell(screen):
    s = screen()  # the in-process kernel: input() is read on the terminal while the cell runs here
    s.wait_for(r"In \[1\]: ", timeout=60)
    s.line("answer = input('say something: ')")
    s.wait_for(r"say something:\s*$")
    s.press("C-c")
    s.wait_for(r"KeyboardInterrupt", timeout=20)
    s.wait_prompt()
    s.line("'still here'")
    s.wait_for(r"Out\[\d+\]: 'still here'")
    s.wait_prompt()
    s.line("exit")
    assert s.wait_exit() == 0


def test_jup_command_options_reach_the_shell_without_a_config_file(private_env, tmp_path):
    """`jup run terminal --TerminalShell.X=...` (taken by the jup command itself) still sets the shell,
    though with no config file the shell otherwise starts on plain defaults, without traitlets."""
    import shutil
    import sys
    from pathlib import Path

    from tmuxterm import Screen

    jup = shutil.which("jup", path=str(Path(sys.executable).parent))
    s = Screen([jup, "run", "terminal", "--TerminalShell.prompt_in=jup[{n}]> "],
               env={**private_env, "JUP_CONFIG_DIR": str(tmp_path / "none")})
    try:
        s.wait_for(r"jup\[1\]> ", timeout=60)
        s.line("import sys; print('traitlets' in sys.modules)")
        s.wait_for(r"^True$")  # configured: the options class is in use
        s.line("exit")
        assert s.wait_exit() == 0
    finally:
        s.close()
    plain = Screen([jup, "run", "terminal"], env={**private_env, "JUP_CONFIG_DIR": str(tmp_path / "none"),
                                                   "JUP_ALLOW_PLUGINS": "python,magics,terminal"})
    try:
        plain.wait_for(r"In \[1\]: ", timeout=60)
        plain.line("import sys; print('traitlets' in sys.modules)")
        plain.wait_for(r"^False$")  # nothing configured: defaults without traitlets
        plain.line("exit")
        assert plain.wait_exit() == 0
    finally:
        plain.close()


@pytest.mark.parametrize("kernel", [pytest.param([], id="in-process"),
                                    pytest.param(["--kernel", "python"], id="python-process")])
def test_output_past_the_budget_says_how_to_see_all_of_it(screen, kernel):
    s = screen(*kernel, env={"JUP_OUTPUT_BUDGET": "2000"})
    s.wait_for(r"In \[1\]: ", timeout=60)
    s.line("for i in range(3000): print('row', i)")
    s.wait_for(r"Run %output 1 to see all of it", timeout=30)
    s.line("%output 1")  # PAGER=cat in these tests: the whole output lands on the screen
    s.wait_for(r"row 2999\s+In \[3\]: ", timeout=30)
    s.line("exit")
    assert s.wait_exit() == 0
