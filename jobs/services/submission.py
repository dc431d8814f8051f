"""Turning a request for a product into a job: the one submission path of every interface.

The ODA protocol, REST and UWS each parse their own input into a flat dict of
fields, then call ``job_submit``: ``submission_check`` validates (instrument and
its roles -> product -> query_type -> parameters -> the roles those values
need), then the job is created or joined, and started.

UWS needs jobs that exist before they run (phase PENDING). They live in the job
registry itself, in the state machine's ``pending`` status, rather than in a
table of their own: the job id (the hash of the request) is known from creation
on, the one access gate covers them, the UWS job list is one query, and
``PHASE=RUN`` is one forward move (pending -> submitted, see ``job_run``). The
ODA protocol has no "create but do not run", so a protocol request that joins a
pending job starts it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from dispatcher_site.auth import Caller, require_roles
from instruments.base import PROTOCOL_FIELDS, AdapterError, Products, RunRequest
from instruments.exceptions import InstrumentNotFound, UnknownInstrument
from instruments.registry import InstrumentHandle, instrument_get, instruments_enabled
from jobs.errors import IllegalTransition, InvalidRequest
from jobs.models import Job
from jobs.products import products_keep_files, products_store_lists
from jobs.services.records import (
    job_attempt_again,
    job_create_finished,
    job_get_or_create,
    job_id_compute,
    job_move,
    job_record_resubmitted,
    job_set_archived,
)
from jobs.services.running import job_start
from jobs.states import RUN_AGAIN_FROM, Status
from jobs.uploads import IncomingFile, PendingUpload, uploads_for_parameters, uploads_keep

log = logging.getLogger(__name__)

QUERY_TYPES = ("Real", "Dummy")


@dataclass(frozen=True)
class Submission:
    """A request that passed every check: what the job will be, and who asks."""

    handle: InstrumentHandle
    asked: dict[str, Any]  # owner, instrument, product_type, params, query_type, session_id, claims
    unused: tuple[str, ...]
    # Files sent for file parameters, kept once the request passed every check.
    uploads: tuple[PendingUpload, ...] = ()

    @property
    def comment(self) -> str:
        return unused_comment(self.unused)


@dataclass(frozen=True)
class Submitted:
    job: Job
    created: bool
    comment: str


def submission_check(
    *,
    data: Mapping[str, Any],
    caller: Caller,
    session_id: str = "",
    files: Mapping[str, IncomingFile] | None = None,
) -> Submission:
    """Validate a request for a product; ``data`` holds instrument, product_type, query_type and parameters.

    ``files`` (by part name) are the files sent for file parameters: each one's URL
    here becomes its parameter's value (``jobs.uploads``), so the job id covers its content.
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
    placed = uploads_for_parameters(data=data, files=files or {}, parameters=_declared(handle, product_type))
    data = placed.data
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
    unused = tuple(sorted({*validated.unused, *placed.unused}))
    return Submission(handle=handle, asked=asked, unused=unused, uploads=placed.pending)


def _declared(handle: InstrumentHandle, product_type: str) -> tuple[Any, ...]:
    described = handle.describe().product(product_type)
    return described.parameters if described is not None else ()


def job_submit(
    *,
    data: Mapping[str, Any],
    caller: Caller,
    session_id: str = "",
    pending: bool = False,
    run_id: str = "",
    files: Mapping[str, IncomingFile] | None = None,
) -> Submitted:
    """Validate a request, then create its job (or join the existing one) and start it.

    ``pending`` (UWS without PHASE=RUN) creates a new job without running it;
    otherwise a new job is queued (or answered at once) and a pending one joined is
    started. A failed or aborted job joined runs again, as its next attempt (pending
    again, for ``pending``). ``run_id`` is the UWS client's label, kept on a new job.
    Joining an archived job (its owner deleted it through UWS) brings it back.
    ``files``: see ``submission_check``; they are kept before the job is created.
    """
    checked = submission_check(data=data, caller=caller, session_id=session_id, files=files)
    uploads_keep(pending=checked.uploads, caller=caller)
    asked = {**checked.asked, "run_id": run_id}
    if pending:
        job, created = job_get_or_create(**asked, status=Status.PENDING)
        if not created and job.status in RUN_AGAIN_FROM:
            job = job_attempt_again(job_id=job.job_id, status=Status.PENDING) or _current(job)
    else:
        job, created = _job_started(checked.handle, asked)
    if job.is_archived:
        job = job_set_archived(job_id=job.job_id, archived=False)
    return Submitted(job=job, created=created, comment=checked.comment)


def _job_started(handle: InstrumentHandle, asked: dict[str, Any]) -> tuple[Job, bool]:
    """Create the job and start it; or join it, starting it if it waited for PHASE=RUN, or
    running it again if it failed or was aborted (an answer at once has run again already)."""
    at_once = handle.adapter.answers_at_once(asked["product_type"])
    job, created = _job_answered_at_once(handle, asked) if at_once else job_get_or_create(**asked)
    if created and not job.is_terminal:
        log.info("job %s submitted: %s/%s by %s", job.job_id, job.instrument, job.product_type, job.owner or "public")
        job_start(job)
    elif not created and (job.status == Status.PENDING or (job.status in RUN_AGAIN_FROM and not at_once)):
        job = job_run(job_id=job.job_id)
    elif not created and job.owner and job.status in (Status.SUBMITTED, Status.PROGRESS):
        job_record_resubmitted(job_id=job.job_id)
    return job, created


def _job_answered_at_once(handle: InstrumentHandle, asked: dict[str, Any]) -> tuple[Job, bool]:
    """Run a product the adapter answers at once, then create its job already finished.

    No queue and no worker: one transaction creates the job, its events and its
    product lists, and the caller's first answer is final. A repeated request finds
    the job and keeps no lists again (product files, if any, are written before the
    job is looked for, so they are written again with the same content).
    """
    identity = {key: asked[key] for key in ("owner", "instrument", "product_type", "params", "query_type")}
    request = RunRequest(job_id=job_id_compute(**identity), **identity)
    try:
        outcome = handle.adapter.run(request)
    except AdapterError as error:
        ended = {"outcome": Status.FAILED, "message": error.message}
    else:
        if outcome.state != "done":
            raise RuntimeError(f"{handle.kind} said it answers {request.product_type} at once, but did not")
        products = outcome.products or Products()
        # Files first, outside the transaction: the write lock is held for the rows alone.
        products_keep_files(job_id=request.job_id, products=products)
        ended = {"outcome": Status.DONE, "message": products.comment or "job done", "products": products}
    job, created = job_create_finished(**asked, **ended)
    if not created and job.status in RUN_AGAIN_FROM:
        job = _attempt_ended_at_once(job, **ended)
    return job, created


def _attempt_ended_at_once(job: Job, *, outcome: Status, message: str, products: Products | None = None) -> Job:
    """A failed or aborted job answered at once again: its next attempt, already ended."""
    with transaction.atomic():
        again = job_attempt_again(job_id=job.job_id)
        if again is None:
            return _current(job)  # a concurrent request ran it again first
        if products is not None:
            products_store_lists(job=again, products=products)
        return job_move(job_id=job.job_id, to=outcome, message=message)


def job_run(*, job_id: str) -> Job:
    """Start a pending job (pending -> submitted), or run a failed or aborted one again
    (its next attempt); the run is queued after commit.

    A job that is running or done (or started just now by a concurrent request) is
    returned unchanged: RUN twice queues one run.
    """
    job = Job.objects.get(job_id=job_id)
    if job.status in RUN_AGAIN_FROM:
        again = job_attempt_again(job_id=job_id)
        return job_start(again) if again is not None else _current(job)
    try:
        job = job_move(job_id=job_id, to=Status.SUBMITTED, message="job submitted")
    except IllegalTransition:
        return _current(job)
    log.info("job %s started (it was pending)", job_id)
    return job_start(job)


def _current(job: Job) -> Job:
    job.refresh_from_db()
    return job


def instrument_for_caller(caller: Caller, name: Any) -> InstrumentHandle:
    """The enabled instrument ``name``, if the caller holds its roles."""
    if not name:
        raise InvalidRequest("Please give instrument: the name of one of the installed instruments.")
    handle = instrument_get(str(name))
    require_roles(caller, handle.roles, what=f"instrument {handle.name}")
    return handle


def instrument_resource_for_caller(caller: Caller, name: str) -> InstrumentHandle:
    """As instrument_for_caller, for an instrument named in a URL: an unknown one is 404."""
    try:
        return instrument_for_caller(caller, name)
    except UnknownInstrument as unknown:
        raise InstrumentNotFound(unknown.name, unknown.installed_instruments) from None


def instruments_for_caller(caller: Caller) -> list[InstrumentHandle]:
    """The enabled instruments whose roles the caller holds, by name."""
    return [handle for handle in instruments_enabled() if caller.has_roles(handle.roles)]


def instrument_parameters(data: Mapping[str, Any]) -> dict[str, Any]:
    """The request fields that are meant for the instrument."""
    return {key: value for key, value in data.items() if key not in PROTOCOL_FIELDS}


def unused_comment(unused: Iterable[str]) -> str:
    names = sorted(unused)
    if not names:
        return ""
    return f"Please note that argument(s) {', '.join(names)} are not used"
