"""Where a person is sent to see a job: the frontend's form re-filled with the request, or our job page.

With ``DISPATCHER_FRONTEND_URL`` set, mails and chat messages link to
``/dispatch-data/resolve-job-url?job_id=...&link_token=...``, which redirects to
the frontend's form with the job's parameters (so a long request still gives a
short link); without it, to the job's own page. Both links are signed for the
job, so they open it without a token.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse

from jobs.models import Job
from jobs.signing import LINK_PARAM, job_link_sign, job_page_url


def job_link_for_people(job: Job) -> str:
    """The link a notification carries."""
    if not settings.FRONTEND_URL:
        return job_page_url(job.job_id)
    query = urlencode({"job_id": job.job_id, LINK_PARAM: job_link_sign(job.job_id)})
    return f"{settings.PUBLIC_URL}{reverse('resolve_job_url')}?{query}"


def frontend_request_url(job: Job) -> str:
    """The frontend's form with this job's request filled in (the earlier dispatcher's products URL)."""
    fields: dict[str, Any] = {
        **job.params,
        "instrument": job.instrument,
        "product_type": job.product_type,
        "query_type": job.query_type,
    }
    query = {name: _as_field(value) for name, value in sorted(fields.items()) if value is not None}
    return f"{settings.FRONTEND_URL}?{urlencode(query)}"


def _as_field(value: Any) -> str:
    """A value as the frontend's form takes it: lists comma-separated (scw_list), objects as JSON."""
    if isinstance(value, list):
        return ",".join(str(item) for item in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    if isinstance(value, bool):
        return "True" if value else "False"
    return str(value)
