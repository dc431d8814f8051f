"""What `make run` prints first (dispatcher_site.demo), and the .env file every command reads.

The demo token is short-lived with the general role only, and printed only for a SQLite data
directory created for this run (or with DISPATCHER_DEMO_TOKEN=true), never in a deployment.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import jwt
import pytest

from dispatcher_site.demo import NEW_DATA_DIR_MARK, demo_token_allowed, demo_welcome

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def fresh_data_dir(settings, tmp_path):
    """A data directory this run created, of a SQLite deployment (whatever database the suite runs on)."""
    settings.DATA_DIR = tmp_path
    settings.DATABASES = {"default": {**settings.DATABASES["default"], "ENGINE": "dispatcher_site.sqlite"}}
    (tmp_path / NEW_DATA_DIR_MARK).touch()
    return tmp_path


def _token(text: str) -> dict | None:
    for line in text.splitlines():
        if line.strip().startswith("export ODA_TOKEN=ey"):
            return jwt.decode(line.split("=", 1)[1], options={"verify_signature": False})
    return None


def test_a_fresh_sqlite_data_dir_gets_a_short_general_token_once(settings, fresh_data_dir):
    claims = _token(demo_welcome())
    assert claims is not None
    assert claims["roles"] == ["general"]
    assert claims["exp"] - __import__("time").time() <= 2 * 3600 + 5
    # Printed once: the next start of the same data directory prints the way to get one instead.
    again = demo_welcome()
    assert _token(again) is None
    assert "manage.py issue_token --email you@example.org --roles general" in again


def test_never_in_a_deployment_unless_asked(settings, fresh_data_dir):
    settings.DATABASES = {"default": {**settings.DATABASES["default"], "ENGINE": "django.db.backends.postgresql"}}
    assert not demo_token_allowed()
    settings.DEMO_TOKEN = "TRUE"
    assert demo_token_allowed()
    settings.DEMO_TOKEN = "FALSE"
    (fresh_data_dir / NEW_DATA_DIR_MARK).touch()
    settings.DATABASES = {"default": {**settings.DATABASES["default"], "ENGINE": "dispatcher_site.sqlite"}}
    assert not demo_token_allowed()


def test_the_next_steps_are_commands_that_work_from_the_project_folder(settings, fresh_data_dir):
    text = demo_welcome()
    assert f"curl -s 'http://{settings.BIND}/run_analysis?" in text
    assert "manage.py createsuperuser" in text
    assert "oda_api" not in text  # not installed in the service's virtualenv


def _check(tmp_path: Path, env_file_line: str | None, **extra: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DISPATCHER_")}
    environment.pop("DJANGO_SETTINGS_MODULE", None)
    environment.update(extra)
    script = "from django.conf import settings; print(settings.DATA_DIR, settings.LOG_LEVEL)"
    return subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", script],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_an_env_file_configures_every_command_and_the_environment_wins(tmp_path):
    env_file = tmp_path / "dispatcher.env"
    env_file.write_text(f"# comment\nDISPATCHER_DATA_DIR={tmp_path / 'data'}\nexport DISPATCHER_LOG_LEVEL=WARNING\n")
    shown = _check(tmp_path, None, DISPATCHER_ENV_FILE=str(env_file))
    assert shown.stdout.split() == [str(tmp_path / "data"), "WARNING"], shown.stderr
    wins = _check(tmp_path, None, DISPATCHER_ENV_FILE=str(env_file), DISPATCHER_LOG_LEVEL="ERROR")
    assert wins.stdout.split() == [str(tmp_path / "data"), "ERROR"], wins.stderr


def test_a_missing_env_file_named_stops_start_up_naming_the_variable(tmp_path):
    refused = _check(tmp_path, None, DISPATCHER_ENV_FILE=str(tmp_path / "nowhere.env"))
    assert refused.returncode != 0
    assert "DISPATCHER_ENV_FILE" in refused.stderr
