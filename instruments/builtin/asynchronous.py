"""``empty-async`` and ``empty-async-return-progress``: backends that work on their own
and report through /call_back.

``run`` starts the simulated backend (a detached process) with the job's signed
call-back URL and answers "submitted"; the backend reports progress twice, then
done, about half a second apart. ``complete`` gives the products on done. Should
the call-backs never come, ``poll`` fails the job after ``give_up_s`` seconds
instead of leaving it waiting for ever.

Products, as the earlier dispatcher's instruments of these names offered them:
``empty-async``: ``dummy`` and ``dummy-log-submit`` (no product), ``numerical``
(an image; role general, and unige-hpc-full above 50 W);
``empty-async-return-progress``: ``dummy``, answering its ``p`` as ``products.p``; with
``return_progress=True`` a small progress page (``progress_page``).
"""

from __future__ import annotations

import html
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from instruments.base import AdapterError, Products, ProductSpec, RunOutcome, RunRequest
from instruments.builtin.common import (
    BuiltinAdapter,
    image_product,
    input_products,
    numerical_roles,
    power_parameter,
)
from instruments.parameters import Float, String

PROJECT_DIR = Path(__file__).resolve().parents[2]
PRODUCTS = {
    "dummy": ProductSpec(name="dummy", description="Done after a few call-backs from a simulated backend."),
    "dummy-log-submit": ProductSpec(
        name="dummy-log-submit", description="As dummy; kept for scripts that ask for it by this name."
    ),
    "numerical": ProductSpec(
        name="numerical",
        parameters=(power_parameter(max_value=None), String("string_like_name", default="default-name")),
        roles=frozenset({"general"}),
        roles_for_values=numerical_roles,
        description="An image of zeros, after the call-backs. Needs role general; p > 50 W also unige-hpc-full.",
    ),
}
RETURN_PROGRESS_PRODUCTS = {
    "dummy": ProductSpec(
        name="dummy",
        parameters=(Float("p", units="W", default=10),),
        description="Answers its p as products.p after the call-backs.",
    )
}


class EmptyAsyncAdapter(BuiltinAdapter):
    kind = "empty-async"
    instrument_parameters = (input_products("scw_list"),)

    def describe(self) -> dict[str, ProductSpec]:
        return PRODUCTS

    def run(self, request: RunRequest) -> RunOutcome:
        if not request.callback_url:
            raise AdapterError("empty-async needs a call-back URL to report to", retryable=False)
        started_at = time.time()
        self._start_backend(request)
        give_up_s = float(self.settings.get("give_up_s", 60))
        return RunOutcome(
            state="submitted",
            message="submitted to the simulated backend",
            backend_ref={"started_at": started_at, "give_up_at": started_at + give_up_s},
            poll_after_s=give_up_s,
        )

    def poll(self, request: RunRequest) -> RunOutcome:
        give_up_at = float(request.backend_ref.get("give_up_at", 0))
        if time.time() >= give_up_at:
            raise AdapterError("The simulated backend never reported done.", retryable=False)
        return RunOutcome(
            state="progress", backend_ref=dict(request.backend_ref), poll_after_s=give_up_at - time.time()
        )

    def complete(self, request: RunRequest, report: Mapping[str, Any]) -> RunOutcome:
        return RunOutcome(state="done", products=self.products(request), message=str(report.get("message", "done")))

    def products(self, request: RunRequest) -> Products:
        if request.product_type == "numerical":
            image = image_product(instrument=self.name, params=request.params, asked=("p", "string_like_name"))
            return Products(numpy_data_product_list=[image])
        return Products(extra={"prod_process_message": ""})

    def _start_backend(self, request: RunRequest) -> None:
        argv = [sys.executable, "-m", "instruments.builtin.simulated_backend"]
        argv += ["--callback-url", request.callback_url, "--job-id", request.job_id]
        argv += ["--instrument-name", self.name, "--step-s", str(self.settings.get("step_s", 0.5))]
        # Its own session: the backend outlives a worker that is restarted meanwhile.
        process = subprocess.Popen(
            argv,
            cwd=PROJECT_DIR,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        # Reap it when it ends, so that a long-lived worker collects no zombies.
        threading.Thread(target=process.wait, daemon=True, name=f"simulated-backend-{process.pid}").start()


class EmptyAsyncReturnProgressAdapter(EmptyAsyncAdapter):
    """The instrument the frontend's "Return progress" link is tried on: an ordinary run, and
    ``return_progress=True`` answers a small progress page (its p, and how long it has run)."""

    kind = "empty-async-return-progress"
    returns_progress = True

    def progress_page(self, request: RunRequest) -> str:
        started_at = (request.backend_ref or {}).get("started_at")
        running = f"<p>running for {time.time() - float(started_at):.1f} s</p>" if started_at else ""
        p_value = html.escape(str(request.params.get("p")))
        return f'<div class="progress-page"><p>current p value is {p_value}</p>{running}</div>'

    def describe(self) -> dict[str, ProductSpec]:
        return RETURN_PROGRESS_PRODUCTS

    def products(self, request: RunRequest) -> Products:
        return Products(extra={"p": request.params["p"]})
