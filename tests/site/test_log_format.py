"""Logs: one line per request, idle silent at INFO, commands without the "notifications are off"
preamble, and DISPATCHER_LOG_FORMAT=json giving one redacted JSON object per line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2lnbmF0dXJl"


def manage(tmp_path: Path, *argv: str, **extra: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DISPATCHER_")}
    environment.pop("DJANGO_SETTINGS_MODULE", None)
    environment.update(extra, DISPATCHER_DATA_DIR=str(tmp_path))
    return subprocess.run(
        [sys.executable, "manage.py", *argv], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60
    )


LOG_SCRIPT = (
    "import logging; logging.getLogger('dispatcher.requests').info('request path=/run_analysis?token=%s', '"
    + JWT
    + "');"
    "print(logging.getLogger('django-q').isEnabledFor(logging.INFO))"
)


def test_commands_open_without_the_notifications_preamble(tmp_path):
    checked = manage(tmp_path, "check")
    assert checked.returncode == 0
    assert "notifications are off" not in checked.stderr
    assert checked.stderr.strip() == ""


def test_json_format_is_one_redacted_object_per_line(tmp_path):
    shown = manage(tmp_path, "shell", "--no-imports", "-c", LOG_SCRIPT, DISPATCHER_LOG_FORMAT="json")
    lines = [line for line in shown.stderr.splitlines() if line.strip()]
    assert lines, shown.stderr
    records = [json.loads(line) for line in lines]
    request = next(r for r in records if r["logger"] == "dispatcher.requests")
    assert request["level"] == "INFO" and "time" in request
    assert JWT not in shown.stderr and "[redacted]" in request["message"]


def test_plain_format_by_default(tmp_path):
    shown = manage(tmp_path, "shell", "--no-imports", "-c", LOG_SCRIPT)
    assert " INFO dispatcher.requests request path=/run_analysis?token=[redacted]" in shown.stderr


def test_django_q_is_quiet_at_info_and_speaks_at_debug(tmp_path):
    assert manage(tmp_path, "shell", "--no-imports", "-c", LOG_SCRIPT).stdout.split()[-1] == "False"
    debug = manage(tmp_path, "shell", "--no-imports", "-c", LOG_SCRIPT, DISPATCHER_LOG_LEVEL="DEBUG")
    assert debug.stdout.split()[-1] == "True"


def test_one_line_per_request_gunicorn_access_log_only_when_asked(tmp_path):
    script = "from dispatcher_site.management.commands.serve import web_command; print(web_command())"
    default = manage(tmp_path, "shell", "--no-imports", "-c", script).stdout
    assert "--access-logfile" not in default
    assert "dispatcher_site.redaction.ServiceGunicornLogger" in default
    asked = manage(tmp_path, "shell", "--no-imports", "-c", script, DISPATCHER_ACCESS_LOG="true").stdout
    assert "--access-logfile" in asked
