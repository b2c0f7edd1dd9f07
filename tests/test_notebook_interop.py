"""Real-world notebooks on our Python kernel, driven by the tools people run them with: papermill,
nbclient, and a frontend's side of ipywidgets (jupyter_client speaking comms). The kernel is found
the way those tools find any kernel: `jup kernelspec install --prefix` plus JUPYTER_PATH.

Each check is something a notebook user would see: parameters that took effect, a failed run that
says why, widget state reaching the frontend and coming back, rich outputs in the saved notebook.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import jupyter_client
import nbclient
import nbformat
import pytest

pytestmark = pytest.mark.timeout(120)

JUP = shutil.which("jup", path=os.path.dirname(sys.executable)) or shutil.which("jup")
KERNEL = "jup-python"
# a 1x1 PNG
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgAAACAAEF/gL+pwAAAABJRU5ErkJggg==")


@pytest.fixture(scope="module")
def jupyter_path(tmp_path_factory) -> Iterator[Path]:
    """Our kernel installed into a private prefix, visible to every Jupyter tool through JUPYTER_PATH."""
    tmp = tmp_path_factory.mktemp("nbinterop")
    prefix = tmp / "prefix"
    done = subprocess.run([JUP, "kernelspec", "install", "python", "--prefix", str(prefix)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert (prefix / "share" / "jupyter" / "kernels" / KERNEL / "kernel.json").exists(), done.stdout
    mp = pytest.MonkeyPatch()
    mp.setenv("JUPYTER_PATH", str(prefix / "share" / "jupyter"))
    mp.setenv("JUPYTER_RUNTIME_DIR", str(tmp / "runtime"))
    mp.setenv("JUP_HISTORY_FILE", str(tmp / "history.sqlite"))
    yield tmp
    mp.undo()


def notebook(*sources: str, tags: dict[int, list[str]] | None = None) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(textwrap.dedent(s)) for s in sources])
    for i, t in (tags or {}).items():
        nb.cells[i].metadata["tags"] = t
    nb.metadata["kernelspec"] = {"name": KERNEL, "display_name": "Python 3 (jup)", "language": "python"}
    return nb


def run_nb(nb: nbformat.NotebookNode, cwd: Path, **kw) -> nbformat.NotebookNode:
    nbclient.NotebookClient(nb, kernel_name=KERNEL, timeout=60, resources={"metadata": {"path": str(cwd)}},
                            **kw).execute()
    nbformat.validate(nb)
    return nb


# ---- papermill ----------------------------------------------------------------------------------

def test_papermill_injects_parameters_and_the_notebook_validates(jupyter_path):
    import papermill as pm
    src, dst = jupyter_path / "params.ipynb", jupyter_path / "params-out.ipynb"
    nbformat.write(notebook("alpha = 1\nname = 'default'", "print(alpha * 2, name)\nalpha",
                            tags={0: ["parameters"]}), src)
    pm.execute_notebook(str(src), str(dst), parameters={"alpha": 21, "name": "jup"}, kernel_name=KERNEL,
                        progress_bar=False, cwd=str(jupyter_path))
    out = nbformat.read(dst, as_version=4)
    nbformat.validate(out)
    injected = [c for c in out.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and "alpha = 21" in injected[0].source
    last = out.cells[-1].outputs
    assert last[0]["text"] == "42 jup\n"
    assert last[1]["data"]["text/plain"] == "21"
    assert out.metadata["papermill"]["parameters"] == {"alpha": 21, "name": "jup"}


def test_papermill_fails_on_an_error_cell_and_keeps_the_kernel_traceback(jupyter_path):
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError
    src, dst = jupyter_path / "err.ipynb", jupyter_path / "err-out.ipynb"
    nbformat.write(notebook("x = 1", "def f():\n    return 1 / 0\nf()", "print('never runs')"), src)
    with pytest.raises(PapermillExecutionError) as info:
        pm.execute_notebook(str(src), str(dst), kernel_name=KERNEL, progress_bar=False, cwd=str(jupyter_path))
    assert info.value.ename == "ZeroDivisionError" and "division by zero" in info.value.evalue
    out = nbformat.read(dst, as_version=4)
    nbformat.validate(out)
    err = [o for o in out.cells[-2].outputs if o.output_type == "error"]
    assert err and err[0].ename == "ZeroDivisionError"
    tb = "\n".join(err[0].traceback)
    assert "1 / 0" in tb and "f()" in tb  # the kernel's own traceback, with the failing lines
    assert out.cells[-1].outputs == [] and out.cells[-1].execution_count is None


# ---- ipywidgets over comms, as a frontend sees them ----------------------------------------------

@pytest.fixture(scope="module")
def kc(jupyter_path) -> Iterator[jupyter_client.BlockingKernelClient]:
    km = jupyter_client.KernelManager(kernel_name=KERNEL)
    km.start_kernel(cwd=str(jupyter_path))
    client = km.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        yield client
    finally:
        client.stop_channels()
        km.shutdown_kernel(now=False)


def execute(kc, code: str) -> tuple[dict, list[dict]]:
    seen: list[dict] = []
    reply = kc.execute_interactive(code, output_hook=seen.append, timeout=30)
    return reply["content"], seen


def of_type(msgs: list[dict], msg_type: str) -> list[dict]:
    return [m["content"] for m in msgs if m["msg_type"] == msg_type]


def send_comm_msg(kc, comm_id: str, data: dict) -> list[dict]:
    """Send a comm_msg as a frontend does; return the iopub messages it caused, up to its idle."""
    msg = kc.session.msg("comm_msg", {"comm_id": comm_id, "data": data})
    kc.shell_channel.send(msg)
    seen: list[dict] = []
    for _ in range(1000):
        got = kc.get_iopub_msg(timeout=30)
        if got["parent_header"].get("msg_id") != msg["header"]["msg_id"]:
            continue
        seen.append(got)
        if got["msg_type"] == "status" and got["content"]["execution_state"] == "idle":
            return seen
    raise AssertionError(f"no idle after the comm_msg; saw {[m['msg_type'] for m in seen]}")


def test_ipywidgets_slider_opens_a_comm_with_state_and_follows_frontend_updates(kc):
    reply, msgs = execute(kc, "import ipywidgets as w\ns = w.IntSlider(value=3, max=50)\ndisplay(s)")
    assert reply["status"] == "ok", reply
    opens = [c for c in of_type(msgs, "comm_open") if c["target_name"] == "jupyter.widget"]
    slider = [c for c in opens if c["data"]["state"].get("_model_name") == "IntSliderModel"]
    assert len(slider) == 1
    state = slider[0]["data"]["state"]
    assert state["value"] == 3 and state["max"] == 50
    open_msg = [m for m in msgs if m["msg_type"] == "comm_open" and m["content"] is slider[0]][0]
    assert open_msg["metadata"]["version"].startswith("2.")  # the widget protocol version, where ipykernel puts it
    # the slider's layout and style are widgets too, opened before it and referenced by it
    assert state["layout"] == "IPY_MODEL_" + opens[0]["comm_id"]
    view = of_type(msgs, "display_data")[0]["data"]["application/vnd.jupyter.widget-view+json"]
    assert view["model_id"] == slider[0]["comm_id"]

    # the user drags the slider: the frontend sends an update, a later cell sees it
    send_comm_msg(kc, view["model_id"], {"method": "update", "state": {"value": 17}, "buffer_paths": []})
    reply, msgs = execute(kc, "print(s.value)")
    assert of_type(msgs, "stream")[0]["text"] == "17\n"

    # the kernel changes it: the frontend is told
    reply, msgs = execute(kc, "s.value = 40")
    updates = [c for c in of_type(msgs, "comm_msg") if c["comm_id"] == view["model_id"]]
    assert updates and updates[0]["data"] == {"method": "update", "state": {"value": 40}, "buffer_paths": []}

    # a frontend asking for the state (as a page reload does) gets it all
    msgs = send_comm_msg(kc, view["model_id"], {"method": "request_state"})
    answers = [c for c in of_type(msgs, "comm_msg") if c["data"].get("method") == "update"]
    assert answers and answers[0]["data"]["state"]["value"] == 40
    reply, msgs = execute(kc, "s.close()")
    assert any(c["comm_id"] == view["model_id"] for c in of_type(msgs, "comm_close"))


def test_interact_callback_output_goes_to_its_output_widget_when_the_slider_moves(kc):
    reply, msgs = execute(kc, "from ipywidgets import interact\n"
                              "@interact(x=1)\n"
                              "def show(x):\n"
                              "    print('x is', x)")
    assert reply["status"] == "ok", reply
    states = {c["comm_id"]: c["data"]["state"] for c in of_type(msgs, "comm_open")}
    slider = next(cid for cid, st in states.items() if st["_model_name"] == "IntSliderModel")
    output = next(cid for cid, st in states.items() if st["_model_name"] == "OutputModel")
    msgs = send_comm_msg(kc, slider, {"method": "update", "state": {"value": 2}, "buffer_paths": []})
    comm_msg_id = msgs[0]["parent_header"]["msg_id"]
    # the Output widget tells the frontend to collect this comm message's output, which follows
    routed = [c["data"]["state"].get("msg_id") for c in of_type(msgs, "comm_msg") if c["comm_id"] == output]
    assert comm_msg_id in routed, routed
    assert "x is 2\n" in [c["text"] for c in of_type(msgs, "stream")]


def test_display_id_update_sends_update_display_data(kc):
    reply, msgs = execute(kc, "h = display('first', display_id=True)\nh.update('second')")
    assert reply["status"] == "ok"
    first = of_type(msgs, "display_data")[0]
    update = of_type(msgs, "update_display_data")[0]
    assert first["data"]["text/plain"] == "'first'" and update["data"]["text/plain"] == "'second'"
    assert first["transient"]["display_id"] == update["transient"]["display_id"]


# ---- real-world cells through nbclient ----------------------------------------------------------

CELLS = {
    "pandas": """
        import pandas as pd
        pd.DataFrame({"city": ["Oslo", "Lima"], "temp": [3, 19]})
        """,
    "image": f"""
        from IPython.display import Image, display
        png = {PNG!r}
        display(Image(data=png))
        open("pixel.png", "wb").write(png)
        display(Image(filename="pixel.png"))
        """,
    "markup": r"""
        from IPython.display import Markdown, Latex, Math
        display(Markdown("**bold**"), Latex(r"$\alpha$"), Math(r"\beta^2"))
        """,
    "update": """
        h = display("v1", display_id=True)
        h.update("v2")
        """,
    "clear": """
        from IPython.display import clear_output
        for i in range(5):
            clear_output(wait=True)
            print("step", i)
        """,
    "capture": """
        %%capture captured
        from IPython.display import HTML
        display(HTML("<b>kept</b>"))
        print("quiet")
        """,
    "capture_check": "captured.outputs[0]['data']['text/html'], captured.stdout",
    "progress": """
        for i in range(5):
            print(f"{i * 25}%", end="\\r")
        print("done")
        """,
    "exit": "raise SystemExit(3)",
    "after_exit": "print('still alive')",
    "big": "print('x' * 10_000_000)",
    "ext_write": """
        import sys
        sys.path.insert(0, ".")
        open("nbext_demo.py", "w").write(
            "def load_ipython_extension(ip):\\n    ip.push({'EXT_LOADED': True})\\n")
        """,
    "load_ext": "%load_ext nbext_demo\nEXT_LOADED",
    "autoreload": """
        %load_ext autoreload
        %autoreload 2
        open("armod.py", "w").write("def f():\\n    return 'old'\\nclass K:\\n    def m(self):\\n        return 'old'\\n")
        import armod
        from armod import f
        k = armod.K()
        f(), k.m()
        """,
    "autoreload_edit": """
        import os
        open("armod.py", "w").write("def f():\\n    return 'new!'\\nclass K:\\n    def m(self):\\n        return 'new!'\\n")
        st = os.stat("armod.py")
        os.utime("armod.py", (st.st_atime, st.st_mtime + 5))  # an editor's save, seconds later
        """,
    "autoreload_check": "f(), k.m(), armod.f()",
    "events": """
        runs = []
        get_ipython().events.register('post_run_cell', lambda result: runs.append(result.success))
        """,
    "events_1": "1 / 0",
    "events_check": "runs",
    "timeit": "from IPython import get_ipython\nget_ipython().run_line_magic('timeit', '-n1 -r1 pass')",
    "version": "import IPython\nIPython.__version__ == '.'.join(map(str, IPython.version_info[:3]))",
    "nested": "get_ipython().run_cell('zz = 3').success, zz",
    "after_nested": "zz + 1",
    "capture_utils": """
        from IPython.utils.capture import capture_output
        from IPython.display import HTML
        with capture_output() as c:
            print("hidden")
            display(HTML("<u>kept</u>"))
        try:
            with capture_output():
                raise ValueError("inside")
        except ValueError:
            print("visible again")
        c.stdout, c.outputs[0].data["text/html"]
        """,
    "capture_show": "c.show()",
    "output_widget": """
        import ipywidgets as w
        out = w.Output()
        display(out)
        with out:
            print("into the widget")
        print("into the cell")
        """,
}


@pytest.fixture(scope="module")
def cells(jupyter_path) -> dict[str, nbformat.NotebookNode]:
    """One notebook of everyday cells, run once by nbclient; each test reads its cell."""
    nb = notebook(*CELLS.values())
    run_nb(nb, jupyter_path, allow_errors=True)
    by_name = dict(zip(CELLS, nb.cells, strict=True))
    by_name["__notebook__"] = nb
    return by_name


def outs(cell, output_type: str) -> list:
    return [o for o in cell.outputs if o.output_type == output_type]


def test_pandas_dataframe_has_html_and_text(cells):
    data = outs(cells["pandas"], "execute_result")[0]["data"]
    assert "<table" in data["text/html"] and "Oslo" in data["text/html"]
    assert "city" in data["text/plain"] and "Lima" in data["text/plain"]


def test_images_from_bytes_and_file_and_markup(cells):
    imgs = outs(cells["image"], "display_data")
    assert len(imgs) == 2
    assert all(base64.b64decode(o["data"]["image/png"]) == PNG for o in imgs)
    md, latex, math = (o["data"] for o in outs(cells["markup"], "display_data"))
    assert md["text/markdown"] == "**bold**"
    assert latex["text/latex"] == r"$\alpha$"
    assert r"\beta^2" in math["text/latex"] and math["text/latex"].startswith("$")


def test_display_update_and_clear_output_leave_only_the_last_state(cells):
    upd = cells["update"].outputs
    assert len(upd) == 1 and upd[0]["data"]["text/plain"] == "'v2'"
    assert [o.get("text") for o in cells["clear"].outputs] == ["step 4\n"]


def test_capture_keeps_rich_output_out_of_the_cell(cells):
    assert cells["capture"].outputs == []
    value = outs(cells["capture_check"], "execute_result")[0]["data"]["text/plain"]
    assert value == "('<b>kept</b>', 'quiet\\n')"


def test_carriage_return_progress_is_kept_for_the_frontend(cells):
    text = "".join(o["text"] for o in outs(cells["progress"], "stream"))
    assert text == "0%\r25%\r50%\r75%\r100%\rdone\n"


def test_system_exit_is_an_error_and_the_kernel_lives_on(cells):
    err = outs(cells["exit"], "error")
    assert err and err[0].ename == "SystemExit" and err[0].evalue == "3"
    assert outs(cells["after_exit"], "stream")[0]["text"] == "still alive\n"


def test_ten_megabytes_of_print_stay_within_the_budget(cells):
    text = "".join(o["text"] for o in outs(cells["big"], "stream"))
    assert "budget" in text and "[jup]" in text  # the user is told where the rest went
    assert len(text) < 6_000_000
    size = len(nbformat.writes(cells["__notebook__"]))
    print(f"notebook with a 10 MB print cell: {size / 1e6:.1f} MB")
    assert size < 6_500_000


def test_load_ext_runs_an_ipython_style_extension(cells):
    assert outs(cells["load_ext"], "execute_result")[0]["data"]["text/plain"] == "True"


def test_post_run_cell_callbacks_are_called_with_the_result(cells):
    assert outs(cells["events_1"], "error")[0].ename == "ZeroDivisionError"
    assert outs(cells["events_check"], "execute_result")[0]["data"]["text/plain"] == "[True, False]"


def test_timeit_through_get_ipython(cells):
    text = outs(cells["timeit"], "stream")[0]["text"]
    assert "per loop" in text and "1 run, 1 loop each" in text


def test_ipython_version_is_importable(cells):
    assert outs(cells["version"], "execute_result")[0]["data"]["text/plain"] == "True"


def test_output_widget_captures_what_is_printed_inside_it(cells):
    cell_text = "".join(o["text"] for o in outs(cells["output_widget"], "stream"))
    assert cell_text == "into the cell\n"
    model_id = outs(cells["output_widget"], "display_data")[0]["data"][
        "application/vnd.jupyter.widget-view+json"]["model_id"]
    state = cells["__notebook__"].metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    captured = state[model_id]["state"]["outputs"]
    assert [o.get("text") for o in captured] == ["into the widget\n"], json.dumps(captured)[:500]


def test_a_cell_run_by_code_does_not_advance_the_execution_count(cells):
    nested, after = (outs(cells[k], "execute_result")[0] for k in ("nested", "after_nested"))
    assert nested["data"]["text/plain"] == "(True, 3)" and after["data"]["text/plain"] == "4"
    assert after["execution_count"] == nested["execution_count"] + 1
    assert cells["after_nested"].execution_count == cells["nested"].execution_count + 1


def test_ipython_utils_capture_output_keeps_and_replays(cells):
    cell = cells["capture_utils"]
    assert [o["text"] for o in outs(cell, "stream")] == ["visible again\n"]
    assert outs(cell, "display_data") == []
    assert outs(cell, "execute_result")[0]["data"]["text/plain"] == "('hidden\\n', '<u>kept</u>')"
    shown = cells["capture_show"]
    assert [o["text"] for o in outs(shown, "stream")] == ["hidden\n"]
    assert outs(shown, "display_data")[0]["data"]["text/html"] == "<u>kept</u>"


def test_autoreload_picks_up_an_edited_module_before_the_next_cell(cells):
    assert outs(cells["autoreload"], "error") == []
    assert outs(cells["autoreload"], "execute_result")[0]["data"]["text/plain"] == "('old', 'old')"
    after = outs(cells["autoreload_check"], "execute_result")[0]["data"]["text/plain"]
    assert after == "('new!', 'new!', 'new!')"  # even the names imported and the instance made before
