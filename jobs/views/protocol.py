"""The ODA protocol endpoints (PROTOCOL.md), served at / and under /dispatch-data/.

Each view parses the request, authenticates the caller, calls one service or
selector and renders the protocol's JSON. Errors are values turned into the
protocol's error body with the right status by ``protocol_errors``.
"""

from __future__ import annotations

import functools
import logging
import time
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from dispatcher_site.auth import AuthError, Caller, caller_from_request, require_roles
from dispatcher_site.errors import error_response, exception_response
from instruments.exceptions import InstrumentError, ParameterError
from instruments.registry import instruments_enabled
from jobs import downloads, inspection
from jobs.callbacks import SIGNATURE_PARAM, callback_signature_valid
from jobs.exceptions import InvalidRequest, JobError, JobNotFound
from jobs.execution import job_callback
from jobs.models import Job
from jobs.protocol import job_answer
from jobs.selectors import job_get_for_user
from jobs.submission import instrument_for_caller, job_submit_request

log = logging.getLogger(__name__)


def protocol_errors(view):
    """Turn our error values into the protocol's JSON error answers."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except (AuthError, JobError, InstrumentError) as error:
            return exception_response(error, installed_instruments=_visible_names(request))
        except ParameterError as error:
            return error_response(str(error), 400, installed_instruments=_visible_names(request))

    return wrapper


def request_data(request: HttpRequest) -> dict[str, Any]:
    """GET and form POST fields as one flat dict (the last value of a repeated field wins)."""
    data = {key: request.GET.get(key) for key in request.GET}
    if request.method == "POST":
        data.update({key: request.POST.get(key) for key in request.POST})
    return data


@csrf_exempt
@require_http_methods(["GET", "POST"])
@protocol_errors
def run_analysis(request: HttpRequest) -> HttpResponse:
    data = request_data(request)
    caller = caller_from_request(request)
    session_id = str(data.get("session_id") or "")
    if data.get("job_id") and data.get("query_status", "new") != "new":
        # Identical public requests share a job, so its id (not the session) is what opens it.
        job = job_get_for_user(job_id=data["job_id"], caller=caller)
        return JsonResponse(job_answer(job, session_id=session_id))
    job, created, comment = job_submit_request(data=data, caller=caller, session_id=session_id)
    job = _wait_briefly(job)
    # A job created by this very request has no reports or notices yet.
    events = [] if created else None
    return JsonResponse(job_answer(job, session_id=session_id, comment=comment, events=events))


def _wait_briefly(job: Job) -> Job:
    """Give a fast backend a moment, so a quick job is answered done at once."""
    deadline = time.monotonic() + settings.SYNC_ANSWER_WAIT_S
    while not job.is_terminal and time.monotonic() < deadline:
        time.sleep(0.05)
        job.refresh_from_db()
    return job


@csrf_exempt
@require_http_methods(["GET", "POST"])
@protocol_errors
def call_back(request: HttpRequest) -> HttpResponse:
    started = time.monotonic()
    data = request_data(request)
    job_id = str(data.get("job_id") or "")
    if not callback_signature_valid(job_id, data.get(SIGNATURE_PARAM)):
        log.warning("refused an unsigned or forged call-back for job %s", job_id[:16])
        return error_response("This call-back is not signed for this job.", 403)
    if not Job.objects.filter(job_id=job_id).exists():
        raise JobNotFound(job_id)
    report = {k: v for k, v in data.items() if k not in (SIGNATURE_PARAM, "token")}
    job_callback(job_id=job_id, report=report)
    return JsonResponse({"time_spent_s": time.monotonic() - started})


@require_GET
@protocol_errors
def instr_list(request: HttpRequest) -> HttpResponse:
    return JsonResponse(_visible_names(request, strict=True), safe=False)


@require_GET
@protocol_errors
def meta_data(request: HttpRequest) -> HttpResponse:
    caller = caller_from_request(request)
    handle = instrument_for_caller(caller, request.GET.get("instrument"))
    product_type = request.GET.get("product_type") or None
    if product_type:
        handle.product(product_type)
    return JsonResponse(handle.metadata(product_type), safe=False)


@require_GET
@protocol_errors
def par_names(request: HttpRequest) -> HttpResponse:
    caller = caller_from_request(request)
    handle = instrument_for_caller(caller, request.GET.get("instrument"))
    product_type = request.GET.get("product_type") or ""
    handle.product(product_type)
    return JsonResponse(handle.parameter_names(product_type), safe=False)


@require_GET
@protocol_errors
def download_products(request: HttpRequest) -> HttpResponse:
    caller = caller_from_request(request)
    job = job_get_for_user(job_id=request.GET.get("job_id", ""), caller=caller)
    return downloads.download_response(job, file_list=request.GET.get("file_list", ""))


@require_GET
@protocol_errors
def inspect_state(request: HttpRequest) -> HttpResponse:
    caller = caller_from_request(request)
    require_roles(caller, {"job manager"}, what="inspecting the dispatcher's state")
    return JsonResponse(inspection.inspect(request.GET, owner=None))


@require_GET
@protocol_errors
def inspect_user_state(request: HttpRequest) -> HttpResponse:
    caller = caller_from_request(request)
    if caller.is_public:
        raise InvalidRequest("Please give your token: the state shown is that of your own jobs.")
    return JsonResponse(inspection.inspect(request.GET, owner=caller.sub))


def _visible_names(request: HttpRequest, *, strict: bool = False) -> list[str]:
    """Names of the instruments the caller may use. With a bad token, strict re-raises."""
    try:
        caller = caller_from_request(request)
    except AuthError:
        if strict:
            raise
        caller = Caller.public()
    return [handle.name for handle in instruments_enabled() if caller.has_roles(handle.roles)]
