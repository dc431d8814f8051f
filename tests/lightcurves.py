"""A done demo-lightcurve job, as the built-in instrument makes it, for tests of what people see."""

from __future__ import annotations

import time

from instruments.base import Products, RunRequest
from instruments.builtin.lightcurve import DemoLightcurveAdapter
from jobs.models import Job
from jobs.services import job_get_or_create
from jobs.services.running import job_finish

PARAMS = {"src_name": "Crab", "RA": 83.63, "DEC": 22.01, "T1": "2017-03-06T13:26:48.000",
          "T2": "2017-03-06T15:32:27.000", "time_bin": 100.0}  # fmt: skip


def demo_lightcurve_products(**params) -> Products:
    request = RunRequest(job_id="0" * 64, instrument="demo-lightcurve", product_type="lightcurve",
                         params={**PARAMS, **params})  # fmt: skip
    return DemoLightcurveAdapter(name="demo-lightcurve").run(request).products


def done_lightcurve_job(*, owner: str, claims: dict | None = None, **params) -> Job:
    """A demo-lightcurve job of ``owner``, done with its products (numpy light curve, ECSV table, file)."""
    job, _ = job_get_or_create(owner=owner, instrument="demo-lightcurve", product_type="lightcurve",
                               params={**PARAMS, **params, "run": time.time()}, claims=claims or {})  # fmt: skip
    return job_finish(job_id=job.job_id, products=demo_lightcurve_products(**params))
