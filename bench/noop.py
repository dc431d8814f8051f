"""A do-nothing JSON view, mounted only for the benchmark: the yardstick every
dispatcher endpoint is compared with, served by the same gunicorn in the same run."""

from django.http import JsonResponse


def noop(request):
    return JsonResponse({"ok": True})


def queue(request):
    """How many tasks wait in the broker (lets the benchmark wait for a quiet system),
    and how many jobs exist (lets it check that submissions made new ones)."""
    from django_q.brokers import get_broker

    from jobs.models import Job

    return JsonResponse({"queued": get_broker().queue_size() or 0, "jobs": Job.objects.count()})
