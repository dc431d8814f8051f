import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from dispatcher_site import env

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DISPATCHER_SMTP_PORT", "twenty-five"),
        ("DISPATCHER_BIND", "localhost"),
        ("DISPATCHER_DATABASE_URL", "mysql://db/x"),
        ("DISPATCHER_REDIS_URL", "127.0.0.1:6379"),
        ("DISPATCHER_DEBUG", "maybe"),
        ("DISPATCHER_TASK_TIMEOUT_S", "1"),
        ("DISPATCHER_NB2W_BACKENDS", "lonely-name"),
        ("DISPATCHER_TOKEN_SECRET", "short"),
        ("DISPATCHER_LOG_LEVEL", "LOUD"),
        ("DISPATCHER_UWS_MAX_WAIT_S", "forever"),
    ],
)
def test_it_refuses_to_start_with_a_malformed_variable(tmp_path, name, value):
    environment = {**os.environ, "DISPATCHER_DATA_DIR": str(tmp_path), name: value}
    environment.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert name in result.stderr
    assert "ImproperlyConfigured" in result.stderr


def test_it_reads_good_values(monkeypatch):
    monkeypatch.setenv("X_INT", " 42 ")
    monkeypatch.setenv("X_BOOL", "Yes")
    monkeypatch.setenv("X_LIST", "a, b,,c ")
    monkeypatch.setenv("X_MAP", "one=http://a:1, two=http://b:2")
    assert env.env_int("X_INT", 1) == 42
    assert env.env_bool("X_BOOL", False) is True
    assert env.env_list("X_LIST") == ["a", "b", "c"]
    assert env.env_mapping("X_MAP") == {"one": "http://a:1", "two": "http://b:2"}
    assert env.env_int("X_UNSET", 7) == 7


def test_it_keeps_passwords_out_of_url_errors(monkeypatch):
    monkeypatch.setenv("X_URL", "mysql://user:hunter2secret@db/x")
    with pytest.raises(ImproperlyConfigured) as caught:
        env.env_url("X_URL", schemes=("postgres",))
    assert "X_URL" in str(caught.value)
    assert "hunter2secret" not in str(caught.value)


def test_it_generates_a_private_secret_once(tmp_path, monkeypatch):
    monkeypatch.delenv("X_SECRET", raising=False)
    store = tmp_path / "sub" / "secret"
    first = env.env_secret("X_SECRET", store=store)
    assert len(first) >= 32
    assert env.env_secret("X_SECRET", store=store) == first
    assert stat.S_IMODE(store.stat().st_mode) == 0o600


def test_generated_secrets_are_not_tracked_by_git():
    ignored = (ROOT / ".gitignore").read_text().split()
    assert "var/" in ignored
