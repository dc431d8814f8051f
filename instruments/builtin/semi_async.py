"""``empty-semi-async``: a backend that must be asked how it stands (no call-backs).

The rule of ``dummy``, from its parameter ``p`` (seconds):
- ``p == -1``: the backend fails (as the earlier dispatcher's instrument did);
- ``p <= 0`` otherwise: done at once, in ``run``;
- ``p > 0``: ``run`` answers "progress"; ``poll`` answers "progress" until ``p``
  seconds after the run started, then "done". The start time travels in
  ``backend_ref``, so any worker may poll.

``numerical`` (``p`` in W; role general, and unige-hpc-full above 50 W) answers
its image at once, and fails for ``p == -1`` as well.
"""

from __future__ import annotations

import time

from instruments.base import AdapterError, Products, ProductSpec, RunOutcome, RunRequest
from instruments.builtin.common import BuiltinAdapter, image_product, numerical_roles, power_parameter
from instruments.parameters import Float

FAILING_P = -1  # the value of p for which the backend fails
PRODUCTS = {
    "dummy": ProductSpec(
        name="dummy",
        parameters=(Float("p", units="s", default=0, min_value=-1, max_value=3600),),
        description="Done p seconds after it starts (at once when p <= 0, failed when p = -1); found by polling.",
    ),
    "numerical": ProductSpec(
        name="numerical",
        parameters=(power_parameter(max_value=None),),
        roles=frozenset({"general"}),
        roles_for_values=numerical_roles,
        description="An image of zeros, at once (failed when p = -1). Role general; p > 50 W also unige-hpc-full.",
    ),
}


class EmptySemiAsyncAdapter(BuiltinAdapter):
    kind = "empty-semi-async"

    def describe(self) -> dict[str, ProductSpec]:
        return PRODUCTS

    def run(self, request: RunRequest) -> RunOutcome:
        seconds = float(request.params.get("p", 0))
        if seconds == FAILING_P:
            raise AdapterError(f"{self.name} failed, as it does for p = {FAILING_P}.", retryable=False)
        if request.product_type == "numerical":
            image = image_product(instrument=self.name, params=request.params, asked=("p",))
            return RunOutcome(state="done", products=Products(numpy_data_product_list=[image]))
        if seconds <= 0:
            return self._done(seconds)
        done_at = time.time() + seconds
        return RunOutcome(
            state="progress",
            message=f"working for {seconds:g} s",
            backend_ref={"done_at": done_at},
            poll_after_s=min(seconds, 1.0),
        )

    def poll(self, request: RunRequest) -> RunOutcome:
        left = float(request.backend_ref.get("done_at", 0)) - time.time()
        if left <= 0:
            return self._done(float(request.params.get("p", 0)))
        return RunOutcome(
            state="progress",
            message=f"{left:.1f} s left",
            backend_ref=dict(request.backend_ref),
            poll_after_s=min(left, 1.0),
        )

    def _done(self, seconds: float) -> RunOutcome:
        products = Products(extra={"prod_process_message": ""})
        return RunOutcome(state="done", products=products, message=f"done after {seconds:g} s")
