"""Endpoints mounted only for the benchmark (DISPATCHER_BENCH_ENDPOINTS): a no-op view inside
our own stack (what our middleware and logging cost: scenario ``stack-noop``), the queue's
state and the jobs made since a point. The yardsticks are bare: bench/bare.py."""

from django.http import JsonResponse


def noop(request):
    return JsonResponse({"ok": True})


def queue(request):
    """How many tasks wait in the broker (lets the benchmark wait for a quiet system), the
    last job's id, and how many jobs came after ``since`` (every submission must make one)."""
    from django.db.models import Max
    from django_q.brokers import get_broker

    from jobs.models import Job

    since = int(request.GET.get("since") or 0)
    return JsonResponse(
        {
            "queued": get_broker().queue_size() or 0,
            "last_id": Job.objects.aggregate(last=Max("id"))["last"] or 0,
            "new_jobs": Job.objects.filter(id__gt=since).count(),
        }
    )
