"""Settings for the test suite: the real settings, with test data kept apart."""

import os
import uuid
from pathlib import Path

os.environ.setdefault("DISPATCHER_DATA_DIR", str(Path(__file__).resolve().parent.parent / "var" / "test"))
# A queue of this session's own: tasks left in a shared broker by another run are never run.
os.environ.setdefault("DISPATCHER_QUEUE_NAME", f"test-{uuid.uuid4().hex[:8]}")

from dispatcher_site.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
