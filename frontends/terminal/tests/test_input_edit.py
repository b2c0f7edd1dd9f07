"""A person answering a cell's `input()` / `getpass()`: the answer is edited like any line, Ctrl-C
interrupts the cell, Ctrl-D ends the input, a password is never shown; in every kernel mode."""

from __future__ import annotations

import pytest

KERNELS = [pytest.param([], id="in-process"), pytest.param(["--kernel", "python"], id="jup-python"),
           pytest.param(["--kernel", "python3"], id="ipykernel")]


@pytest.mark.parametrize("kernel", KERNELS)
def test_input_answer_is_edited_interrupted_and_ended(screen, kernel):
    s = screen(*kernel)
    s.wait_for(r"In \[1\]: ", timeout=60)

    # the answer is edited: Left moves the cursor back over 'd', 'c' goes in before it
    s.line('x = input("name? ")')
    s.wait_last_line(r"^name\?\s*$")
    s.type("abd")
    s.press("Left")
    s.type("c")
    s.press("Enter")
    s.wait_prompt()
    s.line("print(x, len(x))")
    s.wait_for(r"^abcd 4$")

    # Up at an input() prompt recalls earlier answers, never the cells typed at `In [N]:`
    s.wait_prompt()
    s.line('y = input("again? ")')
    s.wait_last_line(r"^again\?\s*$")
    s.press("Up")
    s.wait_last_line(r"^again\? abcd$")
    s.type("!")
    s.press("Enter")
    s.wait_prompt()
    s.line("print(repr(y))")
    s.wait_for(r"^'abcd!'$")

    # Ctrl-C at the prompt ends the cell with KeyboardInterrupt; the code after input() never runs
    s.wait_prompt()
    s.line('z = input("ctrl-c? "); print("not reached")')
    s.wait_last_line(r"^ctrl-c\?\s*$")
    s.type("partial")
    s.press("C-c")
    s.wait_for(r"KeyboardInterrupt", timeout=20)
    s.wait_prompt()
    s.line("print('z' in dir())")
    s.wait_for(r"^False$")

    # Ctrl-D on an empty answer is EOFError in the cell
    s.wait_prompt()
    s.line('w = input("ctrl-d? ")')
    s.wait_last_line(r"^ctrl-d\?\s*$")
    s.press("C-d")
    s.wait_for(r"EOFError", timeout=20)

    # getpass: what is typed never reaches the screen, the cell gets all of it
    s.wait_prompt()
    s.line('import getpass; p = getpass.getpass("secret: ")')
    s.wait_last_line(r"^secret:\s*$")
    s.type("hunter2")
    s.press("Enter")
    s.wait_prompt()
    s.line("print(len(p), p[::-1])")
    screen_text = s.wait_for(r"^7 2retnuh$")
    assert "hunter2" not in screen_text, "the password was echoed"

    # a prompt coloured with escape sequences shows as text, not as escapes
    s.wait_prompt()
    s.line(r'c = input("\x1b[1;31mcoloured?\x1b[0m ")')
    s.wait_last_line(r"^coloured\?\s*$")
    s.line("yes")
    s.wait_prompt()

    s.line("exit")
    assert s.wait_exit() == 0


@pytest.mark.parametrize("kernel", KERNELS)
def test_piped_answers_are_read_plainly_and_their_end_is_eof_error(run_batch, kernel):
    code = ("import getpass\npw = getpass.getpass('pw: ')\nname = input('name? ')\nprint(pw[::-1], name)\n"
            "try:\n    input('more? ')\nexcept EOFError:\n    print('no more input')\n")
    done = run_batch(*kernel, "-c", code, stdin="s3cret\nAda\n")
    assert done.returncode == 0, done.stderr
    assert "terc3s Ada" in done.stdout and "no more input" in done.stdout
    assert "s3cret" not in done.stdout, "the password is not printed back"


def test_kernel_dying_while_asking_ends_the_question(screen):
    import os
    import signal
    s = screen("--kernel", "python")
    s.wait_for(r"In \[1\]: ", timeout=60)
    s.line("import os; print('pid', os.getpid()); input('waiting? ')")
    pid = int(s.wait_for(r"^pid (\d+)").split("pid ")[1].split()[0])
    s.wait_last_line(r"^waiting\?\s*$")
    os.kill(pid, signal.SIGKILL)
    s.wait_for(r"killed by SIGKILL", timeout=30)
    s.wait_for(r"Restart the kernel\? \[Y/n\]")  # asked on its own prompt, the input() prompt is gone
    s.line("y")
    s.wait_for(r"Kernel restarted", timeout=60)
    s.wait_prompt()
    s.line("print('after', 6 * 7)")
    s.wait_for(r"^after 42$")
    s.wait_prompt()
    s.line("exit")
    assert s.wait_exit() == 0
