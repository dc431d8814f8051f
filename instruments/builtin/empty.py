"""``empty``: an instrument without a backend, answering at once.

Its products exercise the dispatcher itself: query types (``dummy``), parameter
normalization (``echo``), bounds and role gates (``numerical``) and failures
(``failing``). ``empty-development`` is this kind with an instrument role.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from instruments.base import AdapterError, Products, ProductSpec, RunOutcome, RunRequest
from instruments.builtin.common import BuiltinAdapter, text_product
from instruments.parameters import Float

BIG_P_W = 50  # above this, `numerical` needs the HPC allocation role


def _numerical_roles(params: Mapping[str, Any]) -> frozenset[str]:
    return frozenset({"unige-hpc-full"}) if params.get("p", 0) > BIG_P_W else frozenset()


PRODUCTS: dict[str, ProductSpec] = {
    "dummy": ProductSpec(
        name="dummy", description="A fixed answer for query_type=Dummy.", query_types=frozenset({"Dummy"})
    ),
    "echo": ProductSpec(name="echo", description="The normalized parameters, as the dispatcher understood them."),
    "numerical": ProductSpec(
        name="numerical",
        parameters=(Float("p", units="W", default=10, max_value=800),),
        roles=frozenset({"general"}),
        roles_for_values=_numerical_roles,
        description=f"Needs role general; p > {BIG_P_W} W also needs unige-hpc-full.",
    ),
    "failing": ProductSpec(name="failing", description="Always fails, as a backend error would."),
}


class EmptyAdapter(BuiltinAdapter):
    kind = "empty"

    def describe(self) -> dict[str, ProductSpec]:
        return PRODUCTS

    def answers_at_once(self, product_type: str) -> bool:
        # Every product here is a few lines of pure Python.
        return product_type in PRODUCTS

    def run(self, request: RunRequest) -> RunOutcome:
        runner = getattr(self, f"_run_{request.product_type}", None)
        if runner is None:
            raise AdapterError(f"{self.name} has no product {request.product_type}")
        return RunOutcome(state="done", products=runner(request), message="done")

    def _run_dummy(self, request: RunRequest) -> Products:
        return Products(text_product_list=[text_product("dummy", "a dummy product", instrument=self.name)])

    def _run_echo(self, request: RunRequest) -> Products:
        params = dict(request.params)
        text = json.dumps(params, sort_keys=True)
        return Products(text_product_list=[text_product("echo", text)], extra={"echo": params})

    def _run_numerical(self, request: RunRequest) -> Products:
        p = request.params["p"]
        return Products(
            text_product_list=[text_product("numerical", f"p = {p} W", p=p, units="W")],
            extra={"numerical": {"p": p, "units": "W"}},
        )

    def _run_failing(self, request: RunRequest) -> Products:
        raise AdapterError(
            "The product 'failing' of instrument empty always fails: this is a test of failure reporting.",
            retryable=False,
            debug=f"job {request.job_id} asked for the failing product",
        )
