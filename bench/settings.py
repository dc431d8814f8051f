"""Settings for bench/run.py: the service's own settings, with one variant of its database path.

``DISPATCHER_BENCH_VARIANT`` (read here only, set by bench/run.py per service):

- ``shipped`` (default): as deployed; writers queue in ``dispatcher_site.sqlite``,
  hot statements are ``jobs.sql``'s prepared SQL;
- ``plain``: Django's own SQLite backend (``transaction_mode="IMMEDIATE"``, same
  ``timeout``) and the plain ORM (bench/plain_orm.py) in place of ``jobs.sql``;
- ``plain-queued``: the plain ORM with the queueing backend;
- ``fastpath-stock``: ``jobs.sql`` with Django's own SQLite backend;
- ``pg-pool`` / ``pg-health-check`` (PostgreSQL): connections from psycopg's pool
  (``OPTIONS["pool"]``, Django 5.1+) / persistent connections checked with a query at
  the start of each request (``CONN_HEALTH_CHECKS``), whichever the shipped one is not;
- ``quiet``: neither gunicorn's access log nor our request log line (what logging costs).

On PostgreSQL the backend is Django's in every variant; only the statements differ.
"""

import importlib
import sys

from dispatcher_site.env import env_choice
from dispatcher_site.settings import *  # noqa: F403
from dispatcher_site.settings import DATABASES

_VARIANTS = ("SHIPPED", "PLAIN", "PLAIN-QUEUED", "FASTPATH-STOCK", "PG-POOL", "PG-HEALTH-CHECK", "QUIET")
VARIANT = env_choice("DISPATCHER_BENCH_VARIANT", "SHIPPED", choices=_VARIANTS).lower()

if VARIANT in ("plain", "fastpath-stock") and DATABASES["default"]["ENGINE"] == "dispatcher_site.sqlite":
    DATABASES["default"]["ENGINE"] = "django.db.backends.sqlite3"
if VARIANT in ("plain", "plain-queued"):
    # Before any app is loaded: every ``from jobs.sql import ...`` gets the ORM's versions.
    sys.modules["jobs.sql"] = importlib.import_module("bench.plain_orm")

_postgres = DATABASES["default"]["ENGINE"].endswith("postgresql")
if VARIANT == "pg-pool" and _postgres:
    DATABASES["default"].update(CONN_MAX_AGE=0, CONN_HEALTH_CHECKS=False)
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {"min_size": 2, "max_size": 16, "timeout": 2}
if VARIANT == "pg-health-check" and _postgres:
    DATABASES["default"].update(CONN_MAX_AGE=600, CONN_HEALTH_CHECKS=True)
    DATABASES["default"].get("OPTIONS", {}).pop("pool", None)
if VARIANT == "quiet":
    ACCESS_LOG = False
    LOGGING["loggers"]["dispatcher.requests"] = {"level": "WARNING"}  # noqa: F405
