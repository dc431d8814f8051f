"""What ``serve`` (``make run``) prints first: where the service is, a demo token when it may
print one, and next steps that work when pasted into a new shell in the project folder."""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

from django.conf import settings
from dotenv import dotenv_values

from dispatcher_site.tokens import token_issue

DEMO_ROLES = ["general"]
DEMO_HOURS = 2
# Written by settings when they create the data directory (SQLite, nothing set up yet); the
# first `serve` prints the demo token and removes it, so the token shows once, on a fresh machine.
NEW_DATA_DIR_MARK = ".new-data-dir"


def demo_welcome() -> str:
    base = f"http://{settings.BIND}"
    manage = manage_prefix()
    lines = [f"Dispatcher on {base}/ (health: {base}/healthz)"]
    if demo_token_allowed():
        token = token_issue(email="demo@localhost", roles=DEMO_ROLES, hours=DEMO_HOURS)
        lines += [f"Demo token (role general, {DEMO_HOURS} hours):", f"  export ODA_TOKEN={token}"]
    else:
        lines += ["A token of your own (roles as you need them):",
                  f"  export ODA_TOKEN=$({manage} issue_token --email you@example.org --roles general)"]  # fmt: skip
    query = "instrument=empty&product_type=echo&query_type=Real&src_name=Crab&token="
    lines += [
        f"Next steps, in a shell in {settings.PROJECT_DIR}:",
        f"""  curl -s '{base}/run_analysis?{query}'"$ODA_TOKEN\"""",
        f"  {manage} createsuperuser      # then log in at {base}/admin/",
    ]
    shell_only = _set_in_this_shell_only()
    if shell_only:
        lines.append(
            f"Set in this shell only, unseen by commands in another one: {', '.join(shell_only)}; "
            f"put them in {settings.PROJECT_DIR / '.env'} (or DISPATCHER_ENV_FILE) so that every command reads them."
        )
    return "\n".join(lines) + "\n"


def demo_token_allowed() -> bool:
    """DISPATCHER_DEMO_TOKEN=true, or (auto) a SQLite data directory created for this run; never otherwise."""
    mode = settings.DEMO_TOKEN  # AUTO, TRUE or FALSE: not a secret
    if mode != "AUTO":
        return mode == "TRUE"
    mark = Path(settings.DATA_DIR) / NEW_DATA_DIR_MARK
    if not mark.exists() or settings.DATABASES["default"]["ENGINE"] != "dispatcher_site.sqlite":
        return False
    mark.unlink(missing_ok=True)
    return True


def manage_prefix() -> str:
    """How to run a management command from a shell in the project folder."""
    manage = Path(settings.BASE_DIR) / "manage.py"
    venv_python = Path(settings.PROJECT_DIR) / ".venv" / "bin" / "python"
    if manage.is_file() and Path(sys.prefix).resolve() == venv_python.parent.parent.resolve():
        return ".venv/bin/python manage.py"
    if manage.is_file():
        return f"{shlex.quote(sys.executable)} {shlex.quote(str(manage))}"
    return shlex.quote(str(Path(sys.prefix) / "bin" / "dispatcher"))


def _set_in_this_shell_only() -> list[str]:
    from_file = dotenv_values(settings.ENV_FILE) if settings.ENV_FILE else {}
    return sorted(
        name
        for name in os.environ
        if name.startswith("DISPATCHER_") and name != "DISPATCHER_ENV_FILE" and name not in from_file
    )
