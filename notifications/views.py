"""/report_incident: a person's report of a problem with a job, for the operators (notifications.incidents).

Served beside the ODA protocol (at / and under /dispatch-data/), with its errors.
"""

from __future__ import annotations

import math

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from dispatcher_site.auth import TokenRequired, caller_from_request
from dispatcher_site.errors import methods_allowed
from jobs.access import job_access
from jobs.errors import InvalidRequest
from jobs.interfaces.oda.errors import oda_errors
from notifications.incidents import incident_report
from notifications.vocabulary import Channel

DESCRIPTION_MAX = 20_000


@csrf_exempt
@methods_allowed("GET", "POST")
@oda_errors
def report_incident(request: HttpRequest) -> HttpResponse:
    """Fields: token (any valid one), job_id, session_id, incident_content (the description), incident_time."""
    fields = request.POST if request.method == "POST" else request.GET
    caller = caller_from_request(request)
    if caller.is_public:
        raise TokenRequired()
    job = job_access(caller=caller, job_id=str(fields.get("job_id") or ""))
    outcome = incident_report(
        job=job,
        caller=caller,
        description=_description(fields.get("incident_content")),
        session_id=str(fields.get("session_id") or "")[:64],
        incident_time=_time(fields.get("incident_time")),
    )
    matrix = outcome.status(Channel.MATRIX)
    return JsonResponse(
        {
            "email_report_status": outcome.status(Channel.EMAIL),
            # (sic) the earlier dispatcher's spelling, which its clients read; and ours
            "martix_message_report_status": matrix,
            "matrix_message_report_status": matrix,
            "incident_id": outcome.report.pk,
            "deliveries": [
                {"channel": d.channel, "recipient": d.recipient, "outcome": d.outcome, "error": d.error}
                for d in outcome.deliveries
            ],
        }
    )


def _description(raw: object) -> str:
    text = str(raw or "").strip()
    if not text:
        raise InvalidRequest("Please give incident_content: what went wrong.")
    if len(text) > DESCRIPTION_MAX:
        raise InvalidRequest(f"incident_content must be at most {DESCRIPTION_MAX} characters long.")
    return text


def _time(raw: object) -> float | None:
    try:
        value = float(str(raw)) if raw not in (None, "") else None
    except ValueError:
        value = math.nan
    if value is not None and not math.isfinite(value):
        raise InvalidRequest("incident_time must be a time in epoch seconds.")
    return value
