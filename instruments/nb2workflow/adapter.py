"""The nb2workflow adapter: HTTP calls, the options cache, run/poll/complete/check."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import requests

from instruments.base import Adapter, AdapterError, ProductSpec, RunOutcome, RunRequest
from instruments.nb2workflow.answers import Reading, read_answer
from instruments.nb2workflow.discovery import Discovery, NameMap, discover
from instruments.ontology import Ontology, ontology_load

log = logging.getLogger(__name__)

OPTIONS_PATH = "/api/v1.0/options"
RUN_PATH = "/api/v1.0/get/"
CONNECT_TIMEOUT_S = 10.0
DEFAULTS: dict[str, Any] = {
    "async": True,
    # The owner's token goes to the notebook as _token (never for public requests).
    "pass_token": True,
    "options_ttl_s": 60.0,
    "poll_interval_s": 10.0,
    "poll_max_interval_s": 120.0,
}
_FALSE_WORDS = frozenset({"false", "no", "off", "0", ""})


class Nb2workflowAdapter(Adapter):
    """An instrument served by an nb2workflow backend (see the package docstring)."""

    kind = "nb2workflow"
    auto_instrument = False  # needs a URL: configured by a row or DISPATCHER_NB2W_BACKENDS
    returns_progress = True  # the notebook's trace page (.progress)

    def __init__(self, *, name: str, settings: Mapping[str, Any] | None = None):
        super().__init__(name=name, settings=settings)
        self._lock = threading.Lock()
        self._discovery: Discovery | None = None
        self._fetched_at = 0.0

    # --- settings -------------------------------------------------------------

    @property
    def url(self) -> str:
        return str(self.settings.get("url") or "").rstrip("/")

    def _setting(self, key: str) -> Any:
        return self.settings.get(key, DEFAULTS.get(key))

    def _timeout_s(self) -> float:
        from django.conf import settings

        return float(self.settings.get("timeout_s") or settings.BACKEND_TIMEOUT_S)

    def _sync_timeout_s(self) -> float:
        from django.conf import settings

        # Below the task's own limit, so that a slow notebook fails the job cleanly.
        fallback = max(self._timeout_s(), 0.8 * settings.TASK_TIMEOUT_S)
        return float(self.settings.get("sync_timeout_s") or fallback)

    def _is_async(self) -> bool:
        return self._flag("async")

    def _flag(self, key: str) -> bool:
        value = self._setting(key)
        return str(value).strip().lower() not in _FALSE_WORDS if isinstance(value, str) else bool(value)

    def _ontology(self) -> Ontology:
        from django.conf import settings

        return ontology_load(self.settings.get("ontology_path") or settings.ONTOLOGY_PATH)

    # --- discovery ------------------------------------------------------------

    def describe(self) -> dict[str, ProductSpec]:
        return self.discovery().products

    def common_parameters(self) -> tuple[Any, ...]:
        return self.discovery().common

    def discovery(self, *, refresh: bool = False) -> Discovery:
        """The backend's options, read at most once per ``options_ttl_s``.

        When a refresh fails, the last good answer is kept (the backend may be
        restarting); with none, the failure is raised.
        """
        ttl = float(self._setting("options_ttl_s"))
        with self._lock:
            if self._discovery is not None and not refresh and time.monotonic() - self._fetched_at < ttl:
                return self._discovery
        try:
            options = self._options()
        except AdapterError as error:
            if self._discovery is None:
                raise
            log.warning("nb2workflow %s: options refresh failed, keeping the last ones: %s", self.name, error)
            return self._discovery
        discovery = discover(options, self._ontology())
        with self._lock:
            self._discovery, self._fetched_at = discovery, time.monotonic()
        return discovery

    def _options(self) -> dict[str, Any]:
        response = self._get(OPTIONS_PATH, timeout_s=self._timeout_s())
        try:
            options = response.json()
        except ValueError:
            options = None
        if response.status_code != 200 or not isinstance(options, dict):
            raise AdapterError(
                f"The {self.name} backend at {self.url} did not describe its products "
                f"(HTTP {response.status_code} on {OPTIONS_PATH}).",
                retryable=response.status_code >= 500,
                debug=response.text[:1000],
            )
        return options

    # --- running --------------------------------------------------------------

    def run(self, request: RunRequest) -> RunOutcome:
        return self._ask(request, self._query(request), polls=0)

    def poll(self, request: RunRequest) -> RunOutcome:
        """Ask again with the same arguments: nb2workflow answers the same job by them."""
        ref = dict(request.backend_ref or {})
        query = ref.get("query") or self._query(request)
        return self._ask(request, dict(query), polls=int(ref.get("polls", 0)) + 1)

    def complete(self, request: RunRequest, report: Mapping[str, Any]) -> RunOutcome:
        """The backend called back ``done`` (also sent on failure): fetch the final answer."""
        return self.poll(request)

    def _query(self, request: RunRequest) -> dict[str, str]:
        discovery = self.discovery()
        names = discovery.names.get(request.product_type)
        if names is None:
            offered = ", ".join(sorted(discovery.products)) or "none"
            raise AdapterError(
                f"The {self.name} backend offers no product {request.product_type} (it offers: {offered})."
            )
        query = notebook_arguments(request.params, names)
        if self._is_async():
            query["_async_request"] = "yes"
            if request.callback_url:
                query["_async_request_callback"] = request.callback_url
        return query

    def _ask(self, request: RunRequest, query: dict[str, str], *, polls: int) -> RunOutcome:
        timeout_s = self._timeout_s() if "_async_request" in query else self._sync_timeout_s()
        # The token is added to each call, never to the query kept in backend_ref (the job row).
        arguments = {**query, **self._token_argument(request)}
        response = self._get(RUN_PATH + quote(request.product_type, safe=""), params=arguments, timeout_s=timeout_s)
        outputs = self.discovery().outputs.get(request.product_type, {})
        reading = read_answer(
            response.status_code, response.text, instrument=self.name, outputs=outputs, ontology=self._ontology()
        )
        return self._outcome(request, reading, query, polls)

    def _outcome(self, request: RunRequest, reading: Reading, query: dict[str, str], polls: int) -> RunOutcome:
        if reading.status == "done":
            return RunOutcome(state="done", products=reading.products, message="notebook finished")
        ref = {"query": query, "polls": polls, "workflow_status": reading.status}
        # Each message becomes a job event: say only what changed, not every poll.
        changed = (request.backend_ref or {}).get("workflow_status") != reading.status
        return RunOutcome(
            state="submitted" if reading.status == "submitted" else "progress",
            backend_ref=ref,
            message=f"backend: {reading.comment or reading.status}" if changed else "",
            poll_after_s=self._poll_delay_s(polls),
        )

    def _token_argument(self, request: RunRequest) -> dict[str, str]:
        """``_token``: the owner's token, for the notebook and the files it fetches from us.

        Only when the instrument passes tokens (setting ``pass_token``, on by default);
        never for a public request. A notebook parameter named ``token`` is offered as
        ``token_rename``, so the two never meet.
        """
        token = request.owner_token if self._flag("pass_token") else ""
        return {"_token": token} if token else {}

    def _poll_delay_s(self, polls: int) -> float:
        """Twice as long after each poll, capped; and below the instrument's silence limit.

        The jobs sweep fails a job silent for longer than ``timeout_s``; each poll
        answer counts as a sign of life, so polls must come more often than that.
        """
        ceiling = min(float(self._setting("poll_max_interval_s")), self._timeout_s() / 2)
        first = float(self._setting("poll_interval_s"))
        return max(0.1, min(first * 2 ** min(polls, 16), ceiling))

    def progress_page(self, request: RunRequest) -> str:
        from instruments.nb2workflow.progress import progress_page

        return progress_page(self, request)

    # --- health ---------------------------------------------------------------

    def check(self) -> str:
        response = self._get("/", timeout_s=self._timeout_s())
        if response.status_code != 200:
            raise AdapterError(
                f"The {self.name} backend at {self.url} answered HTTP {response.status_code}.",
                retryable=True,
                debug=response.text[:1000],
            )
        try:
            message = str(response.json().get("message", "ok"))
        except (ValueError, AttributeError):
            message = "ok"
        products = sorted(self.discovery(refresh=True).products)
        return f"{message} ({self.url}; products: {', '.join(products) or 'none'})"

    # --- HTTP -----------------------------------------------------------------

    def _get(self, path: str, *, params: Mapping[str, str] | None = None, timeout_s: float) -> requests.Response:
        if not self.url:
            raise AdapterError(f"The instrument {self.name} has no backend URL configured (settings 'url').")
        url = self.url + path
        # Errors of requests quote the URL, query included: never with the owner's token.
        secret = (params or {}).get("_token")
        try:
            return requests.get(url, params=params, timeout=(min(CONNECT_TIMEOUT_S, timeout_s), timeout_s))
        except requests.Timeout as error:
            raise AdapterError(
                f"The {self.name} backend at {self.url} did not answer within {timeout_s:g} s.",
                retryable=True,
                debug=_without(repr(error), secret),
            ) from None
        except requests.RequestException as error:
            raise AdapterError(
                f"The {self.name} backend at {self.url} could not be reached.",
                retryable=True,
                debug=_without(repr(error), secret),
            ) from None


def _without(text: str, secret: str | None) -> str:
    return text.replace(secret, "[redacted]") if secret else text


def notebook_arguments(params: Mapping[str, Any], names: NameMap) -> dict[str, str]:
    """Our normalized values as the notebook's request arguments (text, by its names)."""
    arguments = {}
    for ours, value in params.items():
        notebook_name = names.to_notebook.get(ours)
        if notebook_name is None:
            continue  # e.g. T_format, or a common parameter this notebook does not take
        if ours in names.time_formats:
            value = time_in_format(value, names.time_formats[ours])
        if ours in names.scales and isinstance(value, int | float) and not isinstance(value, bool):
            value = float(f"{value / names.scales[ours]:.12g}")
        arguments[notebook_name] = encode_value(value)
    return arguments


def encode_value(value: Any) -> str:
    """nb2workflow's reading of request text: "\\x00" is None, lists and dicts are JSON."""
    if value is None:
        return "\x00"
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, list | dict):
        return json.dumps(value)
    return repr(value) if isinstance(value, float) else str(value)


def time_in_format(value: Any, time_format: str) -> Any:
    """Our ISO-T time as the notebook wants it (an MJD number for MJD parameters)."""
    if time_format != "mjd" or not isinstance(value, str):
        return value
    from astropy.time import Time

    try:
        return float(Time(value, format="isot", scale="utc").mjd)
    except ValueError:
        return value  # the backend will say what is wrong with it
