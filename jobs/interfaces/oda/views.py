"""The ODA protocol endpoints (docs/protocol.md), served at / and under /dispatch-data/.

Each view parses the request, authenticates the caller, calls one service or
the access gate, and renders the protocol's JSON (``answers``). Errors leave
through the protocol's one renderer (``errors.oda_errors``).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from dispatcher_site.auth import Caller, caller_from_request
from dispatcher_site.errors import get_only, methods_allowed
from instruments.registry import instrument_get
from jobs.access import Use, job_access
from jobs.errors import InvalidRequest
from jobs.interfaces import downloads
from jobs.interfaces.oda import inspection
from jobs.interfaces.oda.answers import job_answer
from jobs.interfaces.oda.errors import oda_errors, visible_instrument_names
from jobs.interfaces.oda.fields import NEW_SESSION, fields_of, progress_wanted, session_generated
from jobs.interfaces.oda.frontend import answer_with_progress_page, frontend_answer, frontend_wanted
from jobs.interfaces.oda.metadata import meta_data_render, par_names_render
from jobs.interfaces.uploads import request_files, upload_response
from jobs.links import frontend_request_url
from jobs.models import Job
from jobs.services import instrument_for_caller, job_callback, job_progress_page, job_submit
from jobs.signing import LINK_PARAM, SIGNATURE_PARAM, job_page_url
from jobs.uploads import upload_access

log = logging.getLogger(__name__)

SESSION_ID_MAX = Job._meta.get_field("session_id").max_length


def request_data(request: HttpRequest) -> dict[str, Any]:
    """GET and form POST fields as one flat dict (a repeated field keeps its values: ``fields_of``)."""
    data = fields_of(request.GET)
    if request.method == "POST":
        data.update(fields_of(request.POST))
    return data


@csrf_exempt
@methods_allowed("GET", "POST")
@oda_errors
def run_analysis(request: HttpRequest) -> HttpResponse:
    data = request_data(request)
    caller = caller_from_request(request)
    session_id = session_id_parse(data)
    if data.get("job_id") and (data.get("query_status", "new") != "new" or progress_wanted(data)):
        # Identical public requests share a job, so its id (not the session) is what opens it.
        job = job_access(caller=caller, job_id=data["job_id"])
        return _answer_rendered(job_answer(job, session_id=session_id), job=job, data=data)
    files = request_files(request)
    submitted = job_submit(data=data, caller=caller, session_id=session_id or session_generated(), files=files)
    job = _wait_briefly(submitted.job)
    # A job created by this very request has no reports or notices yet.
    events = [] if submitted.created else None
    answer = job_answer(job, session_id=session_id, comment=submitted.comment, events=events)
    return _answer_rendered(answer, job=job, data=data)


def _answer_rendered(answer: dict[str, Any], *, job: Job, data: dict[str, Any]) -> HttpResponse:
    """The answer for oda-api (api=True) as it is, else in the frontend's format; with the progress page if asked."""
    if progress_wanted(data):
        answer = answer_with_progress_page(answer, job_progress_page(job=job))
    return JsonResponse(frontend_answer(answer, job=job) if frontend_wanted(data) else answer)


def session_id_parse(data: dict[str, Any]) -> str:
    """The client's session id (oda-api: 16 characters), at most as long as a job keeps.

    The frontend's ``new`` gets a new one; none at all is "" (a job read shows its own,
    a new job gets a new one: ``job_submit`` below).
    """
    session_id = str(data.get("session_id") or "")
    if session_id == NEW_SESSION:
        return session_generated()
    if len(session_id) > SESSION_ID_MAX:
        raise InvalidRequest(f"session_id must be at most {SESSION_ID_MAX} characters long, not {len(session_id)}.")
    return session_id


def _wait_briefly(job: Job) -> Job:
    """Give a fast backend a moment, so a quick job is answered done at once."""
    deadline = time.monotonic() + settings.SYNC_ANSWER_WAIT_S
    while not job.is_terminal and time.monotonic() < deadline:
        time.sleep(0.05)
        job.refresh_from_db()
    return job


@csrf_exempt
@methods_allowed("GET", "POST")
@oda_errors
def call_back(request: HttpRequest) -> HttpResponse:
    started = time.monotonic()
    data = request_data(request)
    job_id = str(data.get("job_id") or "")
    job = job_access(caller=Caller.public(), job_id=job_id, use=Use.REPORT, signature=data.get(SIGNATURE_PARAM))
    job_callback(job_id=job.job_id, report=data)
    return JsonResponse({"time_spent_s": time.monotonic() - started})


@get_only
@oda_errors
def instr_list(request: HttpRequest) -> HttpResponse:
    return JsonResponse(visible_instrument_names(request, strict=True), safe=False)


@get_only
@oda_errors
def meta_data(request: HttpRequest) -> HttpResponse:
    caller = caller_from_request(request)
    handle = instrument_for_caller(caller, request.GET.get("instrument"))
    product_type = request.GET.get("product_type") or None
    listing = meta_data_render(
        handle.describe(), product_type=product_type, returns_progress=handle.adapter.returns_progress
    )
    return JsonResponse(listing, safe=False)


@get_only
@oda_errors
def par_names(request: HttpRequest) -> HttpResponse:
    """The names a request may carry: those of one product, or of every product when none is named.

    Answered without checking roles: oda-api's get_product asks here without its
    token, and would warn its user, who may well hold the instrument's role. The
    names say nothing a request would not; a bad token is still refused.
    """
    caller_from_request(request)
    handle = instrument_get(str(request.GET.get("instrument") or ""))
    product_type = request.GET.get("product_type") or None
    return JsonResponse(par_names_render(handle.describe(), product_type=product_type), safe=False)


@csrf_exempt
@methods_allowed("GET", "HEAD", "POST")
@oda_errors
def download_products(request: HttpRequest) -> HttpResponse:
    """The frontend's Download link also sends session_id, query_status=ready and instrument: not needed here."""
    data = request_data(request)
    job = job_access(caller=caller_from_request(request), job_id=str(data.get("job_id") or ""))
    archive = str(data.get("return_archive") or "True").strip().lower() != "false"
    return downloads.download_response(
        job,
        file_list=str(data.get("file_list") or ""),
        download_name=str(data.get("download_file_name") or ""),
        archive=archive,
    )


@get_only
@oda_errors
def inspect_state(request: HttpRequest) -> HttpResponse:
    return JsonResponse(inspection.inspect(request.GET, caller=caller_from_request(request), everyone=True))


@get_only
@oda_errors
def inspect_user_state(request: HttpRequest) -> HttpResponse:
    return JsonResponse(inspection.inspect(request.GET, caller=caller_from_request(request), everyone=False))


@get_only
@oda_errors
def resolve_job_url(request: HttpRequest) -> HttpResponse:
    """A mail's short link (``jobs.links``): to the frontend's form re-filled with the job's request.

    Opened by the link's signature (``link_token``) or by a token that may read the job.
    Without DISPATCHER_FRONTEND_URL, to the job's own page.
    """
    job_id = str(request.GET.get("job_id") or "")
    job = job_access(caller=caller_from_request(request), job_id=job_id, link=request.GET.get(LINK_PARAM))
    return HttpResponseRedirect(frontend_request_url(job) if settings.FRONTEND_URL else job_page_url(job.job_id))


@methods_allowed("GET", "HEAD")
@oda_errors
def download_file(request: HttpRequest) -> HttpResponse:
    """A file uploaded as a parameter (``file_list``: its hash), to whom may read it; what backends fetch."""
    path = upload_access(caller=caller_from_request(request), sha256=str(request.GET.get("file_list") or ""))
    archive = str(request.GET.get("return_archive") or "True").strip().lower() != "false"
    return upload_response(path, archive=archive, download_name=str(request.GET.get("download_file_name") or ""))
