import threading

import pytest
from django.db import connection, connections

from jobs.models import Job, JobEvent
from jobs.services import job_get_or_create

THREADS = 8


@pytest.mark.django_db(transaction=True)
def test_concurrent_identical_creations_give_one_row_and_no_error():
    if connection.vendor == "sqlite" and connection.settings_dict["TEST"]["NAME"] is None:
        pytest.fail("threads need a file-backed test database")
    start = threading.Barrier(THREADS)
    results: list[tuple[str, bool]] = []
    errors: list[BaseException] = []

    def create() -> None:
        try:
            start.wait()
            job, created = job_get_or_create(
                owner="alice@example.org", instrument="empty", product_type="dummy", params={"same": True}
            )
            results.append((job.job_id, created))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=create) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert len(results) == THREADS
    assert len({job_id for job_id, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert Job.objects.count() == 1
    assert JobEvent.objects.filter(kind="status").count() == 1
