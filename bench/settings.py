"""Settings for bench/run.py: the service's own settings, with one variant of its database path.

``DISPATCHER_BENCH_VARIANT`` (read here only, set by bench/run.py per service):

- ``shipped`` (default): as deployed; writers queue in ``dispatcher_site.sqlite``,
  hot statements are ``jobs.sql``'s prepared SQL;
- ``plain``: Django's own SQLite backend (``transaction_mode="IMMEDIATE"``, same
  ``timeout``) and the plain ORM (bench/plain_orm.py) in place of ``jobs.sql``;
- ``plain-queued``: the plain ORM with the queueing backend;
- ``fastpath-stock``: ``jobs.sql`` with Django's own SQLite backend.

On PostgreSQL the backend is Django's in every variant; only the statements differ.
"""

import importlib
import sys

from dispatcher_site.env import env_choice
from dispatcher_site.settings import *  # noqa: F403
from dispatcher_site.settings import DATABASES

VARIANT = env_choice(
    "DISPATCHER_BENCH_VARIANT", "SHIPPED", choices=("SHIPPED", "PLAIN", "PLAIN-QUEUED", "FASTPATH-STOCK")
).lower()

if VARIANT in ("plain", "fastpath-stock") and DATABASES["default"]["ENGINE"] == "dispatcher_site.sqlite":
    DATABASES["default"]["ENGINE"] = "django.db.backends.sqlite3"
if VARIANT in ("plain", "plain-queued"):
    # Before any app is loaded: every ``from jobs.sql import ...`` gets the ORM's versions.
    sys.modules["jobs.sql"] = importlib.import_module("bench.plain_orm")
