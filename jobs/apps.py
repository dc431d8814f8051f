from django.apps import AppConfig
from django.db.models.signals import post_migrate


class JobsConfig(AppConfig):
    name = "jobs"
    verbose_name = "Jobs"

    def ready(self) -> None:
        from jobs.scheduling import schedules_ensure

        # After every migrate, so a fresh deployment gets its upkeep without a manual step.
        post_migrate.connect(schedules_ensure, sender=self, dispatch_uid="jobs.schedules_ensure")
