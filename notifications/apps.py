import logging
import sys

from django.apps import AppConfig

logger = logging.getLogger(__name__)


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from jobs.signals import job_event_recorded
        from notifications.handlers import on_job_event

        job_event_recorded.connect(on_job_event, dispatch_uid="notifications.on_job_event")
        _log_disabled_channels()


def _log_disabled_channels() -> None:
    """Said once, by the workers that send notifications; every other command and process keeps quiet
    about it (below INFO)."""
    from django.conf import settings

    from notifications.matrix import matrix_missing

    level = logging.INFO if sys.argv[1:2] == ["qcluster"] else logging.DEBUG
    if not settings.EMAIL_HOST:
        logger.log(level, "email notifications are off: DISPATCHER_SMTP_HOST is not set")
    missing = matrix_missing()
    if missing:
        logger.log(level, "Matrix notifications are off: %s not set", ", ".join(missing))
