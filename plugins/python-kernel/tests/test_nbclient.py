"""nbclient runs a notebook of everyday cells on our kernel, found by kernelspec name, and the
outputs it saves are valid nbformat."""

from __future__ import annotations

import json
import os
import sys

import nbformat
import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

KERNEL_NAME = "jup-python-nbclient"

CELLS = [
    ("import matplotlib.pyplot as plt\nplt.plot([1, 4, 9])\nplt.title('squares');", {}),
    ("from IPython.display import display, HTML, Markdown\n"
     "display(HTML('<b>bold</b>'))\nh = display(Markdown('*first*'), display_id=True)\n"
     "h.update(Markdown('*second*'))", {}),
    ("{'a': list(range(3)), 'b': 'text'}", {}),
    ("print('to stdout'); import sys; print('to stderr', file=sys.stderr)", {}),
    ("1/0", {"tags": ["raises-exception"]}),
    ("%precision 2\n3.14159", {}),
    ("%%time\nsum(range(1000))", {}),
    ("files = !echo one two\nfiles", {}),
    ("name = input('Your name? ')", {"tags": ["raises-exception"]}),
    ("get_ipython().run_line_magic('who_ls', '')", {}),
]


@pytest.fixture
def kernelspec(tmp_path, monkeypatch):
    spec = tmp_path / "kernels" / KERNEL_NAME
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "jup.python", "-f", "{connection_file}"],
        "display_name": "Python 3 (jup)", "language": "python",
        "env": {"JUP_HISTORY_FILE": str(tmp_path / "history.sqlite")}}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path) + os.pathsep + os.environ.get("JUPYTER_PATH", ""))
    monkeypatch.delenv("MPLBACKEND", raising=False)
    return KERNEL_NAME


def make_notebook():
    nb = new_notebook(metadata={"kernelspec": {"name": KERNEL_NAME, "display_name": "jup",
                                               "language": "python"}})
    nb.cells.append(new_markdown_cell("# Everyday cells"))
    for source, metadata in CELLS:
        nb.cells.append(new_code_cell(source, metadata=metadata))
    return nb


def test_notebook_runs_and_validates(kernelspec, tmp_path):
    nb = make_notebook()
    NotebookClient(nb, timeout=60, kernel_name=kernelspec, resources={"metadata": {"path": str(tmp_path)}}
                   ).execute()
    path = tmp_path / "out.ipynb"
    nbformat.write(nb, str(path))
    nbformat.validate(nbformat.read(str(path), as_version=4))

    out = [c.outputs for c in nb.cells[1:]]
    plot, display_cell, pretty, streams, error, precision, timed, bang, refused, who = out
    assert any("image/png" in o.get("data", {}) for o in plot)
    assert display_cell[0]["data"]["text/html"] == "<b>bold</b>"
    assert display_cell[1]["data"]["text/markdown"] == "*second*"  # updated in place by nbclient
    assert pretty[0]["data"]["text/plain"] == "{'a': [0, 1, 2], 'b': 'text'}"
    assert [(o["name"], o["text"]) for o in streams] == [("stdout", "to stdout\n"), ("stderr", "to stderr\n")]
    assert error[0]["output_type"] == "error" and error[0]["ename"] == "ZeroDivisionError"
    assert precision[-1]["data"]["text/plain"] == "3.14"
    assert "Wall time:" in "".join(o.get("text", "") for o in timed)
    assert timed[-1]["data"]["text/plain"] == "499500"
    assert "'one two'" in bang[0]["data"]["text/plain"]
    assert refused[0]["ename"] == "StdinNotImplementedError"
    assert "name" not in who[0]["data"]["text/plain"]  # the refused cell assigned nothing
    assert [c.execution_count for c in nb.cells[1:]] == list(range(1, len(CELLS) + 1))


def test_an_unexpected_error_stops_the_notebook(kernelspec, tmp_path):
    from nbclient.exceptions import CellExecutionError
    nb = new_notebook(metadata={"kernelspec": {"name": KERNEL_NAME, "display_name": "jup",
                                               "language": "python"}})
    nb.cells = [new_code_cell("x = 1"), new_code_cell("undefined_name"), new_code_cell("x = 2")]
    with pytest.raises(CellExecutionError, match="NameError"):
        NotebookClient(nb, timeout=60, kernel_name=kernelspec).execute()
    assert nb.cells[2].outputs == [] and nb.cells[2].execution_count is None
