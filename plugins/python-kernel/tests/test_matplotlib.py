"""Matplotlib in the kernel: figures appear inline at the end of the cell or on plt.show(), once,
as PNG (or SVG when asked), and are closed afterwards."""

from __future__ import annotations

import base64

from pykernel_helpers import outputs, run, stdout_of


def images(msgs: list[dict], mime: str = "image/png") -> list[str]:
    return [c["data"][mime] for c in outputs(msgs, "display_data") if mime in c["data"]]


def test_figure_appears_at_the_end_of_the_cell_and_is_closed(shared_kernel):
    kernel = shared_kernel
    reply, msgs = run(kernel, "import matplotlib, matplotlib.pyplot as plt\n"
                              "print(matplotlib.get_backend())\n"
                              "plt.plot([1, 3, 2]);")
    assert reply["content"]["status"] == "ok"
    assert stdout_of(msgs) == "module://jup.python.mpl_backend\n"
    (png,) = images(msgs)
    assert base64.b64decode(png)[:8] == b"\x89PNG\r\n\x1a\n"
    (md,) = [c["metadata"] for c in outputs(msgs, "display_data")]
    assert md["image/png"]["width"] > 100
    _, msgs = run(kernel, "len(plt.get_fignums())")
    assert outputs(msgs, "execute_result")[0]["data"]["text/plain"] == "0"
    assert images(msgs) == []


def test_show_sends_each_figure_once(shared_kernel):
    kernel = shared_kernel
    _, msgs = run(kernel, "import matplotlib.pyplot as plt\n"
                          "plt.figure(); plt.plot([1, 2]); plt.show()\n"
                          "plt.figure(); plt.bar([1], [2])\n"
                          "print('between')")
    assert len(images(msgs)) == 2
    kinds = [m["msg_type"] for m in msgs if m["msg_type"] in ("display_data", "stream")]
    assert kinds == ["display_data", "stream", "display_data"]  # show() displayed right away


def test_svg_by_config_and_figures_in_display(shared_kernel):
    kernel = shared_kernel
    _, msgs = run(kernel, "from IPython.display import set_matplotlib_formats, display\n"
                          "set_matplotlib_formats('svg')\n"
                          "import matplotlib.pyplot as plt\n"
                          "fig, ax = plt.subplots(); ax.plot([0, 1])\n"
                          "plt.show()")
    run(kernel, "set_matplotlib_formats('png')")
    (svg,) = images(msgs, "image/svg+xml")
    assert "<svg" in svg and images(msgs) == []


def test_inline_backend_config_chooses_svg(shared_kernel):
    _, msgs = run(shared_kernel, "%config InlineBackend.figure_format = 'svg'\n"
                                 "import matplotlib.pyplot as plt\nplt.plot([1, 2]);")
    run(shared_kernel, "%config InlineBackend.figure_format = 'png'")
    assert len(images(msgs, "image/svg+xml")) == 1 and images(msgs) == []


def test_a_figure_as_the_result_is_shown_once(shared_kernel):
    _, msgs = run(shared_kernel, "import matplotlib.pyplot as plt\nfig, ax = plt.subplots()\nax.plot([3, 1])\nfig")
    (result,) = outputs(msgs, "execute_result")
    assert "image/png" in result["data"]
    assert images(msgs) == []


def test_user_choice_of_backend_is_kept(tmp_path):
    from pykernel_helpers import start_kernel
    kp = start_kernel(tmp_path, {"MPLBACKEND": "agg"})
    kc = kp.kc
    try:
        _, msgs = run(kc, "import matplotlib, matplotlib.pyplot as plt\n"
                          "plt.plot([1]); print(matplotlib.get_backend())")
        assert stdout_of(msgs).strip().lower() == "agg"
        assert images(msgs) == []
    finally:
        kp.stop()


def test_activate_switches_between_inline_and_agg(shared_kernel):
    kernel = shared_kernel
    _, msgs = run(kernel, "from jup.python import mpl_backend\nimport matplotlib.pyplot as plt\n"
                          "mpl_backend.activate('agg')\nplt.plot([1]);")
    assert images(msgs) == []
    _, msgs = run(kernel, "mpl_backend.activate('inline')\nplt.close('all'); plt.plot([2]);")
    assert len(images(msgs)) == 1
    reply, _ = run(kernel, "mpl_backend.activate('no-such-gui')")
    assert reply["content"]["status"] == "error" and "try 'inline' or 'agg'" in reply["content"]["evalue"]
