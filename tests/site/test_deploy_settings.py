"""`manage.py check --deploy` is clean with the production environment the README describes."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def readme_production_environment() -> dict[str, str]:
    """The `export` lines of the README's "Running it distributed" section, as an operator pastes them."""
    section = (ROOT / "README.md").read_text().split("## Running it distributed", 1)[1].split("\n## ", 1)[0]
    environment: dict[str, str] = {}
    for line in section.splitlines():
        line = line.strip()
        if not line.startswith("export "):
            continue
        for word in shlex.split(line[len("export ") :], comments=True):
            name, _, value = word.partition("=")
            environment[name] = value
    return environment


def check_deploy(tmp_path: Path, environment: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DISPATCHER_")}
    clean.pop("DJANGO_SETTINGS_MODULE", None)
    clean.update(environment, DISPATCHER_DATA_DIR=str(tmp_path))
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_readme_production_environment_passes_check_deploy(tmp_path):
    environment = readme_production_environment()
    assert environment["DISPATCHER_HTTPS"] == "true"
    # The README leaves the secrets to the operator ("..."): real-looking ones here.
    environment.update(DISPATCHER_SECRET_KEY="k" * 20 + "-Z9x!q@w#e$r%t^y&u*i(o)p_" + "a" * 30)
    environment.update(DISPATCHER_TOKEN_SECRET="t" * 40)
    result = check_deploy(tmp_path, environment)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_without_https_check_deploy_names_what_is_missing(tmp_path):
    environment = readme_production_environment()
    environment.update(
        DISPATCHER_HTTPS="false", DISPATCHER_SECRET_KEY="k" * 50 + "-Z9x!q@w#e$r%", DISPATCHER_TOKEN_SECRET="t" * 40
    )
    result = check_deploy(tmp_path, environment)
    assert result.returncode != 0
    for check in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert check in result.stderr


def test_https_settings_follow_the_variables(tmp_path):
    environment = {
        "DISPATCHER_HTTPS": "true",
        "DISPATCHER_PUBLIC_URL": "https://dispatcher.example.org",
        "DISPATCHER_CSRF_TRUSTED_ORIGINS": "https://frontend.example.org",
        "DISPATCHER_FORWARDED_ALLOW_IPS": "10.0.0.5",
    }
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DISPATCHER_")}
    clean.pop("DJANGO_SETTINGS_MODULE", None)
    clean.update(environment, DISPATCHER_DATA_DIR=str(tmp_path))
    script = (
        "from django.conf import settings as s; from dispatcher_site.management.commands.serve import web_command; "
        "print(s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS > 0, "
        "s.CSRF_TRUSTED_ORIGINS, s.SECURE_PROXY_SSL_HEADER); print(web_command())"
    )
    shown = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", script],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
    )
    first, second = shown.stdout.splitlines()[:2]
    assert first.startswith("True True True True ['https://dispatcher.example.org', 'https://frontend.example.org']")
    assert "HTTP_X_FORWARDED_PROTO" in first
    assert re.search(r"'--forwarded-allow-ips', '10\.0\.0\.5'", second)
