"""The logging configuration: one line per record, plain text or JSON (``DISPATCHER_LOG_FORMAT``).

Every handler redacts tokens (dispatcher_site.redaction). django-q2 logs through
the same handler (otherwise it adds one of its own, unredacted and in its own
format) at WARNING: at INFO it writes four lines a minute while idle (each
schedule's run, taken, processed), which drown what matters.
"""

from __future__ import annotations

from typing import Any

PLAIN = "%(asctime)s %(levelname)s %(name)s %(message)s"


def logging_config(*, level: str, json: bool) -> dict[str, Any]:
    formatter: dict[str, Any] = {"format": PLAIN}
    if json:
        formatter = {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": PLAIN,
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"line": formatter},
        # Tokens travel in query strings: every record is redacted before it is written.
        "filters": {"redact_secrets": {"()": "dispatcher_site.redaction.RedactSecretsFilter"}},
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": "line", "filters": ["redact_secrets"]},
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "WARNING"},
            # DEBUG shows django-q2's own INFO lines again (each task taken and processed).
            "django-q": {
                "handlers": ["console"],
                "level": "DEBUG" if level == "DEBUG" else max(level, "WARNING", key=_rank),
                "propagate": False,
            },
        },
    }


def _rank(level: str) -> int:
    return ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL").index(level)
