"""The job's page for people: /jobs/<job_id>/, its state as JSON, and its files.

Who may open it: whoever holds a signed link to it (mails and Matrix messages
carry one: jobs.links), else whoever job_get_for_user lets read the job (the
owner's token, a job manager, anyone for a public job). A link that is present
but forged, altered, for another job or expired is refused with 403 even where
the job would otherwise be readable: a broken link should say so.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from dispatcher_site.auth import AuthError, caller_from_request
from dispatcher_site.errors import error_response
from jobs import downloads
from jobs.api_code import api_code_for
from jobs.exceptions import JobError, JobNotFound
from jobs.links import LINK_PARAM, LinkRefused, job_link_check
from jobs.models import Job, JobEvent
from jobs.products import products_load
from jobs.selectors import job_get_for_user

POLL_INTERVAL_MS = 1000


@require_GET
def job_page(request: HttpRequest, job_id: str) -> HttpResponse:
    try:
        job = _job_for(request, job_id)
    except (AuthError, JobError, LinkRefused) as error:
        status = getattr(error, "status_code", 403)
        context = {"message": _message(error), "status": status}
        return _private(render(request, "jobs/job_refused.html", context, status=status))
    context = {
        "job": job,
        "state": job_state_data(job, link=request.GET.get(LINK_PARAM)),
        "state_url": _with_link(reverse("job_state", kwargs={"job_id": job.job_id}), request.GET.get(LINK_PARAM)),
        "api_code": api_code_for(job, url=settings.PUBLIC_URL),
        "poll_interval_ms": POLL_INTERVAL_MS,
    }
    return _private(render(request, "jobs/job_page.html", context))


@require_GET
def job_state(request: HttpRequest, job_id: str) -> HttpResponse:
    try:
        job = _job_for(request, job_id)
    except (AuthError, JobError, LinkRefused) as error:
        return _private(error_response(_message(error), getattr(error, "status_code", 403)))
    return _private(JsonResponse(job_state_data(job, link=request.GET.get(LINK_PARAM))))


@require_GET
def job_download(request: HttpRequest, job_id: str) -> HttpResponse:
    try:
        job = _job_for(request, job_id)
        return downloads.download_response(job, file_list=request.GET.get("file_list", ""))
    except (AuthError, JobError, LinkRefused) as error:
        return _private(error_response(_message(error), getattr(error, "status_code", 403)))


def job_state_data(job: Job, *, link: str | None) -> dict[str, Any]:
    """What the page shows and polls: status, timeline, products."""
    listing = products_load(job)
    files = listing["lists"].get("file_list", [])
    return {
        "job_id": job.job_id,
        "status": job.status,
        "is_terminal": job.is_terminal,
        "message": job.message,
        "duration_s": job.duration_s,
        "events": [_event(event) for event in job.events.all() if event.kind != JobEvent.Kind.NOTIFICATION],
        "products": {
            "comment": listing["comment"],
            "files": [{"name": name, "url": _download_url(job, name, link)} for name in files],
            "texts": [
                {"name": item.get("name", ""), "value": str(item.get("value", ""))}
                for item in listing["lists"].get("text_product_list", [])
            ],
        },
    }


def _job_for(request: HttpRequest, job_id: str) -> Job:
    link = request.GET.get(LINK_PARAM)
    if link is not None:
        # The signature proves that we sent this link to the job's owner.
        job_link_check(job_id, link)
        job = Job.objects.filter(job_id=job_id).first()
        if job is None:
            raise JobNotFound(job_id)
        return job
    return job_get_for_user(job_id=job_id, caller=caller_from_request(request))


def _event(event: JobEvent) -> dict[str, Any]:
    data = event.data or {}
    return {
        "time": event.created_at.isoformat(),
        "kind": event.kind,
        "status": event.status,
        "message": event.message,
        "progress": data.get("progress"),
        "progress_max": data.get("progress_max"),
    }


def _download_url(job: Job, name: str, link: str | None) -> str:
    if link is not None:
        return _with_link(
            f"{reverse('job_download', kwargs={'job_id': job.job_id})}?{urlencode({'file_list': name})}", link
        )
    # Without a link the reader holds a token: the protocol's own download, to which they add it.
    return "/download_products?" + urlencode({"job_id": job.job_id, "file_list": name})


def _with_link(url: str, link: str | None) -> str:
    if link is None:
        return url
    return f"{url}{'&' if '?' in url else '?'}{urlencode({LINK_PARAM: link})}"


def _message(error: Exception) -> str:
    return getattr(error, "message", None) or getattr(error, "reason", None) or str(error)


def _private(response: HttpResponse) -> HttpResponse:
    # The link's signature is in the URL: never send it on as a Referer, never cache the page.
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "private, no-store"
    return response
