"""The OpenAPI description of what drf-spectacular cannot see by itself.

- ``PlatformTokenScheme`` tells it how PlatformTokenAuthentication works (a Bearer JWT).
- ``protocol_paths_hook`` (a postprocessing hook) adds every plain Django view of the
  URLconf: the ODA protocol (at / and under /dispatch-data/), the token endpoints,
  /healthz and the job page. Those views stay plain Django views, unchanged for
  oda-api (no DRF content negotiation, no new error shapes); the hook describes them
  from the table below, walking the URLconf. The protocol is listed once, at /: the
  same endpoints under /dispatch-data/ are said to exist in the API's description
  (``PROTOCOL_PREFIX``), not listed twice. A plain view missing from the table gets
  no entry, and tests/ops/test_openapi.py fails, naming it.
"""

from __future__ import annotations

import re
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.extensions import OpenApiAuthenticationExtension

BEARER = "bearerAuth"
# The protocol's second mount (the earlier dispatcher's URLs behind its proxy): documented once, at /.
PROTOCOL_PREFIX = "/dispatch-data/"


class PlatformTokenScheme(OpenApiAuthenticationExtension):
    target_class = "dispatcher_site.auth.PlatformTokenAuthentication"
    name = BEARER

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "The platform's HS256 token (claims sub, roles, exp, notification options).",
        }


def _q(name: str, description: str, *, required: bool = False, kind: str = "string") -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "description": description, "schema": {"type": kind}}


def _json(ref: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": ref}}}}


def _of(content_type: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"description": description, "content": {content_type: {"schema": schema or {"type": "string"}}}}


TOKEN = _q("token", "The caller's token (or send it as Authorization: Bearer).")
JOB_ID = _q("job_id", "The job id (64 hex characters).", required=True)
ERROR = "#/components/schemas/ProtocolError"
ANSWER = "#/components/schemas/ProtocolAnswer"
ERRORS = {
    "400": _json(ERROR, "A request the protocol cannot act on (missing field, bad parameter)."),
    "403": _json(ERROR, "Bad or expired token, missing roles, or not the caller's job."),
}
RUN_FIELDS = [
    _q("instrument", "An installed instrument (see /api/instr-list).", required=True),
    _q("product_type", "One of the instrument's products.", required=True),
    _q("query_type", "Real or Dummy."),
    _q("query_status", "new to start (or join) a job; then the status last answered, with job_id."),
    _q("job_id", "The job to report on (after the first answer)."),
    _q("session_id", "The client's session (16 characters)."),
    TOKEN,
]

# View function (module.name) -> (methods, summary, query parameters, responses)
OPERATIONS: dict[str, tuple[tuple[str, ...], str, list[dict[str, Any]], dict[str, Any]]] = {
    "jobs.interfaces.oda.views.run_analysis": (
        ("get", "post"),
        "Ask for a product, or poll a job (ODA protocol). Instrument parameters travel as further fields.",
        RUN_FIELDS,
        {"200": _json(ANSWER, "The job's state, products when done."), **ERRORS},
    ),
    "jobs.interfaces.oda.views.call_back": (
        ("get", "post"),
        "A backend reports progress, done or failed on a signed call-back URL.",
        [JOB_ID, _q("action", "progress, done, failed, ..."), _q("message", "Shown in the job's timeline."),
         _q("sig", "The per-job signature of the call-back URL.", required=True)],
        {"200": _of("application/json", "Recorded.", {"type": "object", "properties": {"time_spent_s": {
            "type": "number"}}}), "403": ERRORS["403"], "404": _json(ERROR, "No such job.")},
    ),
    "jobs.interfaces.oda.views.instr_list": (
        ("get",),
        "Names of the instruments the caller may use.",
        [TOKEN],
        {"200": _of("application/json", "Instrument names.", {"type": "array", "items": {"type": "string"}}),
         **ERRORS},
    ),
    "jobs.interfaces.oda.views.meta_data": (
        ("get",),
        "An instrument's queries and parameters (the frontend's form).",
        [_q("instrument", "The instrument.", required=True), _q("product_type", "Only this product."), TOKEN],
        {"200": _of("application/json", "A list of queries, each a header and parameter entries.",
                    {"type": "array", "items": {"type": "array", "items": {"type": "object"}}}), **ERRORS},
    ),
    "jobs.interfaces.oda.views.par_names": (
        ("get",),
        "The parameter names a product accepts (with token).",
        [_q("instrument", "The instrument.", required=True), _q("product_type", "The product.", required=True),
         TOKEN],
        {"200": _of("application/json", "Parameter names.", {"type": "array", "items": {"type": "string"}}),
         **ERRORS},
    ),
    "jobs.interfaces.oda.views.download_products": (
        ("get", "post"),
        "Files of a done job: one file gzipped, several as tar.gz. Only for the job's owner.",
        [JOB_ID, _q("file_list", "Comma-separated file names.", required=True), _q("session_id", "The session."),
         _q("download_file_name", "The name the browser saves."),
         _q("return_archive", "False: a single file as it is, not gzipped."), TOKEN],
        {"200": _of("application/octet-stream", "The file(s)."), "404": _json(ERROR, "No such job or file."),
         **ERRORS},
    ),
    "jobs.interfaces.oda.views.resolve_job_url": (
        ("get",),
        "A mail's link: redirects to the frontend's form re-filled with the job's request (DISPATCHER_FRONTEND_URL).",
        [JOB_ID, _q("link_token", "The signature of the link."), TOKEN],
        {"302": {"description": "To the frontend's form, or the job's page."}, **ERRORS,
         "404": _json(ERROR, "No such job.")},
    ),
    "notifications.views.report_incident": (
        ("get", "post"),
        "A person's report of a problem with a job, sent to the operators (email and Matrix incident rooms).",
        [JOB_ID, _q("incident_content", "What went wrong.", required=True), _q("session_id", "The session."),
         _q("incident_time", "When (epoch seconds).", kind="number"), TOKEN],
        {"200": _of("application/json", "What was sent.", {"type": "object"}), **ERRORS,
         "404": _json(ERROR, "No such job.")},
    ),
    "jobs.interfaces.oda.views.inspect_state": (
        ("get",),
        "Recent jobs of everyone (role job manager).",
        [TOKEN, _q("job_id", "Only this job."), _q("recent_days", "How far back.", kind="number"),
         _q("group_by_job", "Group records by job.")],
        {"200": _of("application/json", "Records.", {"type": "object"}), **ERRORS},
    ),
    "jobs.interfaces.oda.views.inspect_user_state": (
        ("get",),
        "The caller's own recent jobs.",
        [TOKEN, _q("job_id", "Only this job."), _q("recent_days", "How far back.", kind="number")],
        {"200": _of("application/json", "Records.", {"type": "object"}), **ERRORS},
    ),
    "jobs.interfaces.oda.views.download_file": (
        ("get", "head"),
        "A file uploaded as a parameter, by its SHA-256: to its sender, a token with the roles recorded with it, "
        "or anyone for a file sent without a token. What backends fetch (with the owner's token).",
        [_q("file_list", "The file's SHA-256 (64 hex characters).", required=True),
         _q("return_archive", "False: the file as it is, not gzipped."),
         _q("download_file_name", "The name the browser saves."), TOKEN],
        {"200": _of("application/octet-stream", "The file."), "404": _json(ERROR, "No file with this hash."),
         **ERRORS},
    ),
    "dispatcher_site.token_views.refresh_token": (
        ("get",),
        "A re-signed token with a later expiry (role refresh-tokens).",
        [TOKEN, _q("refresh_interval", "Seconds to add.", kind="number")],
        {"200": _of("text/plain", "The new token."), **ERRORS},
    ),
    "dispatcher_site.token_views.update_token_email_options": (
        ("get",),
        "A re-signed token with new notification options.",
        [TOKEN, *(_q(name, f"Notification option {name}.") for name in
                  ("msdone", "mssub", "msfail", "mstout", "intsub", "tem"))],
        {"200": _of("text/plain", "The new token."), **ERRORS},
    ),
    "dispatcher_site.landing.landing": (
        ("get",),
        "What this service is, with links to these docs, the admin, /healthz and the README's sections.",
        [],
        {"200": _of("text/html", "The landing page.")},
    ),
    "dispatcher_site.landing.readme": (
        ("get",),
        "The README, a section per heading.",
        [],
        {"200": _of("text/html", "The README."), "404": _of("text/html", "No README with this installation.")},
    ),
    "dispatcher_site.landing.favicon": (("get",), "The site's icon.", [], {"200": _of("image/svg+xml", "An icon.")}),
    "dispatcher_site.health.healthz": (
        ("get",),
        "Readiness: the state of database and broker.",
        [],
        {"200": _of("application/json", "Ready.", {"type": "object"}),
         "503": _of("application/json", "A dependency is down.", {"type": "object"})},
    ),
    "jobs.interfaces.page.views.job_page": (
        ("get",),
        "The job's page for people (HTML), opened with a signed link or the owner's token.",
        [_q("link_token", "The signature of a link from a mail or a Matrix message."), TOKEN],
        {"200": _of("text/html", "The page."), "403": _of("text/html", "Not the caller's job, or a bad link."),
         "404": _of("text/html", "No such job.")},
    ),
    "jobs.interfaces.page.views.job_state": (
        ("get",),
        "The job's state as the page polls it, behind the same gate as the page.",
        [_q("link_token", "As for the page."), TOKEN],
        {"200": _of("application/json", "Status, timeline and products.", {"type": "object"}), **ERRORS,
         "404": _json(ERROR, "No such job.")},
    ),
    "jobs.interfaces.page.views.job_download": (
        ("get",),
        "A product file of a done job, behind the page's gate (so a signed link suffices).",
        [_q("file_list", "Comma-separated file names.", required=True), _q("link_token", "As for the page."),
         TOKEN],
        {"200": _of("application/octet-stream", "The file(s)."), **ERRORS, "404": _json(ERROR, "No such file.")},
    ),
}  # fmt: skip


# IVOA UWS 1.1 (jobs.interfaces.uws): XML documents; a POST that changes a job answers 303 to the job.
_UWS_XML = {
    "200": _of("text/xml", "A UWS document (or a plain value)."),
    "303": {"description": "See the job."},
    "403": _of("text/xml", "Not the caller's job."),
    "404": _of("text/xml", "No such job."),
}
_UWS = {
    "job_list": (("get", "post"), "UWS: the caller's jobs (GET, with PHASE/AFTER/LAST filters) or a new job (POST)."),
    "job_detail": (("get", "post", "delete"), "UWS: a job; POST ACTION=DELETE or DELETE archives it."),
    "job_phase": (("get", "post"), "UWS: the job's phase; POST PHASE=RUN or PHASE=ABORT."),
    "job_execution_duration": (("get", "post"), "UWS: the job's execution duration (seconds)."),
    "job_destruction": (("get", "post"), "UWS: the job's destruction time."),
    "job_error": (("get",), "UWS: the job's error summary."),
    "job_quote": (("get",), "UWS: the job's quote."),
    "job_owner": (("get",), "UWS: the job's owner."),
    "job_parameters": (("get", "post"), "UWS: the job's parameters."),
    "job_results": (("get",), "UWS: the job's results."),
    "job_result": (("get",), "UWS: the job's main result."),
    "job_result_file": (("get",), "UWS: one result file."),
}
OPERATIONS.update(
    {
        f"jobs.interfaces.uws.views.{name}": (methods, summary, [TOKEN], _UWS_XML)
        for name, (methods, summary) in _UWS.items()
    }
)

COMPONENTS = {
    "ProtocolError": {
        "type": "object",
        "required": ["error", "error_message", "exit_status"],
        "properties": {
            "error": {"type": "string"},
            "error_message": {"type": "string"},
            "error_code": {"type": "string", "description": "Stable, for scripts: job_not_found, roles_missing, ..."},
            "exit_status": {"type": "object", "properties": {"status": {"type": "integer"}}},
            "installed_instruments": {"type": "array", "items": {"type": "string"}},
        },
    },
    "ProtocolAnswer": {
        "type": "object",
        "required": ["query_status", "job_status", "session_id", "time_request", "job_monitor", "exit_status",
                     "products"],
        "properties": {
            "query_status": {"type": "string", "enum": ["submitted", "progress", "ready", "done", "failed"]},
            "job_status": {"type": "string"},
            "session_id": {"type": "string"},
            "time_request": {"type": "number"},
            "job_monitor": {"type": "object", "properties": {
                "job_id": {"type": "string"}, "session_id": {"type": "string"}, "status": {"type": "string"},
                "full_report_dict_list": {"type": "array", "items": {"type": "object"}}}},
            "exit_status": {"type": "object", "properties": {
                "status": {"type": "integer"}, "job_status": {"type": "string"}, "message": {"type": "string"},
                "error_message": {"type": "string"}, "comment": {"type": "string"}}},
            "products": {"type": "object", "description": "analysis_parameters, api_code, job_id, session_id, "
                         "and the product lists when done."},
        },
    },
}  # fmt: skip

_CONVERTER = re.compile(r"<(?:\w+:)?(\w+)>")


def protocol_paths_hook(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """Add the plain Django views' paths (see the module docstring) to the generated schema."""
    paths = result.setdefault("paths", {})
    for route, callback in plain_routes():
        described = OPERATIONS.get(f"{callback.__module__}.{callback.__name__}")
        if described is None or route in paths or route.startswith(PROTOCOL_PREFIX):
            continue
        paths[route] = _path_item(route, described)
    result.setdefault("components", {}).setdefault("schemas", {}).update(COMPONENTS)
    result["paths"] = dict(sorted(paths.items()))
    return result


def plain_routes() -> list[tuple[str, Any]]:
    """(OpenAPI path, view function) of every plain Django view, skipping the admin, DRF views and assets."""
    found: list[tuple[str, Any]] = []
    _walk(get_resolver().url_patterns, "/", found)
    return found


def _walk(patterns: list[Any], prefix: str, found: list[tuple[str, Any]]) -> None:
    for entry in patterns:
        route = getattr(entry.pattern, "_route", None)
        if route is None:  # a regular-expression route: the docs' static assets
            continue
        if isinstance(entry, URLResolver):
            if getattr(entry, "app_name", None) != "admin":
                _walk(entry.url_patterns, prefix + route, found)
        elif isinstance(entry, URLPattern) and not hasattr(entry.callback, "cls"):
            found.append((_CONVERTER.sub(r"{\1}", prefix + route), entry.callback))


def _path_item(route: str, described: tuple) -> dict[str, Any]:
    methods, summary, parameters, responses = described
    path_parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in re.findall(r"{(\w+)}", route)
    ]
    slug = re.sub(r"[^a-z0-9]+", "_", route.lower()).lstrip("_")
    tag = "job page" if route.startswith("/jobs/") else "UWS" if route.startswith("/uws/") else "ODA protocol"
    return {
        method: {
            "operationId": f"{slug}_{method}",
            "summary": summary,
            "tags": [tag],
            "parameters": [*path_parameters, *parameters],
            "security": [{BEARER: []}, {}],
            "responses": responses,
        }
        for method in methods
    }
