"""`obj?`, `obj??` and inspect_request: signature, type, string form, file, docstring, source,
in plain text without ANSI codes; slow `__repr__`s and properties cannot wedge it."""

from __future__ import annotations

import json
import time

import pytest

from jup.python.inspector import Inspector, name_at_cursor


def run(kc, code: str, timeout: float = 30) -> tuple[dict, list[dict]]:
    """Execute `code` on the kernel; the execute_reply and the cell's iopub messages until idle."""
    msgs: list[dict] = []
    reply = kc.execute_interactive(code, timeout=timeout, output_hook=msgs.append)
    return reply, msgs



def documented(a, b=2, *args, key=None):
    """Add things up, carefully."""
    return a + b


class Widget:
    """A widget you can frobnicate."""

    def __init__(self, size: int):
        """Make a widget of `size`."""
        self.size = size

    @property
    def blocking(self):
        """A property that would hang if evaluated."""
        time.sleep(30)


class SlowRepr:
    def __repr__(self):
        time.sleep(30)
        return "never"


@pytest.fixture
def insp(shell):
    shell.user_ns.update({"documented": documented, "Widget": Widget, "w": Widget(3),
                          "json": json, "numbers": list(range(5000)), "slow": SlowRepr()})
    return Inspector(shell)


def _plain(bundle):
    text = bundle["text/plain"]
    assert "\x1b[" not in text
    return text


def test_a_builtin(insp):
    text = _plain(insp.info("zip"))
    assert "Docstring:" in text and "zip(" in text
    assert "Type:" in text and "type" in text
    text = _plain(insp.info("len"))
    assert text.startswith("Signature: len(obj, /)")


def test_a_function_at_both_detail_levels(insp):
    text = _plain(insp.info("documented"))
    assert "Signature: documented(a, b=2, *args, key=None)" in text
    assert "Add things up, carefully." in text
    assert "File:" in text and "test_inspector.py" in text
    assert "Type:      function" in text
    source = _plain(insp.info("documented", 1))
    assert "Source:" in source and "return a + b" in source


def test_a_class_shows_init_signature_and_both_docstrings(insp):
    text = _plain(insp.info("Widget"))
    assert "Init signature: Widget(size: " in text
    assert "A widget you can frobnicate." in text and "Make a widget of `size`." in text


def test_an_instance_shows_type_and_a_truncated_string_form(insp):
    text = _plain(insp.info("numbers"))
    assert "Type:        list" in text and "Length:      5000" in text
    form = [ln for ln in text.splitlines() if ln.startswith("String form:")][0]
    assert "<...>" in form and len(form) < 1100


def test_a_module_and_a_dotted_name(insp):
    text = _plain(insp.info("json"))
    assert "JSON (JavaScript Object Notation)" in text and "File:" in text
    text = _plain(insp.info("json.dumps"))
    assert text.startswith("Signature: json.dumps(obj, *, skipkeys=False")


def test_a_property_is_described_not_run(insp):
    t0 = time.perf_counter()
    text = _plain(insp.info("w.blocking"))
    assert time.perf_counter() - t0 < 1
    assert "A property that would hang if evaluated." in text
    assert "Type:" in text and "property" in text and "String form" not in text


def test_a_slow_repr_is_skipped_in_time(insp):
    t0 = time.perf_counter()
    text = _plain(insp.info("slow"))
    assert time.perf_counter() - t0 < 2
    assert "took longer than" in text


def test_unknown_names_and_keywords(insp):
    assert insp.info("no_such_name") is None
    assert insp.info("1 + 1") is None
    assert "Keyword" in insp.info("for")["text/plain"]


def test_html_bundle_is_escaped(insp):
    html = insp.info("Widget")["text/html"]
    assert "<dl" in html and "Widget(size: &#x27;int&#x27;)" in html and "<dt>Docstring</dt>" in html


@pytest.mark.parametrize("code,pos,expected", [
    ("zip", None, "zip"), ("zip(", None, "zip"), ("zip(a, ", None, "zip"),
    ("os.path.join", None, "os.path.join"), ("os.path.join", 4, "os.path"),
    ("f(x)[0]", 5, ""), ("print(len(x), ", None, "print"), ("", None, ""),
])
def test_name_at_cursor(code, pos, expected):
    assert name_at_cursor(code, len(code) if pos is None else pos) == expected


def test_inspect_reply_content(insp):
    reply = insp.inspect("documented(1, ", 14, 0)
    assert reply["status"] == "ok" and reply["found"] is True
    assert "Add things up" in reply["data"]["text/plain"]
    reply = insp.inspect("nothing_here_at_all", 5, 0)
    assert reply == {"status": "ok", "found": False, "data": {}, "metadata": {}}


@pytest.mark.timeout(60)
def test_inspect_request_and_question_mark_through_a_kernel(kernel):
    kernel.inspect("zip", 3, 0)
    reply = kernel.get_shell_msg(timeout=10)
    assert reply["content"]["found"] is True
    assert "zip" in reply["content"]["data"]["text/plain"]
    run(kernel, "def helper(x):\n    'Helps.'\n    return x")
    kernel.inspect("helper(", 7, 1)
    reply = kernel.get_shell_msg(timeout=10)
    assert "return x" in reply["content"]["data"]["text/plain"]
    reply, _ = run(kernel, "helper?")
    [page] = [p for p in reply["content"]["payload"] if p["source"] == "page"]
    assert "Helps." in page["data"]["text/plain"]
    reply, _ = run(kernel, "helper??")
    [page] = [p for p in reply["content"]["payload"] if p["source"] == "page"]
    assert "return x" in page["data"]["text/plain"]
