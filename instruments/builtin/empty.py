"""The ``empty`` family: instruments without a backend, answering at once.

The earlier dispatcher's test instruments, under their names and with their
products, so that scripts and tests written for it work here unchanged:

- ``empty``: ``dummy`` (no product, query_type Dummy), ``numerical`` (an image;
  role general, and unige-hpc-full above 50 W), ``file_dummy`` (``numerical``
  with a file reference, and a file to download), ``failing``, ``parametrical``
  (an energy boundary, no product), ``echo`` (the values as understood),
  ``restricted`` (bounded and enumerated values), ``structured`` (a JSON value),
  ``optional`` (optional values);
- ``empty-development``: the first five of those, for role ``oda workflow developer``
  (the role is its instrument row's; see ``instruments.builtin``);
- ``empty-with-conf``: ``dummy``, whose comment shows the ``products_url``
  configured for it in the admin (its Instrument row's settings);
- ``empty-with-posix-path``: ``file_dummy`` with a POSIX path parameter.

No product here gives a text product: ``oda-api get`` prints every product's
data units, and a text product has none.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from instruments.base import AdapterError, Products, ProductSpec, RunOutcome, RunRequest
from instruments.builtin.common import (
    BuiltinAdapter,
    image_product,
    input_products,
    numerical_roles,
    power_parameter,
)
from instruments.parameters import Angle, Energy, Enum, FileURL, Float, Integer, POSIXPath, String, Structured

DUMMY = ProductSpec(
    name="dummy",
    description="Done at once, without products; answers query_type=Dummy.",
    query_types=frozenset({"Dummy"}),
)
NUMERICAL = ProductSpec(
    name="numerical",
    parameters=(power_parameter(),),
    roles=frozenset({"general"}),
    roles_for_values=numerical_roles,
    description="An image of zeros. Needs role general; p > 50 W also needs unige-hpc-full.",
)
FILE_DUMMY = ProductSpec(
    name="file_dummy",
    parameters=(power_parameter(), FileURL("dummy_file", optional=True)),
    roles=frozenset({"general"}),
    roles_for_values=numerical_roles,
    description="As numerical, with a file given by URL; also offers a file to download.",
)
FAILING = ProductSpec(name="failing", description="Always fails, as a backend error would.")
PARAMETRICAL = ProductSpec(
    name="parametrical",
    parameters=(Energy("sb", default=10),),
    description="An energy boundary (keV); done without products.",
)
ENERGY_UNITS = ("eV", "keV", "MeV", "GeV", "TeV")
ECHO = ProductSpec(
    name="echo",
    parameters=(
        Angle("ang", units="arcsec", default=1),
        Angle("ang_deg", default=1),
        Energy("energ", units="MeV", units_parameter="energy_units", default=1),
        Enum("energy_units", allowed_values=ENERGY_UNITS, default="MeV"),
    ),
    description="The normalized values, as the dispatcher understood them (products.echo).",
)
RESTRICTED = ProductSpec(
    name="restricted",
    parameters=(
        Integer("bounded_int_par", default=5, min_value=2, max_value=8),
        Float("bounded_float_par", default=5, min_value=2.2, max_value=7.7),
        String("string_select_par", default="spam", allowed_values=("spam", "eggs", "ham")),
    ),
    description="Echoes values restricted by bounds and allowed values.",
)
STRUCTURED = ProductSpec(
    name="structured",
    parameters=(Structured("struct", schema={"type": ["object", "array"]}, default={"a": [1, 2]}),),
    description="Echoes a structured (JSON) value.",
)
OPTIONAL = ProductSpec(
    name="optional",
    parameters=(Float("optional_def_float", default=5, optional=True), Float("optional_def_none", optional=True)),
    description="Echoes optional values, one without a default.",
)
POSIX_FILE_DUMMY = ProductSpec(
    name="file_dummy",
    parameters=(POSIXPath("dummy_POSIX_file", optional=True), power_parameter()),
    roles=frozenset({"general"}),
    roles_for_values=numerical_roles,
    description="As numerical, with a file parameter (a URL or a path); also offers a file to download.",
)
CONFIGURED_DUMMY = ProductSpec(name="dummy", description="Done at once; its comment shows the configured products_url.")

PRODUCTS: dict[str, ProductSpec] = {
    spec.name: spec
    for spec in (DUMMY, NUMERICAL, FILE_DUMMY, FAILING, PARAMETRICAL, ECHO, RESTRICTED, STRUCTURED, OPTIONAL)
}
ECHOING = frozenset({"echo", "restricted", "structured", "optional"})


class EmptyAdapter(BuiltinAdapter):
    kind = "empty"
    instrument_parameters = (input_products("p_list"),)
    products: ClassVar[dict[str, ProductSpec]] = PRODUCTS

    def describe(self) -> dict[str, ProductSpec]:
        return self.products

    def answers_at_once(self, product_type: str) -> bool:
        # Every product here is a few lines of pure Python.
        return product_type in self.products

    def run(self, request: RunRequest) -> RunOutcome:
        if request.product_type not in self.products:
            raise AdapterError(f"{self.name} has no product {request.product_type}")
        return RunOutcome(state="done", products=self._runner(request.product_type)(request), message="done")

    def _runner(self, product_type: str) -> Callable[[RunRequest], Products]:
        if product_type in ECHOING:
            return self._run_echo
        return getattr(self, f"_run_{product_type}", self._run_nothing)

    def _run_nothing(self, request: RunRequest) -> Products:
        # dummy, parametrical: the request went through; there is nothing to show.
        return Products(extra={"prod_process_message": ""})

    def _run_echo(self, request: RunRequest) -> Products:
        return Products(extra={"echo": dict(request.params)})

    def _run_numerical(self, request: RunRequest) -> Products:
        own = tuple(p.name for p in self.products[request.product_type].parameters)
        image = image_product(instrument=self.name, params=request.params, asked=own)
        return Products(numpy_data_product_list=[image])

    def _run_file_dummy(self, request: RunRequest) -> Products:
        products = self._run_numerical(request)
        reference = next(
            (request.params[p.name] for p in self.products["file_dummy"].parameters if p.type_name == "file"), None
        )
        text = f"file_dummy of {self.name}: p = {request.params['p']} W, file: {reference or 'none given'}\n"
        products.files = {"file_dummy.txt": text.encode()}
        return products

    def _run_failing(self, request: RunRequest) -> Products:
        raise AdapterError(
            f"The product 'failing' of instrument {self.name} always fails: this is a test of failure reporting.",
            retryable=False,
            debug=f"job {request.job_id} asked for the failing product",
        )


class EmptyDevelopmentAdapter(EmptyAdapter):
    kind = "empty-development"
    products = {name: PRODUCTS[name] for name in ("dummy", "numerical", "failing", "parametrical", "echo")}


class EmptyWithConfAdapter(EmptyAdapter):
    """Its one product shows what staff configured for it (settings ``products_url``)."""

    kind = "empty-with-conf"
    products = {"dummy": CONFIGURED_DUMMY}

    def _run_dummy(self, request: RunRequest) -> Products:
        url = self.settings.get("products_url") or ""
        return Products(comment=f"dataserver products url: {url}")


class EmptyWithPosixPathAdapter(EmptyAdapter):
    """``file_dummy`` with a POSIX path parameter: a URL or a path, kept as given (uploads are not handled)."""

    kind = "empty-with-posix-path"
    products = {"file_dummy": POSIX_FILE_DUMMY}
