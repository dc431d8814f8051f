"""``empty-async``: a backend that works on its own and reports through /call_back.

``run`` starts the simulated backend (a detached process) with the job's signed
call-back URL and answers "submitted"; the backend reports progress twice, then
done, about half a second apart. ``complete`` gives the products on done. Should
the call-backs never come, ``poll`` fails the job after ``give_up_s`` seconds
instead of leaving it waiting for ever.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from instruments.base import AdapterError, Products, ProductSpec, RunOutcome, RunRequest
from instruments.builtin.common import BuiltinAdapter, text_product

PROJECT_DIR = Path(__file__).resolve().parents[2]
PRODUCTS = {"dummy": ProductSpec(name="dummy", description="Done after a few call-backs from a simulated backend.")}


class EmptyAsyncAdapter(BuiltinAdapter):
    kind = "empty-async"

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
        products = Products(text_product_list=[text_product("dummy", "a dummy product, computed asynchronously")])
        return RunOutcome(state="done", products=products, message=str(report.get("message", "done")))

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
