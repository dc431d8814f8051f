"""Turning a request for a product into a job: the one validation path of every interface.

The ODA protocol view, the REST API (and UWS) all parse their own input into a
flat dict of fields, then call ``job_submit_request``: instrument (and its
roles) -> product -> query_type -> parameters -> the roles those values need ->
``job_submit``. Errors are values (InvalidRequest, InstrumentError,
ParameterError, RolesMissing) that each interface renders its own way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dispatcher_site.auth import Caller, require_roles
from instruments.registry import InstrumentHandle, instrument_get
from jobs.exceptions import InvalidRequest
from jobs.execution import job_submit
from jobs.models import Job
from jobs.protocol import QUERY_TYPES, instrument_parameters, unused_comment


def job_submit_request(*, data: Mapping[str, Any], caller: Caller, session_id: str = "") -> tuple[Job, bool, str]:
    """Validate a request and submit (or join) its job.

    ``data`` holds the protocol's fields (instrument, product_type, query_type)
    beside the instrument parameters. Returns the job, whether it is new, and the
    comment naming parameters that were not used.
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
    job, created = job_submit(
        owner=caller.sub,
        instrument=handle.name,
        product_type=product_type,
        params=validated.params,
        query_type=query_type,
        session_id=session_id,
        claims=caller.claims,
    )
    return job, created, unused_comment(validated.unused)


def instrument_for_caller(caller: Caller, name: Any) -> InstrumentHandle:
    """The enabled instrument ``name``, if the caller holds its roles."""
    if not name:
        raise InvalidRequest("Please give instrument: the name of one of the installed instruments.")
    handle = instrument_get(str(name))
    require_roles(caller, handle.roles, what=f"instrument {handle.name}")
    return handle
