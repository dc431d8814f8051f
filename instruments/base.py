"""The contract between the dispatcher and an instrument backend.

An adapter describes the products of one kind of backend, runs a request, and
turns the backend's answer into products in the protocol's lists. Adapters never
touch the ORM: the ``jobs`` services call them and record what they return.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from dispatcher_site.roles import Guarded, RolesNeeded

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from instruments.parameters import Parameter


# Request fields of the ODA protocol that steer the dispatcher: never an
# instrument parameter, so no adapter may offer a parameter of these names.
PROTOCOL_FIELDS = frozenset(
    {
        "instrument",
        "product_type",
        "query_type",
        "query_status",
        "job_id",
        "session_id",
        "token",
        "dry_run",
        "oda_api_version",
        "api",
        "off_line",
        "async_dispatcher",
        "verbose",
        # The frontend's "Return progress": asks for the backend's progress page, not for a job.
        "return_progress",
    }
)


class AdapterError(Exception):
    """The backend could not give an answer.

    ``retryable`` says whether asking again later can help (a timeout, a 503) or not
    (a notebook that raises, bad input the backend refused). ``message`` is shown to
    the user; ``debug`` is for operators only.
    """

    def __init__(self, message: str, *, retryable: bool = False, debug: str = ""):
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.debug = debug


@dataclass(frozen=True)
class ProductSpec:
    """One product an instrument offers, with the parameters it accepts."""

    name: str
    parameters: tuple[Parameter, ...] = ()
    roles: frozenset[str] = frozenset()
    description: str = ""
    # Roles that depend on the values asked for (e.g. a large `p` needs a bigger
    # allocation). Called with the normalized parameters; a RolesNeeded it returns
    # may say why each role is needed, which a refusal then quotes.
    roles_for_values: Callable[[Mapping[str, Any]], frozenset[str]] | None = None
    # Products that only answer a particular query_type (e.g. `dummy` needs "Dummy").
    query_types: frozenset[str] = frozenset({"Real", "Dummy"})

    def required_roles(self, params: Mapping[str, Any]) -> RolesNeeded:
        extra = self.roles_for_values(params) if self.roles_for_values else frozenset()
        return RolesNeeded(extra, guarded=Guarded.PRODUCT, reasons=getattr(extra, "reasons", None)).with_roles(
            self.roles
        )


@dataclass(frozen=True)
class RunRequest:
    """What an adapter is asked to do; built by the jobs services from a Job row."""

    job_id: str
    instrument: str
    product_type: str
    params: Mapping[str, Any]
    query_type: str = "Real"
    owner: str = ""
    # Signed URL the backend may report progress to (GET or POST, the /call_back fields).
    callback_url: str = ""
    # What the adapter returned in RunOutcome.backend_ref on an earlier step.
    backend_ref: Mapping[str, Any] = field(default_factory=dict)
    # The job's attempt (a failed job asked for again runs as attempt 2, 3...), and the
    # call of the backend within it (retries after transient errors).
    attempt: int = 1
    call: int = 1
    # The owner's token, for a backend that acts for the person who asked (nb2workflow
    # passes it to the notebook as _token); empty for a public job. Never kept, never shown.
    owner_token: str = field(default="", repr=False)


@dataclass
class Products:
    """A finished job's products, in the protocol's lists (docs/protocol.md)."""

    numpy_data_product_list: list[dict[str, Any]] = field(default_factory=list)
    binary_data_product_list: list[dict[str, Any]] = field(default_factory=list)
    astropy_table_product_ascii_list: list[dict[str, Any]] = field(default_factory=list)
    binary_image_product_list: list[dict[str, Any]] = field(default_factory=list)
    text_product_list: list[dict[str, Any]] = field(default_factory=list)
    catalog: dict[str, Any] | None = None
    # Files offered by /download_products: name -> content. Names are plain file names.
    files: dict[str, bytes] = field(default_factory=dict)
    # Shown to the user in exit_status.comment (e.g. a workflow's own comment).
    comment: str = ""
    # Anything else to place in the answer's `products` (e.g. echoed parameters).
    extra: dict[str, Any] = field(default_factory=dict)

    PROTOCOL_LISTS: ClassVar[tuple[str, ...]] = (
        "numpy_data_product_list",
        "binary_data_product_list",
        "astropy_table_product_ascii_list",
        "binary_image_product_list",
        "text_product_list",
    )

    def as_protocol(self) -> dict[str, Any]:
        """The lists that go into the answer's `products`, empty ones left out."""
        answer: dict[str, Any] = dict(self.extra)
        for name in self.PROTOCOL_LISTS:
            if getattr(self, name):
                answer[name] = getattr(self, name)
        if self.catalog is not None:
            answer["catalog"] = self.catalog
        if self.files:
            answer["file_list"] = sorted(self.files)
        return answer


@dataclass
class RunOutcome:
    """Where a backend stands after run(), poll() or a call-back.

    ``state`` is "done" (products present), "submitted" or "progress" (the backend
    works on; it will call back, or poll() is asked later). A failure is an
    AdapterError, never an outcome.
    """

    state: Literal["done", "submitted", "progress"]
    products: Products | None = None
    message: str = ""
    backend_ref: dict[str, Any] = field(default_factory=dict)
    # Seconds until poll() is worth asking; None: wait for call-backs alone.
    poll_after_s: float | None = None


class Adapter:
    """Base of every kind of instrument backend.

    Subclasses set ``kind`` and implement ``describe`` and ``run``. An adapter
    object is built from an Instrument row's name and settings; it must be cheap to
    build and safe to share between threads.
    """

    kind: ClassVar[str] = ""
    # Whether progress_page() is served: the frontend's "Return progress" link (/api/meta-data says so).
    returns_progress: ClassVar[bool] = False

    def __init__(self, *, name: str, settings: Mapping[str, Any] | None = None):
        self.name = name
        self.settings = dict(settings or {})

    def describe(self) -> dict[str, ProductSpec]:
        """The products this instrument offers, by name."""
        raise NotImplementedError

    def common_parameters(self) -> tuple[Parameter, ...]:
        """Parameters every product accepts (source, coordinates, time range)."""
        return ()

    def run(self, request: RunRequest) -> RunOutcome:
        """Start or perform the work; may block for a synchronous backend."""
        raise NotImplementedError

    def answers_at_once(self, product_type: str) -> bool:
        """Whether run() for this product is a pure computation of well under a
        millisecond (no I/O), which the web request may do itself instead of
        queueing it. Never true for a backend reached over the network."""
        return False

    def poll(self, request: RunRequest) -> RunOutcome:
        """Ask the backend how the work stands (fallback when call-backs do not come)."""
        return RunOutcome(state="progress", backend_ref=dict(request.backend_ref))

    def complete(self, request: RunRequest, report: Mapping[str, Any]) -> RunOutcome:
        """The backend reported `done`: gather the products (by default, by polling)."""
        return self.poll(request)

    def check(self) -> str:
        """Reach the backend and say how it is; raise AdapterError when unreachable."""
        return "ok"

    def progress_page(self, request: RunRequest) -> str:
        """An HTML page of how the work stands now, without waiting (only when ``returns_progress``).

        Raise AdapterError when the backend cannot tell.
        """
        raise NotImplementedError
