"""Keeping tokens out of log lines.

The protocol carries tokens in query strings (``?token=...``), so any log line
that shows a URL would leak them: Django's development server, error reports,
and gunicorn's access log. ``RedactSecretsFilter`` cleans records of Python
logging (wired on the handlers in settings.LOGGING); gunicorn writes its access
log through its own logger class, so ``RedactingGunicornLogger`` does the same
there (``gunicorn --logger-class dispatcher_site.redaction.RedactingGunicornLogger``).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from gunicorn.glogging import Logger as GunicornLogger

REDACTED = "[redacted]"

_PATTERNS = (
    # ?token=..., &token=..., access_token=... in URLs and form bodies
    re.compile(r"(?i)(token=)[^&\s\"'<>]+"),
    # Authorization: Bearer ...
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"),
    # "token": "..." in logged dicts or JSON
    re.compile(r"(?i)(['\"]token['\"]\s*:\s*['\"])[^'\"]+"),
    # Any JWT, wherever it appears: header and payload are base64url JSON, so start with "eyJ".
    re.compile(r"()eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"),
)


def redact(text: str) -> str:
    """The text with every token-looking value replaced by ``[redacted]``."""
    for pattern in _PATTERNS:
        text = pattern.sub(lambda match: match.group(1) + REDACTED, text)
    return text


class RedactSecretsFilter(logging.Filter):
    """Rewrites a record's message and traceback text with tokens redacted; never drops a record."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is the logging module's to report
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        if record.exc_info and not record.exc_text:
            # Formatters cache the traceback text here; filling it first means the
            # formatter prints our redacted copy instead of formatting its own.
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


class RedactingGunicornLogger(GunicornLogger):
    """gunicorn's logger with tokens removed from every access-log field (request line, query, referer...)."""

    def atoms(self, resp: Any, req: Any, environ: dict, request_time: Any) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        return {key: redact(value) if isinstance(value, str) else value for key, value in atoms.items()}


class ServiceGunicornLogger(RedactingGunicornLogger):
    """gunicorn's own lines (start-up, workers, errors) through the service's logging: the same
    format as every other line (``DISPATCHER_LOG_FORMAT=json`` included) and the same redaction.

    gunicorn's master process never loads Django's settings by itself, so this reads them here.
    """

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        import logging.config

        import django.conf

        logging.config.dictConfig(django.conf.settings.LOGGING)
        for logger in (self.error_log, self.access_log):
            logger.handlers.clear()
            logger.propagate = True
