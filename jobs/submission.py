"""Turning a request for a product into a job: the one validation path of every interface.

The ODA protocol view, the REST API (and UWS) all parse their own input into a
flat dict of fields, then call ``job_submit_request``: instrument (and its
roles) -> product -> query_type -> parameters -> the roles those values need ->
``job_submit``. Errors are values (InvalidRequest, InstrumentError,
ParameterError, RolesMissing) that each interface renders its own way.

UWS needs jobs that exist before they run (phase PENDING). They live in the job
registry itself, in the state machine's ``pending`` status, rather than in a
table of their own: the job id (the hash of the request) is known from creation
on, the one permission gate ``job_get_for_user`` covers them, the UWS job list is
one query, and ``PHASE=RUN`` is one forward move (pending -> submitted, see
``job_run``). The ODA protocol has no "create but do not run", so a protocol
request that joins a pending job starts it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from dispatcher_site.auth import Caller, require_roles
from instruments.registry import InstrumentHandle, instrument_get
from jobs.exceptions import IllegalTransition, InvalidRequest
from jobs.execution import job_start, job_submit
from jobs.models import Job
from jobs.protocol import QUERY_TYPES, instrument_parameters, unused_comment
from jobs.services import job_get_or_create, job_move, job_unarchive
from jobs.states import Status

log = logging.getLogger(__name__)


def job_submit_request(
    *,
    data: Mapping[str, Any],
    caller: Caller,
    session_id: str = "",
    pending: bool = False,
    run_id: str = "",
) -> tuple[Job, bool, str]:
    """Validate a request and submit (or join) its job.

    ``data`` holds the protocol's fields (instrument, product_type, query_type)
    beside the instrument parameters. Returns the job, whether it is new, and the
    comment naming parameters that were not used.

    ``pending`` (UWS without PHASE=RUN) creates a new job without running it;
    otherwise a new job is queued and a pending one joined is started. ``run_id``
    is the UWS client's label, kept on a new job. Joining an archived job (its
    owner deleted it through UWS) brings it back.
    """
    handle = instrument_for_caller(caller, data.get("instrument"))
    product_type = str(data.get("product_type") or "")
    if not product_type:
        raise InvalidRequest("Please give product_type: the product you ask for.")
    product = handle.product(product_type)
    query_type = str(data.get("query_type") or "Real")
    if query_type not in QUERY_TYPES:
        raise InvalidRequest(f"query_type must be one of {', '.join(QUERY_TYPES)}, not {query_type!r}.")
    if query_type not in product.query_types:
        allowed = " or ".join(sorted(product.query_types))
        raise InvalidRequest(f"Product {product_type} of {handle.name} needs query_type={allowed}.")
    validated = handle.validate(product_type, instrument_parameters(data))
    require_roles(caller, handle.roles_for(product_type, validated.params), what=f"{handle.name}/{product_type}")
    asked = {
        "owner": caller.sub,
        "instrument": handle.name,
        "product_type": product_type,
        "params": validated.params,
        "query_type": query_type,
        "session_id": session_id,
        "claims": caller.claims,
    }
    if pending:
        job, created = job_get_or_create(**asked, status=Status.PENDING, run_id=run_id)
    else:
        job, created = job_submit(**asked)
        if created and run_id:
            Job.objects.filter(pk=job.pk).update(run_id=run_id)
            job.run_id = run_id
        if job.status == Status.PENDING:
            job = job_run(job_id=job.job_id)
    if job.is_archived:
        job = job_unarchive(job_id=job.job_id)
    return job, created, unused_comment(validated.unused)


def job_run(*, job_id: str) -> Job:
    """Start a pending job: pending -> submitted, its run queued after commit as job_submit does.

    A job that is not pending (already started or ended, or started just now by a
    concurrent request) is returned unchanged: RUN twice queues one run.
    """
    try:
        job = job_move(job_id=job_id, to=Status.SUBMITTED, message="job submitted")
    except IllegalTransition:
        return Job.objects.get(job_id=job_id)
    log.info("job %s started (it was pending)", job_id)
    return job_start(job)


def instrument_for_caller(caller: Caller, name: Any) -> InstrumentHandle:
    """The enabled instrument ``name``, if the caller holds its roles."""
    if not name:
        raise InvalidRequest("Please give instrument: the name of one of the installed instruments.")
    handle = instrument_get(str(name))
    require_roles(caller, handle.roles, what=f"instrument {handle.name}")
    return handle
