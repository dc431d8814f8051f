"""nb2workflow backends at full strength, end to end: the live service (gunicorn + workers)
in front of a real nb2workflow serving tests/notebooks/full/, with the ODA ontology.

- ``file_stats``: a ``POSIXPath`` parameter. A file sent as a multipart part is kept here,
  the notebook receives its URL; nb2workflow fetches it from us with the owner's token
  (``_token``), and the products are computed from the file's content.
- ``bounded``: ``extra_ttl`` annotations (bounds, allowed values, label, group,
  description) and an ontology term with bounds of its own (``oda:ISGRIEnergy``): we
  refuse values out of them with a 400, and /api/meta-data shows them.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from dispatcher_site.tokens import token_issue
from jobs.models import Upload
from tests.conftest import free_port
from tests.live import LiveService
from tests.nb2w_server import Nb2wService, nb2w_venv
from tests.ontology import oda_ontology_path

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "tests" / "notebooks" / "full"
INSTRUMENT = "nb2w-full"
DONE_WITHIN_S = 120.0


@pytest.fixture(scope="module")
def notebooks(tmp_path_factory):
    service = Nb2wService(nb2w_venv(), tmp_path_factory.mktemp("nb2w-full"), source=NOTEBOOKS, expected="file_stats")
    service.start()
    yield service
    service.stop()


@pytest.fixture(scope="module")
def dispatcher(django_db_setup, django_db_blocker, tmp_path_factory, notebooks):
    ontology = oda_ontology_path()
    backends = f"{INSTRUMENT}={notebooks.url}"
    environment = {"DISPATCHER_NB2W_BACKENDS": backends, "DISPATCHER_ONTOLOGY_PATH": str(ontology)}
    with django_db_blocker.unblock():
        service = LiveService(free_port(), tmp_path_factory.mktemp("live-full") / "service.log", environment)
        service.start()
    yield service
    service.stop()


@pytest.fixture
def alice():
    return token_issue(email="alice@example.org", roles=["general"])


@pytest.fixture
def charlie():
    return token_issue(email="charlie@example.org", roles=["general"])


def events(label: str, rows: int) -> bytes:
    """A small event list; each test its own (nb2workflow caches runs by their arguments)."""
    lines = ["time,energy,label"] + [f"{i * 0.5},{10 + i},{label}" for i in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def frontend_fields(token: str | None, **more: str) -> dict[str, str]:
    """What the frontend's form sends (no api=True): file parameters with <name>_type."""
    fields = {
        "instrument": INSTRUMENT,
        "product_type": "file_stats",
        "query_status": "new",
        "session_id": "new",
        "job_id": "",
        "events_file_type": "file",
        "column": "1",
        **more,
    }
    if token:
        fields["token"] = token
    return fields


def post(dispatcher, fields: dict[str, str], files: dict[str, Any] | None = None) -> requests.Response:
    return requests.post(f"{dispatcher.url}/dispatch-data/run_analysis", data=fields, files=files, timeout=60)


def until_finished(dispatcher, fields: dict[str, str], first: dict[str, Any], files=None) -> dict[str, Any]:
    """Ask again as a client does (the same fields, with the job id and status of the last answer)."""
    answer, deadline = first, time.monotonic() + DONE_WITHIN_S
    while answer["query_status"] not in ("done", "failed"):
        assert time.monotonic() < deadline, f"not finished after {DONE_WITHIN_S} s: {answer['query_status']}"
        time.sleep(1)
        asked = {
            **fields,
            "job_id": answer["job_monitor"]["job_id"],
            "session_id": answer["session_id"],
            "query_status": answer["query_status"],
        }
        response = post(dispatcher, asked, files)
        assert response.status_code == 200, response.text
        answer = response.json()
    return answer


def api_answer(dispatcher, job_id: str, token: str | None) -> dict[str, Any]:
    """The finished job as oda-api reads it (api=True: the protocol's product lists)."""
    fields = {"instrument": INSTRUMENT, "job_id": job_id, "query_status": "ready", "api": "True"}
    if token:
        fields["token"] = token
    return requests.get(f"{dispatcher.url}/run_analysis", params=fields, timeout=30).json()


def file_url(dispatcher, content: bytes) -> str:
    """Where the live service keeps a file sent to it (its DISPATCHER_PUBLIC_URL is its own address)."""
    sha256 = hashlib.sha256(content).hexdigest()
    return f"{dispatcher.url}/dispatch-data/download_file?file_list={sha256}&_is_mmoda_url=True&return_archive=False"


def texts(answer: dict[str, Any]) -> dict[str, Any]:
    return {entry["name"]: entry for entry in answer["products"].get("text_product_list", [])}


# --- files -----------------------------------------------------------------------------------------


def test_the_frontends_multipart_request_runs_the_notebook_on_the_uploaded_file(dispatcher, alice):
    content = events("frontend", rows=7)
    files = {"events_file": ("events.csv", content, "text/csv")}
    fields = frontend_fields(alice)

    first = post(dispatcher, fields, files)
    assert first.status_code == 200, first.text
    answer = until_finished(dispatcher, fields, first.json(), files)

    assert answer["query_status"] == "done", answer["exit_status"]
    sha256 = hashlib.sha256(content).hexdigest()
    assert answer["products"]["analysis_parameters"]["events_file"] == file_url(dispatcher, content)
    assert answer["products"]["name"]  # the frontend's format: drawn products
    products = texts(api_answer(dispatcher, answer["job_monitor"]["job_id"], alice))
    # Computed by the notebook from the file it fetched from us with alice's token.
    assert products["sha256"]["value"] == sha256
    assert products["n_rows"]["value"] == "7"
    assert float(products["column_sum"]["value"]) == sum(10 + i for i in range(7))
    assert products["n_rows"]["meta_data"]["uri"] == "http://odahub.io/ontology#Integer"  # a WorkflowParameter
    assert Upload.objects.get(sha256=sha256).owner == "alice@example.org"


def test_a_plain_requests_multipart_post_as_oda_api_users_script_it(dispatcher, alice):
    content = events("script", rows=3)
    fields = {
        "instrument": INSTRUMENT,
        "product_type": "file_stats",
        "query_status": "new",
        "session_id": "SCRIPT0000000001",
        "api": "True",
        "oda_api_version": "1.3.5",
        "column": "0",
        "token": alice,
    }
    files = {"events_file": ("events.csv", content)}

    first = post(dispatcher, fields, files).json()
    answer = until_finished(dispatcher, fields, first)

    assert answer["query_status"] == "done", answer["exit_status"]
    assert texts(answer)["n_rows"]["value"] == "3"
    assert float(texts(answer)["column_sum"]["value"]) == 0.0 + 0.5 + 1.0
    assert answer["products"]["prod_uris"]["sha256"] == "http://odahub.io/ontology#String"
    # The notebook received a local copy, fetched by nb2workflow from the URL we gave it.
    assert texts(answer)["received_as"]["value"] == "a local file"


def test_another_file_is_another_job_and_the_same_file_the_same_job(dispatcher, alice):
    fields = frontend_fields(alice, api="True")
    one = post(dispatcher, fields, {"events_file": ("a.csv", events("same", 2))}).json()
    same = post(dispatcher, fields, {"events_file": ("b.csv", events("same", 2))}).json()
    other = post(dispatcher, fields, {"events_file": ("a.csv", events("other", 2))}).json()

    assert one["job_monitor"]["job_id"] == same["job_monitor"]["job_id"] != other["job_monitor"]["job_id"]


def test_a_second_user_cannot_fetch_the_first_users_upload(dispatcher, alice, charlie):
    content = events("private", rows=2)
    fields = frontend_fields(alice, api="True")
    until_finished(dispatcher, fields, post(dispatcher, fields, {"events_file": ("e.csv", content)}).json())
    url = file_url(dispatcher, content)

    as_alice = requests.get(url, params={"token": alice}, timeout=10)
    as_charlie = requests.get(url, params={"token": charlie}, timeout=10)
    anonymous = requests.get(url, timeout=10)

    assert as_alice.status_code == 200 and as_alice.content == content
    assert as_charlie.status_code == 403 and content not in as_charlie.content
    assert anonymous.status_code == 403


def test_without_the_owners_token_the_backend_cannot_fetch_the_file(dispatcher, notebooks, alice):
    """The same notebook, on an instrument told not to pass tokens: nb2workflow is refused the file."""
    from instruments.models import Instrument

    settings = {"url": notebooks.url, "pass_token": False}
    Instrument.objects.create(name=f"{INSTRUMENT}-tokenless", kind="nb2workflow", settings=settings)
    time.sleep(6)  # the live service reads instrument rows again within INSTRUMENTS_CACHE_TTL_S (5 s)
    fields = frontend_fields(alice, api="True", instrument=f"{INSTRUMENT}-tokenless")
    content = events("tokenless", rows=2)

    answer = until_finished(dispatcher, fields, post(dispatcher, fields, {"events_file": ("e.csv", content)}).json())

    assert answer["query_status"] == "failed"
    assert "download_file" in answer["exit_status"]["message"], answer["exit_status"]


def test_a_file_sent_without_a_token_reaches_the_notebook_too(dispatcher):
    content = events("public", rows=4)
    fields = frontend_fields(None, api="True")

    answer = until_finished(dispatcher, fields, post(dispatcher, fields, {"events_file": ("e.csv", content)}).json())

    assert answer["query_status"] == "done", answer["exit_status"]
    assert texts(answer)["n_rows"]["value"] == "4"


# --- types from the ontology and extra_ttl ---------------------------------------------------------


def bounded(dispatcher, token: str, **values: str) -> requests.Response:
    fields = {
        "instrument": INSTRUMENT,
        "product_type": "bounded",
        "query_status": "new",
        "session_id": "BOUNDED000000001",
        "api": "True",
        "token": token,
        **values,
    }
    return requests.get(f"{dispatcher.url}/run_analysis", params=fields, timeout=60)


@pytest.mark.parametrize(
    ("values", "words"),
    [
        ({"radius": "20"}, "Parameter radius wrong value 20: must be at most 10"),
        ({"radius": "0.01"}, "Parameter radius wrong value 0.01: must be at least 0.1"),
        ({"band": "z"}, "Parameter band wrong value z: must be one of g, i, r"),
        ({"energy": "900"}, "Parameter energy wrong value 900: must be at most 800"),  # oda:ISGRIEnergy's own bounds
        ({"share": "120"}, "Parameter share wrong value 120: must be at most 100"),  # oda:Percentage's
    ],
)
def test_values_out_of_the_annotated_bounds_are_refused_with_a_400(dispatcher, alice, values, words):
    response = bounded(dispatcher, alice, **values)

    assert response.status_code == 400, response.text
    assert response.json()["exit_status"]["message"] == words


def test_values_within_the_bounds_run_and_outputs_carry_their_labels(dispatcher, alice):
    first = bounded(dispatcher, alice, radius="2", band="r", energy="100", share="10")
    assert first.status_code == 200, first.text
    fields = {"instrument": INSTRUMENT, "product_type": "bounded", "api": "True", "token": alice}

    answer = until_finished(dispatcher, fields, first.json())

    assert answer["query_status"] == "done", answer["exit_status"]
    products = answer["products"]
    assert abs(float(texts(answer)["area"]["value"]) - 3.14159 * 4) < 1e-9
    assert products["extra_metadata"]["area"] == {"label": "Area searched", "description": "pi r squared"}
    assert products["prod_uris"]["chosen"] == "http://odahub.io/ontology#ODATextProduct"
    assert texts(answer)["chosen"]["value"] == "r 100.0 10.0"


def test_meta_data_shows_the_annotations(dispatcher, alice):
    listing = requests.get(
        f"{dispatcher.url}/api/meta-data", params={"instrument": INSTRUMENT, "product_type": "bounded", "token": alice}
    ).json()[0]
    product_query = listing[-1]
    parameters = {entry["name"]: entry for entry in product_query[2:]}

    radius = parameters["radius"]
    assert radius["restrictions"]["min_value"] == 0.1 and radius["restrictions"]["max_value"] == 10
    assert radius["extra_metadata"] == {
        "label": "Search radius",
        "group": "Region",
        "description": "Radius of the region searched, in degrees",
    }
    assert parameters["band"]["restrictions"]["allowed_values"] == ["g", "i", "r"]
    assert parameters["band"]["extra_metadata"]["label"] == "Photometric band"
    assert (parameters["energy"]["type"], parameters["energy"]["units"]) == ("energy", "keV")
    assert parameters["energy"]["restrictions"]["max_value"] == 800
    file_query = requests.get(
        f"{dispatcher.url}/api/meta-data",
        params={"instrument": INSTRUMENT, "product_type": "file_stats", "token": alice},
    ).json()[0][-1]
    events_file = next(entry for entry in file_query[2:] if entry["name"] == "events_file")
    assert events_file["type"] == "file" and events_file["owl_uri"] == "http://odahub.io/ontology#POSIXPath"
