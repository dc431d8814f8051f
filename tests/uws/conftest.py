"""Fixtures of the UWS tests: callers, the UWS 1.1 schema, and a small HTTP helper."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
import xmlschema

DATA = Path(__file__).parent / "data"
UWS_NS = "http://www.ivoa.net/xml/UWS/v1.0"
NS = {"uws": UWS_NS, "xlink": "http://www.w3.org/1999/xlink", "xsi": "http://www.w3.org/2001/XMLSchema-instance"}
XLINK_REMOTE = 'schemaLocation="http://www.ivoa.net/xml/Xlink/xlink.xsd"'


@pytest.fixture(scope="session")
def uws_schema() -> xmlschema.XMLSchema:
    """UWS-1.1.xsd as published, its XLink import pointed at the local stand-in."""
    text = (DATA / "UWS-1.1.xsd").read_text()
    assert XLINK_REMOTE in text
    text = text.replace(XLINK_REMOTE, 'schemaLocation="xlink.xsd"')
    return xmlschema.XMLSchema(text, base_url=str(DATA))


@pytest.fixture
def valid_xml(uws_schema):
    """Validate a UWS answer against the schema and return its parsed root."""

    def check(response) -> ET.Element:
        assert response.status_code == 200, response.content
        assert response["Content-Type"].startswith("text/xml")
        uws_schema.validate(response.content.decode())
        return ET.fromstring(response.content)  # noqa: S314 - our own answer, just validated

    return check


class Uws:
    """Django's test client speaking to /uws/jobs with a Bearer token."""

    def __init__(self, client, token: str | None):
        self.client = client
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}

    def get(self, path: str = "", **params):
        return self.client.get(f"/uws/jobs{path}", params, **self.headers)

    def post(self, path: str = "", **data):
        return self.client.post(f"/uws/jobs{path}", data, **self.headers)

    def delete(self, path: str):
        return self.client.delete(f"/uws/jobs{path}", **self.headers)

    def create(self, **data) -> str:
        """POST a new job; returns its id (from the 303's Location)."""
        response = self.post(**{"instrument": "empty", "product_type": "echo", **data})
        assert response.status_code == 303, response.content
        return response["Location"].rstrip("/").rsplit("/", 1)[-1]


@pytest.fixture
def as_alice(client, alice) -> Uws:
    return Uws(client, alice)


@pytest.fixture
def as_charlie(client, charlie) -> Uws:
    return Uws(client, charlie)


# A product that stays queued once RUN (nothing runs tasks in these tests), for tests
# that move the job through its phases themselves. empty's own products are answered
# within the request, so RUN finishes them at once.
SLOW = {"instrument": "empty-semi-async", "product_type": "dummy", "p": "600"}


def phase_of(root: ET.Element) -> str:
    return root.find("uws:phase", NS).text
