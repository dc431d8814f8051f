"""The job's page for people: /jobs/<job_id>/, its state as JSON, and its files.

Who may open it is the access gate's rule (``jobs.access.job_access``): whoever
holds a signed link to it (mails and Matrix messages carry one), the owner's
token, a job manager, a staff member logged in to the admin, anyone for a public
job. The page's HTML errors leave through ``page_error_response``; its JSON
(state, downloads) through the protocol's renderer, whose body it shares.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse

from dispatcher_site.auth import caller_from_request
from dispatcher_site.errors import ServiceError, errors_rendered_by, get_only
from dispatcher_site.outages import with_retry_hint
from jobs.access import job_access
from jobs.api_code import api_code_for
from jobs.bokehjs import bokehjs_path
from jobs.drawings import products_drawn
from jobs.interfaces import downloads
from jobs.interfaces.oda.errors import oda_error_response
from jobs.models import Job, JobEvent
from jobs.products import products_load
from jobs.signing import LINK_PARAM

POLL_INTERVAL_MS = 1000


def page_error_response(request: HttpRequest, error: ServiceError) -> HttpResponse:
    """The page's one HTML renderer of errors."""
    context = {"message": error.message, "status": error.status_code}
    return with_retry_hint(_private(render(request, "jobs/job_refused.html", context, status=error.status_code)), error)


def _json_error_response(request: HttpRequest, error: ServiceError) -> HttpResponse:
    return _private(oda_error_response(request, error))


page_errors = errors_rendered_by(page_error_response)
json_errors = errors_rendered_by(_json_error_response)


@get_only
@page_errors
def job_page(request: HttpRequest, job_id: str) -> HttpResponse:
    job = _job_for(request, job_id)
    context = {
        "job": job,
        "state": job_state_data(job, link=request.GET.get(LINK_PARAM)),
        "state_url": _with_link(reverse("job_state", kwargs={"job_id": job.job_id}), request.GET.get(LINK_PARAM)),
        "api_code": api_code_for(job, url=settings.PUBLIC_URL),
        "poll_interval_ms": POLL_INTERVAL_MS,
        "bokehjs": bokehjs_path(),
    }
    return _private(render(request, "jobs/job_page.html", context))


@get_only
@json_errors
def job_state(request: HttpRequest, job_id: str) -> HttpResponse:
    job = _job_for(request, job_id)
    return _private(JsonResponse(job_state_data(job, link=request.GET.get(LINK_PARAM))))


@get_only
@json_errors
def job_download(request: HttpRequest, job_id: str) -> HttpResponse:
    job = _job_for(request, job_id)
    return downloads.download_response(job, file_list=request.GET.get("file_list", ""))


def job_state_data(job: Job, *, link: str | None) -> dict[str, Any]:
    """What the page shows and polls: status, timeline, products (drawn once the job is done)."""
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
            # Each product drawn (jobs.drawings, as the frontend shows it): Bokeh plots, pictures, tables, text.
            "drawings": products_drawn(listing["lists"]),
        },
    }


def _job_for(request: HttpRequest, job_id: str) -> Job:
    # The page only reads, so a staff member's admin session may open it (the admin links here).
    caller = caller_from_request(request, staff_session=True)
    return job_access(caller=caller, job_id=job_id, link=request.GET.get(LINK_PARAM))


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
    # The page's own download admits whoever may read the page: the link's holder, a token
    # (Bearer, or added as ?token=), a staff session.
    url = f"{reverse('job_download', kwargs={'job_id': job.job_id})}?{urlencode({'file_list': name})}"
    return _with_link(url, link)


def _with_link(url: str, link: str | None) -> str:
    if link is None:
        return url
    return f"{url}{'&' if '?' in url else '?'}{urlencode({LINK_PARAM: link})}"


def _private(response: HttpResponse) -> HttpResponse:
    # The link's signature is in the URL: never send it on as a Referer, never cache the page.
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "private, no-store"
    return response
