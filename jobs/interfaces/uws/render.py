"""The UWS 1.1 XML documents (schema UWS-1.1.xsd, namespace http://www.ivoa.net/xml/UWS/v1.0).

Built with ElementTree, so every value is escaped; links are absolute, on
DISPATCHER_PUBLIC_URL like every other link the dispatcher hands out.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from xml.etree import ElementTree as ET

from django.conf import settings
from django.http import HttpResponse
from django.urls import reverse

from jobs.interfaces.uws import facts
from jobs.interfaces.uws.phases import job_phase, phase_for
from jobs.models import Job
from jobs.states import Status

UWS_NS = "http://www.ivoa.net/xml/UWS/v1.0"
XLINK_NS = "http://www.w3.org/1999/xlink"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
UWS_VERSION = "1.1"
CONTENT_TYPE = "text/xml; charset=utf-8"
# Control characters XML 1.0 cannot carry at all, even escaped (a parameter or an error text may hold one).
_XML_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

ET.register_namespace("uws", UWS_NS)
ET.register_namespace("xlink", XLINK_NS)
ET.register_namespace("xsi", XSI_NS)


def uws_url(name: str, *args: str) -> str:
    """The absolute URL of one of the UWS resources (route names of jobs.interfaces.uws.urls)."""
    return f"{settings.PUBLIC_URL}{reverse(name, args=args)}"


def xml_response(root: ET.Element, *, status: int = 200) -> HttpResponse:
    body = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return HttpResponse(body, content_type=CONTENT_TYPE, status=status)


def iso_time(value: datetime) -> str:
    """UTC with milliseconds and a Z, as the UWS examples (and pyvo) write times."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def jobs_element(jobs: Iterable[Job]) -> ET.Element:
    """The job list: one ``jobref`` (phase, runId, ownerId, creationTime) per job."""
    root = ET.Element(_uws("jobs"), {"version": UWS_VERSION})
    for job in jobs:
        ref = _sub(root, "jobref", id=job.job_id, **_link(uws_url("uws_job", job.job_id)))
        _sub(ref, "phase", text=job_phase(job))
        if job.run_id:
            _sub(ref, "runId", text=job.run_id)
        _owner(ref, job)
        _sub(ref, "creationTime", text=iso_time(job.created_at))
    return root


def job_element(job: Job) -> ET.Element:
    """The full job resource, its elements in the schema's order."""
    root = ET.Element(_uws("job"), {"version": UWS_VERSION})
    _sub(root, "jobId", text=job.job_id)
    if job.run_id:
        _sub(root, "runId", text=job.run_id)
    _owner(root, job)
    _sub(root, "phase", text=job_phase(job))
    _nil(root, "quote")
    _sub(root, "creationTime", text=iso_time(job.created_at))
    _time_or_nil(root, "startTime", job.started_at)
    _time_or_nil(root, "endTime", job.finished_at)
    _sub(root, "executionDuration", text=str(facts.execution_duration_s(job)))
    _sub(root, "destruction", text=iso_time(facts.destruction_time(job)))
    root.append(parameters_element(job))
    root.append(results_element(job))
    message = facts.error_message(job)
    if message is not None:
        summary = _sub(root, "errorSummary", type="fatal", hasDetail="true")
        _sub(summary, "message", text=message)
    root.append(_job_info(job))
    return root


def parameters_element(job: Job) -> ET.Element:
    """What was asked: the protocol's fields, then the normalized instrument parameters."""
    root = ET.Element(_uws("parameters"))
    asked = {"instrument": job.instrument, "product_type": job.product_type, "query_type": job.query_type}
    for name, value in {**asked, **job.params}.items():
        _sub(root, "parameter", id=name, text=_parameter_text(value))
    return root


def results_element(job: Job) -> ET.Element:
    """For a done job: the main result (the product listing as JSON), then each product file."""
    root = ET.Element(_uws("results"))
    if job.status != Status.DONE:
        return root
    main = uws_url("uws_result", job.job_id)
    _sub(root, "result", id=facts.RESULT_ID, **{"mime-type": "application/json"}, **_link(main))
    for file in facts.result_files(job):
        link = _link(uws_url("uws_result_file", job.job_id, file.name))
        _sub(root, "result", id=file.name, size=str(file.size), **{"mime-type": file.mime_type}, **link)
    return root


def _job_info(job: Job) -> ET.Element:
    """Our own facts, unqualified elements (the schema takes any content here)."""
    info = ET.Element(_uws("jobInfo"))
    for name, value in (
        ("status", job.status),
        ("instrument", job.instrument),
        ("product_type", job.product_type),
        ("query_type", job.query_type),
    ):
        ET.SubElement(info, name).text = value
    if job.is_archived:
        # The phase the job had before it was archived, which ARCHIVED hides.
        ET.SubElement(info, "archivedPhase").text = phase_for(job.status, archived=False)
        ET.SubElement(info, "archivedAt").text = iso_time(job.archived_at)
    return info


def _parameter_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _owner(parent: ET.Element, job: Job) -> None:
    # A public job has no authenticated creator: the standard asks for a nil ownerId.
    if job.owner:
        _sub(parent, "ownerId", text=job.owner)
    else:
        _nil(parent, "ownerId")


def _time_or_nil(parent: ET.Element, name: str, value: datetime | None) -> None:
    if value is None:
        _nil(parent, name)
    else:
        _sub(parent, name, text=iso_time(value))


def _nil(parent: ET.Element, name: str) -> ET.Element:
    return _sub(parent, name, **{f"{{{XSI_NS}}}nil": "true"})


def _link(href: str) -> dict[str, str]:
    return {f"{{{XLINK_NS}}}type": "simple", f"{{{XLINK_NS}}}href": href}


def _sub(parent: ET.Element, name: str, *, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, _uws(name), attributes)
    if text is not None:
        element.text = _XML_UNSAFE.sub("\ufffd", text)
    return element


def _uws(name: str) -> str:
    return f"{{{UWS_NS}}}{name}"
