"""Fill a registry for bench/run.py, through the models, and print what the bench needs (JSON).

    DJANGO_SETTINGS_MODULE=bench.settings python -m bench.seed --others 1000000

Everyone else's jobs (``--others``, owners spread over 1000 users, created over the
last 60 days, each done with its two status events), then the bench's own users:
``one@bench`` with one job, ``many@bench`` with 500 jobs of the last days, and a
staff account with a session for the admin. Printed: their tokens, the session
cookie, and an 8-character id prefix of an existing job. Run again on a filled
registry, it adds only the groups missing (each known by its first job's id), and prints.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
from datetime import timedelta

import django

BATCH = 5000
OTHER_USERS = 1000
MANY = 500


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--others", type=int, default=0, help="jobs of everyone else")
    options = parser.parse_args()
    django.setup()
    from jobs.models import Job

    for count, owner, days, tag in (
        (options.others, None, 60, "other"),
        (MANY, "many@bench", 3, "many"),
        (1, "one@bench", 1, "one"),
    ):
        if count and not Job.objects.filter(job_id=_job_id(tag, 0)).exists():
            _jobs_seed(count, owner=owner, days=days, tag=tag)
    _statistics()
    print(json.dumps(_credentials()))


def _statistics() -> None:
    """PostgreSQL plans by its statistics, which a bulk load leaves stale until autovacuum
    comes by (a served registry has them): without, it read all 2,000,000 events by a
    sequential scan for /inspect-user-state's 20 jobs."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def _job_id(tag: str, number: int) -> str:
    return hashlib.sha256(f"{tag}/{number}".encode()).hexdigest()


def _jobs_seed(count: int, *, owner: str | None, days: float, tag: str) -> None:
    """``count`` done jobs with their events, in transactions of BATCH jobs (bounded memory)."""
    from django.db import transaction
    from django.utils import timezone

    from jobs.models import Job, JobEvent

    created_field = Job._meta.get_field("created_at")
    event_created = JobEvent._meta.get_field("created_at")
    now = timezone.now()
    rng = random.Random(f"{tag}-{count}")
    # Seeded rows carry their own times: auto_now_add would stamp them all "now".
    created_field.auto_now_add = event_created.auto_now_add = False
    try:
        for start in range(0, count, BATCH):
            jobs = []
            for number in range(start, min(count, start + BATCH)):
                created = now - timedelta(seconds=rng.uniform(0, days * 86400))
                params = {"src_name": f"{tag}-{number}", "seed": tag}
                jobs.append(
                    Job(
                        job_id=_job_id(tag, number),
                        owner=owner if owner is not None else f"user{number % OTHER_USERS}@bench",
                        instrument="empty",
                        product_type="dummy",
                        params=params,
                        status="done",
                        query_type="Dummy",
                        session_id="SEED",
                        created_at=created,
                        started_at=created,
                        finished_at=created + timedelta(seconds=2),
                        last_report_at=created + timedelta(seconds=2),
                        answer_version=2,
                    )
                )
            with transaction.atomic():
                Job.objects.bulk_create(jobs)
                events = []
                for job in jobs:
                    events.append(JobEvent(job=job, kind="status", status="submitted", created_at=job.created_at))
                    events.append(JobEvent(job=job, kind="status", status="done", created_at=job.finished_at))
                JobEvent.objects.bulk_create(events)
            print(f"seeded {min(count, start + BATCH)}/{count} {tag}", file=sys.stderr, flush=True)
    finally:
        created_field.auto_now_add = event_created.auto_now_add = True


def _credentials() -> dict:
    from django.contrib.auth import get_user_model
    from django.contrib.sessions.backends.db import SessionStore

    from dispatcher_site.tokens import token_issue
    from jobs.models import Job

    staff, _ = get_user_model().objects.get_or_create(
        username="bench-staff", defaults={"is_staff": True, "is_superuser": True}
    )
    session = SessionStore()
    session["_auth_user_id"] = str(staff.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = staff.get_session_auth_hash()
    session.create()
    prefix = Job.objects.filter(owner="one@bench").values_list("job_id", flat=True).first()[:8]
    return {
        "token_one": token_issue(email="one@bench", roles=["general"], hours=48),
        "token_many": token_issue(email="many@bench", roles=["general"], hours=48),
        "session_cookie": f"sessionid={session.session_key}",
        "prefix": prefix,
    }


if __name__ == "__main__":
    main()
