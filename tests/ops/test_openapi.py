"""The OpenAPI schema validates, describes every endpoint (the protocol's included), and the docs work offline."""

from __future__ import annotations

import io

import pytest
import yaml
from django.core.management import call_command

from jobs.interfaces.rest.openapi import plain_routes

pytestmark = pytest.mark.django_db


def test_the_schema_validates_without_a_warning(tmp_path):
    target = tmp_path / "schema.yaml"
    # --fail-on-warn turns any warning (an undescribed view, a collision) into a failure.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target), stderr=io.StringIO())
    schema = yaml.safe_load(target.read_text())
    assert schema["openapi"].startswith("3.")


def test_every_route_is_described_including_the_protocol(client):
    schema = yaml.safe_load(client.get("/api/schema/").content)
    paths = schema["paths"]
    for route in ["/api/v1/jobs/", "/api/v1/jobs/{job_id}/", "/api/v1/jobs/{job_id}/abort/", "/api/v1/instruments/"]:
        assert route in paths
    assert {"get", "post"} <= set(paths["/api/v1/jobs/"])
    assert set(paths["/run_analysis"]) == {"get", "post"}
    # The protocol once, at /: its mount under /dispatch-data/ is said in the description, not listed twice.
    assert not [route for route in paths if route.startswith("/dispatch-data/")]
    assert "/dispatch-data/" in schema["info"]["description"]
    answer = paths["/run_analysis"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert answer == {"$ref": "#/components/schemas/ProtocolAnswer"}
    missing = [route for route, _ in plain_routes() if route.replace("/dispatch-data/", "/", 1) not in paths]
    assert not missing, f"plain views without an OpenAPI description (add them to openapi.OPERATIONS): {missing}"
    assert schema["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_the_docs_answer_and_their_assets_come_from_us(client):
    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "/api/docs/assets/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()
    asset = client.get("/api/docs/assets/swagger-ui-dist/swagger-ui-bundle.js")
    assert asset.status_code == 200
    assert client.get("/api/docs/assets/../../settings.py").status_code in (400, 404)  # no way out of the folder
