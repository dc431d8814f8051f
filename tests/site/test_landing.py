"""`/` tells a newcomer what this is and where to go; the README lists the built-in instruments."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import dispatcher_site
from instruments.builtin import BUILTIN_INSTRUMENTS
from instruments.registry import instrument_get

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def test_the_landing_page_names_the_service_and_links_onwards(client):
    page = client.get("/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "ODA dispatcher" in html and dispatcher_site.__version__ in html
    for link in ('href="/api/docs/"', 'href="/admin/"', 'href="/healthz"'):
        assert link in html
    anchors = re.findall(r'href="/readme#([a-z0-9-]+)"', html)
    assert "first-steps" in anchors and "configuration" in anchors
    readme = client.get("/readme").content.decode()
    for anchor in anchors:
        assert f'id="{anchor}"' in readme


def test_the_protocol_still_answers_below_the_landing_page(client):
    assert client.get("/api/instr-list").status_code == 200
    assert client.post("/").status_code == 405


def test_a_favicon_is_served(client):
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200
    assert icon["Content-Type"] == "image/svg+xml"
    assert b"<svg" in icon.content


def _readme_instruments() -> dict[str, list[str]]:
    """Rows of the README's table of built-in instruments: name -> products as written."""
    section = (ROOT / "README.md").read_text().split("### Built-in instruments", 1)[1].split("\n#", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0].startswith("`"):
            rows[cells[0].strip("`")] = re.findall(r"`([^`]+)`", cells[2])
    return rows


def test_the_readme_lists_every_built_in_instrument_with_its_products():
    listed = _readme_instruments()
    assert set(listed) == {spec["name"] for spec in BUILTIN_INSTRUMENTS}
    for name, products in listed.items():
        described = instrument_get(name).adapter.describe()
        assert set(products) == set(described), name


def test_the_readme_says_which_products_need_query_type_dummy():
    section = (ROOT / "README.md").read_text().split("### Built-in instruments", 1)[1].split("\n#", 1)[0]
    for spec in BUILTIN_INSTRUMENTS:
        for product, described in instrument_get(spec["name"]).adapter.describe().items():
            if set(described.query_types) == {"Dummy"}:
                assert f"`{product}` (Dummy only)" in section.split(f"`{spec['name']}`", 1)[1].split("\n", 1)[0]
