"""No token in any log line: our code never logs one, and the handlers redact URLs that carry one."""

import io
import logging
from types import SimpleNamespace

import pytest
from django.conf import settings

from dispatcher_site.redaction import RedactingGunicornLogger, RedactSecretsFilter, redact
from tests.site.tokenkit import sign

pytestmark = pytest.mark.django_db


def test_no_request_logs_the_token(client, caplog):
    caplog.set_level(logging.DEBUG)
    good = sign(roles=["refresh-tokens"])
    expired = sign(exp=1)
    other_secret = sign(secret="another-secret-of-the-right-length-0123456789")
    client.get("/refresh_token", {"token": good, "refresh_interval": "60"})
    client.get("/update_token_email_options", {"token": good, "msdone": "false"})
    client.get("/refresh_token", {"token": expired})
    client.get("/update_token_email_options", {"token": other_secret})
    client.get("/refresh_token", {"token": sign(roles=[])})
    client.get("/refresh_token", {"token": good, "refresh_interval": "soon"})
    assert caplog.records, "the requests above log something (4xx warnings at least)"
    for token in (good, expired, other_secret):
        assert token not in caplog.text
        for part in token.split("."):
            assert part not in caplog.text


def test_the_filter_redacts_tokens_in_urls_headers_and_dicts():
    token = sign()
    lines = [
        f'"GET /run_analysis?instrument=empty&token={token}&job_id=1 HTTP/1.1" 200',
        f"Authorization: Bearer {token}",
        f"params {{'token': '{token}', 'instrument': 'empty'}}",
        f"a bare {token} somewhere",
    ]
    for line in lines:
        cleaned = redact(line)
        assert token not in cleaned
        assert "[redacted]" in cleaned
    assert redact("GET /run_analysis?instrument=empty&job_id=1") == "GET /run_analysis?instrument=empty&job_id=1"


def test_the_console_handler_redacts_messages_args_and_tracebacks():
    token = sign()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactSecretsFilter())
    log = logging.getLogger("tests.redaction")
    log.addHandler(handler)
    log.propagate = False
    try:
        log.warning('"GET /refresh_token?token=%s HTTP/1.1" 403', token)
        try:
            raise ValueError(f"bad token {token}")
        except ValueError:
            log.exception("failed")
    finally:
        log.removeHandler(handler)
        log.propagate = True
    output = stream.getvalue()
    assert token not in output
    assert "token=[redacted]" in output
    assert "ValueError: bad token [redacted]" in output


def test_settings_put_the_filter_on_every_handler():
    config = settings.LOGGING
    assert config["filters"]["redact_secrets"]["()"] == "dispatcher_site.redaction.RedactSecretsFilter"
    for handler in config["handlers"].values():
        assert "redact_secrets" in handler["filters"]


def test_the_gunicorn_access_log_fields_are_redacted():
    token = sign()
    logger = RedactingGunicornLogger.__new__(RedactingGunicornLogger)
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/run_analysis?token={token}",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "PATH_INFO": "/run_analysis",
        "QUERY_STRING": f"token={token}",
        "HTTP_REFERER": f"http://frontend/?token={token}",
    }
    response = SimpleNamespace(status="200 OK", sent=10, headers=[])
    request = SimpleNamespace(headers=[("AUTHORIZATION", f"Bearer {token}")])
    atoms = logger.atoms(response, request, environ, SimpleNamespace(seconds=0, microseconds=5))
    assert token not in repr(atoms)
    assert atoms["r"] == "GET /run_analysis?token=[redacted] HTTP/1.1"
