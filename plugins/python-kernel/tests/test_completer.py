"""Tab completion: names, attributes of live objects (without running properties), dict keys,
paths, magics, module names, jedi for the rest; types in the metadata; fast on huge namespaces."""

from __future__ import annotations

import importlib.machinery
import os
import pkgutil
import statistics
import sys
import sysconfig
import time

import pytest

from jup.core import MagicSpec
from jup.python.completer import Completer


def run(kc, code: str, timeout: float = 30) -> tuple[dict, list[dict]]:
    """Execute `code` on the kernel; the execute_reply and the cell's iopub messages until idle."""
    msgs: list[dict] = []
    reply = kc.execute_interactive(code, timeout=timeout, output_hook=msgs.append)
    return reply, msgs



class Blocking:
    """An object whose property would hang a completer that evaluates attributes."""

    ran = False

    @property
    def slow(self):
        Blocking.ran = True
        time.sleep(30)
        return 1

    def method(self, a, b=2):
        return a

    value = 5


@pytest.fixture
def comp(shell):
    shell.user_ns.update({"food": 1, "foot": "x", "os": os, "obj": Blocking(),
                          "data": {"alpha": 1, "beta": 2, 3: "three"},
                          "nested": {"inner": {"deep": 1}}})
    return Completer(shell)


def _matches(reply):
    return reply["matches"]


def _types(reply):
    return {t["text"]: t["type"] for t in reply["metadata"]["_jupyter_types_experimental"]}


def test_names_from_the_namespace_builtins_and_keywords(comp):
    reply = comp.complete("foo")
    assert _matches(reply)[:2] == ["food", "foot"]
    assert reply["cursor_start"] == 0 and reply["cursor_end"] == 3 and reply["status"] == "ok"
    reply = comp.complete("pri")
    assert "print" in _matches(reply) and _types(reply)["print"] == "function"
    reply = comp.complete("whi")
    assert _types(reply)["while"] == "keyword"


def test_cursor_in_the_middle_completes_what_is_before_it(comp):
    code = "x = foo + 1"
    reply = comp.complete(code, 7)
    assert _matches(reply)[:2] == ["food", "foot"] and reply["cursor_start"] == 4


def test_attributes_of_live_objects_without_running_properties(comp):
    reply = comp.complete("obj.")
    assert {"method", "slow", "value"} <= set(_matches(reply))
    types = _types(reply)
    assert types["method"] == "function" and types["slow"] == "property"
    assert Blocking.ran is False
    reply = comp.complete("obj.me")
    assert _matches(reply) == ["method"] and reply["cursor_start"] == 4
    sig = reply["metadata"]["_jupyter_types_experimental"][0]["signature"]
    assert sig == "(self, a, b=2)"
    t0 = time.perf_counter()
    comp.complete("obj.slow.")  # must not evaluate the property
    assert time.perf_counter() - t0 < 2 and Blocking.ran is False


def test_module_attributes_and_chains(comp):
    reply = comp.complete("os.pa")
    assert {"path", "pathsep"} <= set(_matches(reply)) and _types(reply)["path"] == "module"
    reply = comp.complete("os.path.jo")
    assert _matches(reply) == ["join"]


def test_dict_keys(comp):
    reply = comp.complete('data["al')
    assert _matches(reply) == ['alpha"']
    reply = comp.complete("data['")
    assert set(_matches(reply)) == {"alpha'", "beta'"}
    reply = comp.complete("data[")
    assert set(_matches(reply)) == {"'alpha'", "'beta'", "3"}
    assert set(_types(reply).values()) == {"dict key"}
    reply = comp.complete('nested["inner"]["d')
    assert _matches(reply) == ['deep"']


def test_paths_inside_strings(comp, tmp_path, monkeypatch):
    (tmp_path / "alpha.csv").write_text("")
    (tmp_path / "alpine").mkdir()
    (tmp_path / ".hidden").write_text("")
    monkeypatch.chdir(tmp_path)
    reply = comp.complete("open('al")
    assert _matches(reply) == ["alpha.csv", "alpine/"]
    assert set(_types(reply).values()) == {"path"}
    reply = comp.complete(f"open('{tmp_path}/alp")
    assert _matches(reply) == [f"{tmp_path}/alpha.csv", f"{tmp_path}/alpine/"]
    reply = comp.complete("!ls alp")
    assert _matches(reply) == ["alpha.csv", "alpine/"]
    reply = comp.complete("%cd al")  # directories only
    assert _matches(reply) == ["alpine/"]


def test_expressions_inside_f_strings(comp):
    reply = comp.complete('f"size {obj.me')
    assert _matches(reply) == ["method"]
    reply = comp.complete("f'{fo")
    assert {"food", "foot"} <= set(_matches(reply)) and reply["cursor_start"] == 3


def test_magic_names(comp, shell):
    for name in ("time", "timeit", "tb"):
        shell.magics.register(MagicSpec(name, lambda line, **kw: None, "line"))
    shell.magics.register(MagicSpec("timeit", lambda line, cell, **kw: None, "cell"))
    reply = comp.complete("%ti")
    assert _matches(reply) == ["%time", "%timeit", "%%timeit"]
    assert set(_types(reply).values()) == {"magic"}
    reply = comp.complete("%%ti")
    assert _matches(reply) == ["%%timeit"]


def test_module_names_in_imports(comp):
    assert {"os", "operator"} <= set(_matches(comp.complete("import o")))
    assert "path" in _matches(comp.complete("import os.pa"))
    reply = comp.complete("from os import pa")
    assert {"path", "pathsep"} <= set(_matches(reply))
    assert "json" in _matches(comp.complete("from js"))
    assert "decoder" in _matches(comp.complete("from json import dec"))


def test_jedi_covers_what_the_namespace_cannot(comp):
    reply = comp.complete("'text'.up", timeout=20)
    assert _matches(reply) == ["upper"]
    reply = comp.complete("items = [1]\nitems.app", timeout=20)
    assert "append" in _matches(reply)


def test_nothing_to_complete_and_bad_cursor(comp):
    reply = comp.complete("zzzqqq_nothing")
    assert reply["matches"] == [] and reply["status"] == "ok"
    reply = comp.complete("foo", cursor_pos=99)  # past the end: clamped
    assert "food" in reply["matches"]


def test_names_the_shell_provides_are_offered_as_in_ipython(shell):
    comp = Completer(shell)
    assert comp.complete("Ou")["matches"] == ["Out"]
    assert "_i" in comp.complete("_i")["matches"]  # private names only when asked for with "_"
    assert "_i" not in comp.complete("")["matches"][:50]


def test_a_slow_dir_does_not_wedge_completion(shell):
    class SlowDir:
        def __dir__(self):
            time.sleep(5)
            return ["late"]
    shell.user_ns["slow"] = SlowDir()
    comp = Completer(shell, timeout=0.3)
    t0 = time.perf_counter()
    reply = comp.complete("slow.")
    assert time.perf_counter() - t0 < 1.5
    assert any("took too long" in s for s in reply["metadata"].get("jup_skipped", []))


def test_100k_names_complete_in_under_100_ms(shell):
    shell.user_ns.update({f"name_{i}": i for i in range(100_000)})
    shell.user_ns["unique_target"] = 1
    comp = Completer(shell)
    comp.warm_up().join(30)  # jedi and the module list load once, in the background, after start
    comp.complete("uniq")
    times = []
    for prefix in ("uniq", "name_9999", "name_1", "pr"):
        best = float("inf")
        for _ in range(3):  # best of 3: the machine is shared, a stray pause is not the completer
            t0 = time.perf_counter()
            reply = comp.complete(prefix)
            best = min(best, time.perf_counter() - t0)
            assert reply["matches"]
        times.append(best)
    print(f"completion with 100k names: median {statistics.median(times) * 1000:.1f} ms, "
          f"max {max(times) * 1000:.1f} ms")
    assert max(times) < 0.1, times


@pytest.mark.timeout(60)
def test_complete_request_through_a_kernel(kernel):
    run(kernel, "import os\nmy_variable = {'key_one': 1}")
    msg_id = kernel.complete("my_var")
    reply = kernel.get_shell_msg(timeout=10)
    assert reply["parent_header"]["msg_id"] == msg_id
    assert reply["content"]["matches"] == ["my_variable"]
    kernel.complete("my_variable['k")
    reply = kernel.get_shell_msg(timeout=10)
    assert reply["content"]["matches"] == ["key_one'"]
    kernel.complete("os.pat")
    reply = kernel.get_shell_msg(timeout=10)
    types = reply["content"]["metadata"]["_jupyter_types_experimental"]
    assert {"text": "path", "type": "module"} in [{"text": t["text"], "type": t["type"]} for t in types]


def test_completion_while_another_thread_adds_names(shell):
    """The kernel answers complete_request from a second thread while a cell runs and binds names."""
    import threading
    comp = Completer(shell)
    stop = threading.Event()

    def cell():
        for i in range(50_000):
            if stop.is_set():
                break
            shell.user_ns[f"busy_{i}"] = i

    t = threading.Thread(target=cell)
    t.start()
    try:
        for _ in range(20):
            reply = comp.complete("bus")
            assert "jup_skipped" not in reply["metadata"], reply["metadata"]
    finally:
        stop.set()
        t.join(10)


def _loaders():
    import importlib._bootstrap_external as external
    return external._get_supported_file_loaders()


def test_jedi_never_swaps_sys_path_under_the_users_code(comp):
    """jedi looks modules up with `sys.path` rebound to a copy; on the completer's thread that
    lost whatever the user's running cell added to sys.path meanwhile (seen as a flaky %run -m)."""
    live = sys.path
    stdlib = sysconfig.get_paths()["stdlib"]  # where jedi will search for `colorsys`
    seen: list[bool] = []

    class Observer:  # the finder for the stdlib entry notes whether sys.path is the user's list
        def __init__(self, inner):
            self.inner = inner

        def find_spec(self, name, target=None):
            if name == "colorsys":
                seen.append(sys.path is live)
            return self.inner.find_spec(name, target)

        def invalidate_caches(self):
            self.inner.invalidate_caches()

        def iter_modules(self, prefix=""):
            return pkgutil.iter_importer_modules(self.inner, prefix)

    def observe(entry: str):
        if entry != stdlib:
            raise ImportError
        return Observer(importlib.machinery.FileFinder(entry, *_loaders()))

    sys.path_hooks.insert(0, observe)
    saved_finder = sys.path_importer_cache.pop(stdlib, None)
    try:
        reply = comp.complete("import colorsys\ncolorsys.rgb_to_h", timeout=20)
    finally:
        sys.path_hooks.remove(observe)
        sys.path_importer_cache.pop(stdlib, None)
        if saved_finder is not None:
            sys.path_importer_cache[stdlib] = saved_finder
    assert "rgb_to_hsv" in _matches(reply)
    assert seen and all(seen), seen
    assert sys.path is live
