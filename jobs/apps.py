from django.apps import AppConfig
from django.db.models.signals import post_migrate


class JobsConfig(AppConfig):
    name = "jobs"
    verbose_name = "Jobs"

    def ready(self) -> None:
        from instruments.credentials import token_source_set
        from jobs.scheduling import schedules_ensure
        from jobs.uploads import job_owner_token

        # Adapters that act for a job's owner (nb2workflow's _token) get the owner's token from here.
        token_source_set(job_owner_token)

        # After every migrate, so a fresh deployment gets its upkeep without a manual step.
        post_migrate.connect(schedules_ensure, sender=self, dispatch_uid="jobs.schedules_ensure")
