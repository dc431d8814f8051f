"""The ``dispatcher`` command of the installed package: ``manage.py`` without a checkout.

``dispatcher migrate``, ``dispatcher serve``, ``dispatcher qcluster`` ... are the same
management commands as ``python manage.py ...`` (``python -m dispatcher_site ...`` too).
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dispatcher_site.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line([os.path.basename(sys.argv[0]) or "dispatcher", *sys.argv[1:]])
