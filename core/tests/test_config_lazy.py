"""Config costs nothing until there is some: no traitlets for a start without config files, and
Configurables registered by name are imported only when config is validated or shown."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from jup.core import config


def test_register_by_name_imports_the_class_only_when_config_is_read(tmp_path, monkeypatch):
    pkg = tmp_path / "lazyopts_pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "options.py").write_text(textwrap.dedent('''
        from traitlets import Unicode
        from traitlets.config import Configurable

        class LazyOpts(Configurable):
            """Options registered by name."""
            colour = Unicode("blue", help="A colour.").tag(config=True)
    '''))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(config, "_REGISTRY", dict(config._REGISTRY))  # other tests see no LazyOpts
    monkeypatch.setattr(config, "_PENDING", dict(config._PENDING))
    assert config.register_configurable("lazyopts_pkg.options:LazyOpts") == "lazyopts_pkg.options:LazyOpts"
    assert "lazyopts_pkg.options" not in sys.modules
    known = config.known_configurables()
    assert known["LazyOpts"].__module__ == "lazyopts_pkg.options"
    assert "LazyOpts" in config.generate_config()
    with pytest.raises(ValueError, match="module:ClassName"):
        config.register_configurable("no_colon_here")


def test_no_config_file_means_no_traitlets(tmp_path):
    code = ("import sys; from jup.core import config; "
            "print(config.plugin_filters_from_files(), config.config_files_present(), 'traitlets' in sys.modules)")
    env = {"PATH": "/usr/bin:/bin", "JUP_CONFIG_DIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
    assert out.stdout.strip() == "({}, None) False False", out.stderr
    (tmp_path / "jup_config.json").write_text('{"Plugins": {"blocked": ["x"]}}')
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
    assert out.stdout.strip().endswith("None) True True"), out.stderr
    assert "'x'" in out.stdout


def test_plugins_class_is_still_reachable_as_an_attribute():
    assert config.Plugins.__name__ == "Plugins" and config.Plugins.__module__ == "jup.core.config"
    assert "blocked" in config.Plugins.class_traits(config=True)
