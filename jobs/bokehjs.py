"""BokehJS, served by the dispatcher itself from the installed bokeh package: the job page works offline.

A static files finder (``STATICFILES_FINDERS``) offering the package's own bundle
under ``bokeh/<version>/``, so WhiteNoise serves it like the admin's files; the
version in the path is the one the Python side embeds documents for (BokehJS
refuses documents of another version), and changes the URL when bokeh is upgraded.
Only the bundles a page loads are offered, not the package's sources.
"""

from __future__ import annotations

from collections.abc import Iterator
from importlib.metadata import version
from importlib.util import find_spec
from pathlib import Path

from django.contrib.staticfiles.finders import BaseFinder
from django.core.files.storage import FileSystemStorage

BUNDLES = ("bokeh.min.js",)


def bokehjs_dir() -> Path:
    # Found without importing bokeh (a second of start-up): its JS sits in the package.
    return Path(find_spec("bokeh").origin).parent / "server" / "static" / "js"


def bokehjs_prefix() -> str:
    return f"bokeh/{version('bokeh')}"


def bokehjs_path(bundle: str = "bokeh.min.js") -> str:
    """The bundle's path under STATIC_URL, for ``{% static %}``."""
    return f"{bokehjs_prefix()}/{bundle}"


class BokehJSFinder(BaseFinder):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.storage = FileSystemStorage(location=bokehjs_dir())
        self.storage.prefix = bokehjs_prefix()

    def check(self, **kwargs) -> list:
        return []

    def find(self, path: str, find_all: bool = False, **kwargs) -> str | list[str]:
        prefix = f"{self.storage.prefix}/"
        bundle = path[len(prefix) :] if path.startswith(prefix) else None
        found = str(bokehjs_dir() / bundle) if bundle in BUNDLES else None
        if find_all:
            return [found] if found else []
        return found or []

    def list(self, ignore_patterns) -> Iterator[tuple[str, FileSystemStorage]]:
        for bundle in BUNDLES:
            yield bundle, self.storage
