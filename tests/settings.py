"""Settings for the test suite: the real settings, with test data kept apart."""

import os
from pathlib import Path

os.environ.setdefault("DISPATCHER_DATA_DIR", str(Path(__file__).resolve().parent.parent / "var" / "test"))

from dispatcher_site.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
