"""A real distribution, installed with pip, adds instruments through its entry points."""

import importlib
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from instruments.base import RunRequest
from instruments.registry import instrument_get, instruments_enabled, kind_problem, registry_reset

pytestmark = pytest.mark.django_db

PLUGIN_DIR = Path(__file__).resolve().parent / "plugin_pkg"


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory) -> Path:
    """The demo plugin installed (as pip installs any package) into a directory of its own."""
    target = tmp_path_factory.mktemp("site-packages")
    argv = [sys.executable, "-m", "pip", "install", "--quiet", "--no-index", "--no-build-isolation", "--no-deps"]
    # No bytecode: the build must leave the source tree as it found it.
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    subprocess.run([*argv, "--target", str(target), str(PLUGIN_DIR)], check=True, capture_output=True, env=env)
    return target


@pytest.fixture
def plugin_installed(plugin_site, monkeypatch):
    monkeypatch.syspath_prepend(str(plugin_site))
    importlib.invalidate_caches()
    registry_reset()
    yield
    for module in [name for name in sys.modules if name.startswith("dispatcher_demo_plugin")]:
        del sys.modules[module]


def test_without_the_plugin_its_instrument_does_not_exist():
    assert "demo-plugin" not in {handle.name for handle in instruments_enabled()}
    assert kind_problem("demo-plugin") == "unknown"


def test_an_installed_plugin_appears_and_works(plugin_installed):
    names = {handle.name for handle in instruments_enabled()}
    assert {"demo-plugin", "empty", "demo-lightcurve"} <= names
    handle = instrument_get("demo-plugin")
    assert handle.kind == "demo-plugin"
    assert type(handle.adapter).__module__ == "dispatcher_demo_plugin"
    validated = handle.validate("greeting", {"who": "Ada", "times": "2"})
    assert validated.params == {"who": "Ada", "times": 2}  # no common parameters: it declares none
    outcome = handle.adapter.run(
        RunRequest(job_id="j", instrument="demo-plugin", product_type="greeting", params=validated.params)
    )
    assert outcome.products.text_product_list[0]["value"] == "Hello, Ada! Hello, Ada!"


def test_a_broken_plugin_is_logged_and_skipped_alone(plugin_installed, caplog):
    with caplog.at_level(logging.ERROR, logger="instruments.registry"):
        names = {handle.name for handle in instruments_enabled()}
    assert "broken-plugin" not in names
    assert {"demo-plugin", "empty", "empty-async"} <= names
    failures = [r for r in caplog.records if r.name == "instruments.registry" and "broken-plugin" in r.getMessage()]
    assert len(failures) == 1
    assert "No module named 'dispatcher_missing_dependency'" in failures[0].getMessage()
    assert "dispatcher-demo-plugin" in failures[0].getMessage()
    assert kind_problem("broken-plugin").startswith("ModuleNotFoundError")
