"""The display protocol: rich reprs, display() and handles, clear_output, plugin formatters, and
the pretty printer's layout."""

from __future__ import annotations

import base64
import collections

import pytest
from pykernel_helpers import outputs, run

from jup.core import FormatterSpec
from jup.python.display import (
    HTML,
    JSON,
    SVG,
    Code,
    IFrame,
    Image,
    Javascript,
    Latex,
    Markdown,
    Math,
    Pretty,
    display,
    update_display,
)
from jup.python.display.formatter import DisplayFormatter
from jup.python.display.pretty import pretty

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")


class Rich:
    def _repr_html_(self):
        return "<b>rich</b>"

    def _repr_markdown_(self):
        return "**rich**"

    def _repr_latex_(self):
        return "$r$"

    def _repr_json_(self):
        return {"r": 1}

    def _repr_svg_(self):
        return "<svg></svg>"

    def _repr_png_(self):
        return PNG

    def _repr_jpeg_(self):
        return None

    def __repr__(self):
        return "Rich()"


def test_every_repr_method_becomes_a_mime_type():
    data, md = DisplayFormatter().format(Rich())
    assert data == {"text/plain": "Rich()", "text/html": "<b>rich</b>", "text/markdown": "**rich**",
                    "text/latex": "$r$", "application/json": {"r": 1}, "image/svg+xml": "<svg></svg>",
                    "image/png": base64.b64encode(PNG).decode()}


def _jpeg_bytes() -> bytes:
    """A real 2x1 JPEG, encoded by Pillow (which matplotlib brings)."""
    import io

    from PIL import Image as PILImage
    buf = io.BytesIO()
    PILImage.new("RGB", (2, 1), (200, 30, 30)).save(buf, format="JPEG")
    return buf.getvalue()


# a one-page PDF; the second line's high bytes mark it binary, as real PDF writers do
PDF = (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"
       b"1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
       b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
       b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 72 72]>>endobj\n"
       b"trailer<</Root 1 0 R>>\n%%EOF\n")


class Paper:
    """Stands for a library object that renders itself as a PDF and a JPEG preview."""

    def __init__(self, jpeg: bytes):
        self.jpeg = jpeg

    def _repr_pdf_(self):
        return PDF

    def _repr_jpeg_(self):
        return self.jpeg

    def __repr__(self):
        return "Paper()"


def test_pdf_and_jpeg_reprs_are_sent_as_base64():
    jpeg = _jpeg_bytes()
    data, _ = DisplayFormatter().format(Paper(jpeg))
    assert set(data) == {"text/plain", "application/pdf", "image/jpeg"}
    assert isinstance(data["application/pdf"], str) and isinstance(data["image/jpeg"], str)
    assert base64.b64decode(data["application/pdf"]) == PDF
    assert base64.b64decode(data["image/jpeg"]) == jpeg
    import io

    from PIL import Image as PILImage
    assert PILImage.open(io.BytesIO(base64.b64decode(data["image/jpeg"]))).size == (2, 1)


def test_pdf_and_jpeg_reach_the_frontend_intact(shared_kernel):
    jpeg = _jpeg_bytes()
    code = (f"class Paper:\n"
            f"    def _repr_pdf_(self): return {PDF!r}\n"
            f"    def _repr_jpeg_(self): return {jpeg!r}\n"
            f"display(Paper())")
    reply, msgs = run(shared_kernel, code)
    assert reply["content"]["status"] == "ok"
    (shown,) = outputs(msgs, "display_data")
    assert base64.b64decode(shown["data"]["application/pdf"]) == PDF
    assert base64.b64decode(shown["data"]["image/jpeg"]) == jpeg


def test_mimebundle_and_metadata_and_include_exclude():
    class Bundle:
        def _repr_mimebundle_(self, include=None, exclude=None):
            return {"text/html": "<i>b</i>", "application/x-custom": "c"}, {"text/html": {"isolated": True}}

        def _repr_html_(self):
            return "ignored: the bundle already has html"

    f = DisplayFormatter()
    data, md = f.format(Bundle())
    assert data["text/html"] == "<i>b</i>" and data["application/x-custom"] == "c"
    assert md == {"text/html": {"isolated": True}}
    data, _ = f.format(Bundle(), exclude=["text/html"])
    assert "text/html" not in data and "text/plain" in data


def test_classes_are_not_rendered_with_their_instance_methods():
    data, _ = DisplayFormatter().format(Rich)
    assert list(data) == ["text/plain"]


def test_a_raising_formatter_falls_back_and_says_why(capsys):
    class Broken:
        def _repr_html_(self):
            raise RuntimeError("html is broken")

        def __repr__(self):
            return "Broken()"

    data, _ = DisplayFormatter().format(Broken())
    assert data == {"text/plain": "Broken()"}
    assert "RuntimeError: html is broken" in capsys.readouterr().err


def test_a_raising_formatter_is_named_on_stderr(capsys):
    class Broken:
        def _repr_html_(self):
            raise RuntimeError("html is broken")

    DisplayFormatter().format(Broken())
    err = capsys.readouterr().err
    assert "text/html formatter for Broken raised RuntimeError: html is broken" in err


def test_plugin_formatters_by_type_and_by_name(capsys):
    f = DisplayFormatter()
    f.add_spec(FormatterSpec("text/html", lambda d: f"<table>{len(d)}</table>", dict))
    f.add_spec(FormatterSpec("text/csv", lambda c: "a,b", "collections.Counter"))
    f.add_spec(FormatterSpec("text/html", lambda s: 1 / 0, set))
    data, _ = f.format(collections.Counter("ab"))
    assert data["text/html"] == "<table>2</table>"  # Counter is a dict
    assert data["text/csv"] == "a,b"
    data, _ = f.format({1})
    assert data == {"text/plain": "{1}"}
    assert "ZeroDivisionError" in capsys.readouterr().err


def test_ipython_style_for_type():
    f = DisplayFormatter()
    f.formatters["text/latex"].for_type(int, lambda n: f"${n}$")
    assert f.format(3)[0]["text/latex"] == "$3$"


def test_precision():
    f = DisplayFormatter()
    f.float_precision = 3
    assert f.format([3.14159, 2.0])[0]["text/plain"] == "[3.142, 2.000]"
    f.float_precision = "%.2e"
    assert f.format(31415.9)[0]["text/plain"] == "3.14e+04"
    f.float_precision = ""
    assert f.format(0.5)[0]["text/plain"] == "0.5"
    with pytest.raises(ValueError, match="integer or a %-format"):
        f.float_precision = "lots"


@pytest.mark.parametrize("obj, mime, value", [
    (HTML("<p>x</p>"), "text/html", "<p>x</p>"),
    (Markdown("# t"), "text/markdown", "# t"),
    (Math("x^2"), "text/latex", "$\\displaystyle x^2$"),
    (Latex("$y$"), "text/latex", "$y$"),
    (SVG("<?xml version='1.0'?><svg>s</svg>"), "image/svg+xml", "<svg>s</svg>"),
    (JSON({"a": [1]}), "application/json", {"a": [1]}),
    (Javascript("alert(1)"), "application/javascript", "alert(1)"),
    (Image(PNG), "image/png", base64.b64encode(PNG).decode()),
    (Pretty("pre-formatted"), "text/plain", "pre-formatted"),
])
def test_display_classes(obj, mime, value):
    data, _ = DisplayFormatter().format(obj)
    assert data[mime] == value


def test_image_from_file_with_size(tmp_path):
    path = tmp_path / "dot.png"
    path.write_bytes(PNG)
    data, md = DisplayFormatter().format(Image(filename=str(path), width=50))
    assert data["image/png"] == base64.b64encode(PNG).decode()
    assert md == {"image/png": {"width": 50}}


def test_iframe_and_code():
    data, _ = DisplayFormatter().format(IFrame("https://example.org", 300, 200, q="1"))
    assert 'src="https://example.org?q=1"' in data["text/html"]
    data, _ = DisplayFormatter().format(Code("x = 1", language="python"))
    assert data["text/plain"] == "x = 1" and "highlight" in data["text/html"]


def test_display_handles_update_and_clear(shell):
    handle = display(HTML("<b>1</b>"), display_id=True)
    handle.update(HTML("<b>2</b>"))
    update_display(Markdown("3"), display_id=handle.display_id)
    display({"text/plain": "raw"}, raw=True, metadata={"k": 1})
    from jup.python.display import clear_output
    clear_output(wait=True)
    kinds = [k for k, _ in shell.publisher.events]
    assert kinds == ["display_data", "update_display_data", "update_display_data", "display_data",
                     "clear_output"]
    first, second, third, raw, clear = [c for _, c in shell.publisher.events]
    assert first["transient"]["display_id"] == handle.display_id == second["transient"]["display_id"]
    assert second["data"]["text/html"] == "<b>2</b>" and third["data"]["text/markdown"] == "3"
    assert raw == {"data": {"text/plain": "raw"}, "metadata": {"k": 1}, "transient": {}}
    assert clear == {"wait": True}


def test_ipython_display_method_is_used(shell):
    class Custom:
        def _ipython_display_(self):
            display(HTML("custom"))

    display(Custom())
    assert shell.publisher.of("display_data")[0]["data"]["text/html"] == "custom"


def test_display_builtin_and_cell_results_in_the_shell(shell):
    shell.run_cell("display(1, 2)\n[1, 2]")
    assert [c["data"]["text/plain"] for c in shell.publisher.of("display_data")] == ["1", "2"]
    assert shell.publisher.of("execute_result")[0]["data"]["text/plain"] == "[1, 2]"


# ---- pretty printer ---------------------------------------------------------------------------


def test_short_containers_stay_on_one_line():
    assert pretty({"a": [1, 2], "b": (3,), "c": set(), "d": frozenset({2, 1})}) == \
        "{'a': [1, 2], 'b': (3,), 'c': set(), 'd': frozenset({1, 2})}"


def test_long_containers_break_one_item_per_line_at_79_columns():
    text = pretty(list(range(30)))
    assert text.splitlines()[:3] == ["[0,", " 1,", " 2,"]
    nested = pretty([list(range(15))] * 3)
    assert nested.splitlines() == ["[" + repr(list(range(15))) + ","] + \
        [" " + repr(list(range(15))) + ","] + [" " + repr(list(range(15))) + "]"]
    assert all(len(line) <= 79 for line in nested.splitlines())


def test_cycles_are_shown_not_followed():
    a = [1]
    a.append(a)
    d = {}
    d["self"] = d
    assert pretty(a) == "[1, [...]]"
    assert pretty(d) == "{'self': {...}}"


def test_repr_pretty_protocol():
    class Tree:
        def __init__(self, *kids):
            self.kids = kids

        def _repr_pretty_(self, p, cycle):
            with p.group(5, "Tree(", ")"):
                for i, k in enumerate(self.kids):
                    if i:
                        p.text(",")
                        p.breakable()
                    p.pretty(k)

    assert pretty(Tree(1, Tree(2))) == "Tree(1, Tree(2))"
    big = pretty(Tree(*["x" * 30] * 3))
    assert big.splitlines()[1].startswith("     'x")


def test_collections_and_types():
    assert pretty(collections.Counter("aab")) == "Counter({'a': 2, 'b': 1})"
    assert pretty(collections.defaultdict(list)) == "defaultdict(list, {})"
    assert pretty(collections.deque([1], maxlen=3)) == "deque([1], maxlen=3)"
    assert pretty(int) == "int" and pretty(collections.OrderedDict) == "collections.OrderedDict"
    assert pretty(list(range(2000))).count("\n") == 1000  # 1000 items, then "..."


def test_functions_and_classes_say_where_they_live():
    def f(x, y=1):
        pass

    class Local:
        pass

    assert pretty(f) == f"<function {__name__}.test_functions_and_classes_say_where_they_live.<locals>.f(x, y=1)>"
    assert pretty(Local).endswith("test_functions_and_classes_say_where_they_live.<locals>.Local")
    assert pretty(len) == "<built-in function len>"


def test_user_subclass_with_own_repr_keeps_it():
    class L(list):
        def __repr__(self):
            return "L!"

    assert pretty(L([1])) == "L!"


# ---- on the wire ------------------------------------------------------------------------------


def test_display_data_reaches_the_frontend(shared_kernel):
    reply, msgs = run(shared_kernel, "from jup.python.display import HTML, clear_output\n"
                                     "h = display(HTML('<b>a</b>'), display_id='d1')\n"
                                     "h.update(HTML('<b>b</b>'))\nclear_output(wait=True)")
    assert reply["content"]["status"] == "ok"
    (d,) = outputs(msgs, "display_data")
    (u,) = outputs(msgs, "update_display_data")
    assert d["data"]["text/html"] == "<b>a</b>" and d["transient"] == {"display_id": "d1"}
    assert u["data"]["text/html"] == "<b>b</b>" and u["transient"] == {"display_id": "d1"}
    assert outputs(msgs, "clear_output") == [{"wait": True}]
