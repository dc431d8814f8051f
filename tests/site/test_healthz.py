import pytest

pytestmark = pytest.mark.django_db


def test_it_reports_database_and_broker(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["state"] == "ok"
    assert body["broker"]["state"] == "ok"


def test_it_says_503_when_the_database_fails(client, monkeypatch):
    from dispatcher_site import health

    def broken():
        raise OSError("disk on fire")

    broken.__name__ = "_check_database"
    monkeypatch.setattr(health, "_check_database", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"]["state"] == "error: OSError"
