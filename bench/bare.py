"""The yardsticks: a bare Django project, no middleware, no app, two views.

bench/run.py serves it with the very gunicorn command ``manage.py serve`` uses
(``dispatcher_site.web:application``, gunicorn's asyncio worker, the same number
of workers and of Django threads per worker), so that a ratio to it is the whole
cost of our stack: middleware, logging, token check, queries, rendering.

- ``/noop``: a JSON answer, nothing else.
- ``/insert``: one INSERT, committed (autocommit), on the same kind of database as
  the service with the durability of our default: SQLite in WAL mode with
  ``synchronous=NORMAL`` through Django's own SQLite backend (writers wait in
  SQLite's busy timeout), or PostgreSQL with its defaults (``synchronous_commit=on``).

``DISPATCHER_BENCH_BARE_DATABASE``: a SQLite file path or a postgres:// URL.
``python -m bench.bare`` (with DJANGO_SETTINGS_MODULE=bench.bare) creates the table.
"""

from __future__ import annotations

import os

import dj_database_url
from django.db import connection
from django.http import JsonResponse
from django.urls import path

from dispatcher_site.env import env_int

SECRET_KEY = "bench-bare-yardstick"  # noqa: S105 (serves no session, signs nothing)
DEBUG = False
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS: list[str] = []
MIDDLEWARE: list[str] = []
ROOT_URLCONF = "bench.bare"
USE_TZ = True
# dispatcher_site.web reads it, as the service's settings give it.
WEB_THREADS = env_int("DISPATCHER_WEB_THREADS", 8, minimum=1)
LOGGING_CONFIG = None

_target = os.environ.get("DISPATCHER_BENCH_BARE_DATABASE", "")
if _target.startswith("postgres"):
    DATABASES = {"default": dj_database_url.parse(_target, conn_max_age=600, conn_health_checks=True)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": _target or ":memory:",
            "CONN_MAX_AGE": 600,
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "timeout": 30,
                "transaction_mode": "IMMEDIATE",
            },
        }
    }


def noop(request):
    return JsonResponse({"ok": True})


def insert(request):
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO bench_row (created, note) VALUES (CURRENT_TIMESTAMP, %s)", ["bench"])
    return JsonResponse({"ok": True})


urlpatterns = [path("noop", noop), path("insert", insert)]


def table_create() -> None:
    key = "BIGSERIAL" if connection.vendor == "postgresql" else "INTEGER"
    auto = "" if connection.vendor == "postgresql" else " AUTOINCREMENT"
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS bench_row (id {key} PRIMARY KEY{auto}, created TIMESTAMP, note TEXT)"
        )


if __name__ == "__main__":
    import django

    django.setup()
    table_create()
