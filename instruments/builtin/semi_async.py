"""``empty-semi-async``: a backend that must be asked how it stands (no call-backs).

The rule, from the product parameter ``p`` (seconds):
- ``p <= 0``: done at once, in ``run``;
- ``p > 0``: ``run`` answers "progress"; ``poll`` answers "progress" until ``p``
  seconds after the run started, then "done". The start time travels in
  ``backend_ref``, so any worker may poll.
"""

from __future__ import annotations

import time

from instruments.base import Products, ProductSpec, RunOutcome, RunRequest
from instruments.builtin.common import BuiltinAdapter, text_product
from instruments.parameters import Float

PRODUCTS = {
    "dummy": ProductSpec(
        name="dummy",
        parameters=(Float("p", units="s", default=0, max_value=3600),),
        description="Done p seconds after it starts (at once when p <= 0); found by polling.",
    )
}


class EmptySemiAsyncAdapter(BuiltinAdapter):
    kind = "empty-semi-async"

    def describe(self) -> dict[str, ProductSpec]:
        return PRODUCTS

    def run(self, request: RunRequest) -> RunOutcome:
        seconds = float(request.params.get("p", 0))
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
        text = f"semi-async product after {seconds:g} s"
        return RunOutcome(state="done", products=Products(text_product_list=[text_product("dummy", text)]))
