"""The UWS 1.1 resources under /uws/jobs (see README, section "IVOA UWS").

Each view authenticates the caller (token parameter or Bearer header), reads the
job through the access gate ``jobs.access.job_access`` (403 for someone else's
job), calls one service, and answers with UWS XML, plain text, or a 303 to the
resource the standard names. Errors leave through UWS's one renderer (``errors``):
plain text with their status.

UWS parameter names (PHASE, WAIT, RUNID, ACTION, ...) are case-insensitive, as
the standard says; instrument parameter names keep their case (RA, T1, src_name).
"""

from __future__ import annotations

from datetime import UTC

from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.utils.dateparse import parse_datetime
from django.views.decorators.csrf import csrf_exempt

from dispatcher_site.auth import Caller, caller_from_request
from dispatcher_site.errors import get_only, methods_allowed
from jobs.access import JobFilter, Scope, job_access, jobs_listed
from jobs.errors import InvalidRequest
from jobs.interfaces.uws import facts, phases
from jobs.interfaces.uws.errors import text_response as _text
from jobs.interfaces.uws.errors import uws_errors
from jobs.interfaces.uws.render import (
    iso_time,
    job_element,
    jobs_element,
    parameters_element,
    results_element,
    uws_url,
    xml_response,
)
from jobs.interfaces.uws.waiting import job_wait, wait_seconds
from jobs.models import Job
from jobs.products import UnsafeFileName, product_file_path, products_load
from jobs.services import job_abort_for, job_archive_for, job_run, job_submit
from jobs.states import Status

# Fields of a creation request that steer UWS and are never instrument parameters.
UWS_CONTROL_FIELDS = frozenset({"PHASE", "RUNID", "EXECUTIONDURATION", "DESTRUCTION", "WAIT", "ACTION"})
ASKED_FIELDS = frozenset({"instrument", "product_type", "query_type"})
LAST_MAX = 1_000_000  # a LAST the database's LIMIT takes on every backend


# --- the job list ---------------------------------------------------------------------


@csrf_exempt
@methods_allowed("GET", "POST")
@uws_errors
def job_list(request: HttpRequest) -> HttpResponse:
    caller = caller_from_request(request)
    if request.method == "POST":
        return _create(request, caller)
    return xml_response(jobs_element(_listed(caller, request)))


def _create(request: HttpRequest, caller: Caller) -> HttpResponse:
    """POST /uws/jobs: instrument, product_type, query_type and the instrument parameters."""
    data = {}
    for key in request.POST:
        if key.upper() not in UWS_CONTROL_FIELDS:
            # Our own fields are UWS parameters too: their names are case-insensitive.
            data[key.lower() if key.lower() in ASKED_FIELDS else key] = request.POST.get(key)
    phase = (_param(request, "PHASE") or "").upper()
    if phase not in ("", "RUN"):
        raise InvalidRequest(f"A new job accepts PHASE=RUN only, not {phase!r}.")
    submitted = job_submit(
        data=data, caller=caller, pending=phase != "RUN", run_id=(_param(request, "RUNID") or "")[:100]
    )
    return _see_other(uws_url("uws_job", submitted.job.job_id))


def _listed(caller: Caller, request: HttpRequest):
    """The caller's own jobs: PHASE (repeatable, any of), AFTER (created after), LAST (the n newest).

    Archived jobs only when PHASE asks for ARCHIVED.
    """
    wanted = {value.upper() for value in _params(request, "PHASE")}
    unknown = sorted(wanted - phases.ALL_PHASES)
    if unknown:
        raise InvalidRequest(f"Unknown PHASE {', '.join(unknown)}; phases are {', '.join(sorted(phases.ALL_PHASES))}.")
    after = _param(request, "AFTER")
    filters = JobFilter(
        statuses=phases.statuses_of(wanted) if wanted else None,
        archived=False,
        or_archived=phases.ARCHIVED in wanted,
        created_after=_parse_time("AFTER", after) if after else None,
    )
    jobs = jobs_listed(caller=caller, scope=Scope.OWN, filters=filters)
    last = _param(request, "LAST")
    if last:
        # ASCII digits only: isdigit() also says yes to "²", which int() refuses.
        if not (last.isascii() and last.isdigit() and int(last) <= LAST_MAX):
            raise InvalidRequest(f"LAST must be a whole number from 0 to {LAST_MAX}, not {last!r}.")
        jobs = jobs[: int(last)]  # newest first, as jobs_listed orders them
    return jobs


# --- one job ------------------------------------------------------------------------------


@csrf_exempt
@methods_allowed("GET", "POST", "DELETE")
@uws_errors
def job_detail(request: HttpRequest, job_id: str) -> HttpResponse:
    job = _job(request, job_id)
    if request.method == "GET":
        wanted_phase = _param(request, "PHASE")
        job = job_wait(
            job=job, wait_s=wait_seconds(_param(request, "WAIT")), phase=wanted_phase.upper() if wanted_phase else None
        )
        return xml_response(job_element(job))
    if request.method == "POST" and (_param(request, "ACTION") or "").upper() != "DELETE":
        raise InvalidRequest("POST to a job takes ACTION=DELETE; its phase is changed at .../phase.")
    job_archive_for(caller=caller_from_request(request), job_id=job.job_id)
    return _see_other(uws_url("uws_jobs"))


@csrf_exempt
@methods_allowed("GET", "POST")
@uws_errors
def job_phase(request: HttpRequest, job_id: str) -> HttpResponse:
    job = _job(request, job_id)
    if request.method == "GET":
        return _text(phases.job_phase(job))
    asked = (_param(request, "PHASE") or "").upper()
    if asked == "RUN":
        job_run(job_id=job.job_id)
    elif asked == "ABORT":
        job_abort_for(caller=caller_from_request(request), job_id=job.job_id, again_is_fine=True)
    else:
        raise InvalidRequest(f"PHASE must be RUN or ABORT, not {asked!r}.")
    return _see_other(uws_url("uws_job", job.job_id))


@csrf_exempt
@methods_allowed("GET", "POST")
@uws_errors
def job_execution_duration(request: HttpRequest, job_id: str) -> HttpResponse:
    """The instrument's time limit. A client's value is checked, then the server's is kept (see facts)."""
    job = _job(request, job_id)
    if request.method == "GET":
        return _text(str(facts.execution_duration_s(job)))
    asked = _param(request, "EXECUTIONDURATION") or ""
    if not asked.isdigit():
        raise InvalidRequest(f"EXECUTIONDURATION must be a non-negative integer of seconds, not {asked!r}.")
    return _see_other(uws_url("uws_job", job.job_id))


@csrf_exempt
@methods_allowed("GET", "POST")
@uws_errors
def job_destruction(request: HttpRequest, job_id: str) -> HttpResponse:
    """When the retention policy removes the job. A client's time is checked, then the policy's is kept."""
    job = _job(request, job_id)
    if request.method == "GET":
        return _text(iso_time(facts.destruction_time(job)))
    _parse_time("DESTRUCTION", _param(request, "DESTRUCTION") or "")
    return _see_other(uws_url("uws_job", job.job_id))


@get_only
@uws_errors
def job_error(request: HttpRequest, job_id: str) -> HttpResponse:
    message = facts.error_message(_job(request, job_id))
    if message is None:
        return _text("This job has no error.", status=404)
    return _text(message)


@get_only
@uws_errors
def job_quote(request: HttpRequest, job_id: str) -> HttpResponse:
    _job(request, job_id)
    # No estimate of when a backend finishes: an empty quote means "not known".
    return _text("")


@get_only
@uws_errors
def job_owner(request: HttpRequest, job_id: str) -> HttpResponse:
    return _text(_job(request, job_id).owner)


@csrf_exempt
@methods_allowed("GET", "POST")
@uws_errors
def job_parameters(request: HttpRequest, job_id: str) -> HttpResponse:
    job = _job(request, job_id)
    if request.method == "POST":
        # The job id is the hash of its parameters: changing them would make another job.
        return _text("A job's parameters are its identity and cannot change; create a new job instead.", status=409)
    return xml_response(parameters_element(job))


@get_only
@uws_errors
def job_results(request: HttpRequest, job_id: str) -> HttpResponse:
    return xml_response(results_element(_job(request, job_id)))


@get_only
@uws_errors
def job_result(request: HttpRequest, job_id: str) -> HttpResponse:
    """The main result: the product listing of a done job, as JSON."""
    job = _job(request, job_id)
    if job.status != Status.DONE:
        return _text(f"Job {job.job_id} is {phases.job_phase(job)}: it has no result.", status=404)
    listing = products_load(job)
    return JsonResponse({"job_id": job.job_id, "comment": listing["comment"], "products": listing["lists"]})


@get_only
@uws_errors
def job_result_file(request: HttpRequest, job_id: str, name: str) -> HttpResponse:
    job = _job(request, job_id)
    if job.status != Status.DONE:
        return _text(f"Job {job.job_id} is {phases.job_phase(job)}: it has no result.", status=404)
    try:
        path = product_file_path(job, name)
    except UnsafeFileName:
        return _text(f"Job {job.job_id} has no result file {name!r}.", status=404)
    return FileResponse(path.open("rb"), as_attachment=True, filename=name)


# --- helpers ------------------------------------------------------------------------------


def _job(request: HttpRequest, job_id: str) -> Job:
    return job_access(caller=caller_from_request(request), job_id=job_id)


def _params(request: HttpRequest, name: str) -> list[str]:
    """Every value of a UWS parameter, from the query and a form body, whatever the case of its name."""
    values = []
    sources = (request.GET, request.POST) if request.method == "POST" else (request.GET,)
    for source in sources:
        for key in source:
            if key.upper() == name:
                values.extend(source.getlist(key))
    return values


def _param(request: HttpRequest, name: str) -> str | None:
    values = _params(request, name)
    return values[-1] if values else None


def _parse_time(name: str, raw: str):
    try:
        value = parse_datetime(raw.strip())
    except ValueError:
        value = None
    if value is None:
        raise InvalidRequest(f"{name} must be an ISO 8601 time such as 2024-01-31T12:00:00Z, not {raw!r}.")
    try:
        # The database compares in UTC: a time that has none (0001-01-01T00:00+05:00) cannot be asked for.
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    except OverflowError:
        raise InvalidRequest(f"{name} must be a time between the years 1 and 9999 in UTC, not {raw!r}.") from None


def _see_other(url: str) -> HttpResponse:
    response = HttpResponse(status=303)
    response["Location"] = url
    return response
