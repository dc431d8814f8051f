"""Files sent as parameters (jobs.uploads): kept by content hash, the parameter becomes their URL,
and /download_file serves them only to whom they belong (alice; not charlie)."""

from __future__ import annotations

import gzip
import hashlib
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from dispatcher_site.auth import Caller, claims_verify
from dispatcher_site.tokens import token_issue
from jobs.models import Job, Upload
from jobs.services.running import run_request_for
from jobs.signing import job_owner_token
from jobs.uploads import IncomingFile, PendingUpload, upload_path, upload_url, uploads_keep
from tests.conftest import ALICE

pytestmark = pytest.mark.django_db(transaction=True)

CATALOGUE = b"name,flux\nA,1.5\nB,2.5\n"
# The earlier dispatcher's instrument with a POSIX path parameter; file_dummy needs role general.
FRONTEND_FIELDS = {
    "instrument": "empty-with-posix-path",
    "product_type": "file_dummy",
    "query_type": "Dummy",
    "query_status": "new",
    "session_id": "SESSION000000001",
    "api": "True",
    "dummy_POSIX_file_type": "file",
}


@pytest.fixture(autouse=True)
def uploads_dir(settings, tmp_path):
    """Each test's files of its own (the database rolls back; a disk does not)."""
    settings.UPLOADS_DIR = tmp_path / "uploads"
    return settings.UPLOADS_DIR


def sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def send(client, token: str | None, content: bytes | None = CATALOGUE, **fields):
    data = {**FRONTEND_FIELDS, **fields}
    if token:
        data["token"] = token
    if content is not None:
        data["dummy_POSIX_file"] = SimpleUploadedFile("catalogue.csv", content, content_type="text/csv")
    return client.post("/dispatch-data/run_analysis", data)


def download(client, sha256: str, token: str | None = None, **params):
    query = {"file_list": sha256, "_is_mmoda_url": "True", "return_archive": "False", **params}
    if token:
        query["token"] = token
    return client.get("/dispatch-data/download_file", query)


# --- storing, and the parameter's value ---------------------------------------------------------


def test_a_file_part_becomes_the_url_of_the_stored_file(client, alice, settings):
    answer = send(client, alice).json()

    assert answer["query_status"] == "done", answer
    url = answer["products"]["analysis_parameters"]["dummy_POSIX_file"]
    assert url == upload_url(sha(CATALOGUE))
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == settings.PUBLIC_URL and parts.path == "/dispatch-data/download_file"
    assert parse_qs(parts.query) == {
        "file_list": [sha(CATALOGUE)],
        "_is_mmoda_url": ["True"],
        "return_archive": ["False"],
    }
    assert upload_path(sha(CATALOGUE)).read_bytes() == CATALOGUE
    (kept,) = Upload.objects.all()
    assert (kept.sha256, kept.owner, kept.reader_roles) == (sha(CATALOGUE), ALICE, ["job manager"])
    assert (kept.filename, kept.size) == ("catalogue.csv", len(CATALOGUE))
    # dummy_POSIX_file_type steered the upload: it is no "unused argument".
    assert "dummy_POSIX_file_type" not in answer["exit_status"]["comment"]


def test_the_job_id_covers_the_content_of_the_file(client, alice):
    first = send(client, alice).json()["job_monitor"]["job_id"]
    again = send(client, alice).json()["job_monitor"]["job_id"]
    other = send(client, alice, content=CATALOGUE + b"C,3.5\n").json()["job_monitor"]["job_id"]

    assert first == again != other
    assert Job.objects.count() == 2
    assert Upload.objects.count() == 2  # one record per content (and sender), not per request


def test_type_url_keeps_the_url_the_user_gave(client, alice):
    given = "https://example.org/my/catalogue.csv"
    # The URL typed, and a file chosen before the user switched to "url": the part is ignored.
    both = [given, SimpleUploadedFile("catalogue.csv", CATALOGUE)]

    answer = send(client, alice, content=None, dummy_POSIX_file=both, dummy_POSIX_file_type="url").json()

    assert answer["products"]["analysis_parameters"]["dummy_POSIX_file"] == given
    assert not Upload.objects.exists()


def test_without_a_file_the_text_value_or_the_default_stands(client, alice):
    answer = send(client, alice, content=None).json()

    assert answer["query_status"] == "done"
    assert answer["products"]["analysis_parameters"]["dummy_POSIX_file"] is None
    assert not Upload.objects.exists()


def test_an_empty_part_is_a_400(client, alice):
    response = send(client, alice, content=b"")

    assert response.status_code == 400
    assert response.json()["error_code"] == "upload_empty"
    assert "dummy_POSIX_file is empty" in response.json()["exit_status"]["message"]
    assert not Job.objects.exists() and not Upload.objects.exists()


def test_a_file_over_the_limit_is_a_413_with_a_message(client, alice, settings):
    settings.UPLOAD_MAX_MB = 0.01  # 10 KiB

    response = send(client, alice, content=b"x" * 20_000)

    assert response.status_code == 413
    body = response.json()
    assert body["error_code"] == "upload_too_large"
    assert (
        body["exit_status"]["message"]
        == "The file sent as dummy_POSIX_file is larger than the 0.01 MB this service takes."
    )
    assert not Job.objects.exists() and not Upload.objects.exists()
    assert send(client, alice, content=b"x" * 5_000).status_code == 200


def test_a_file_for_a_parameter_that_takes_none_is_named_as_not_used(client, alice):
    data = {**FRONTEND_FIELDS, "token": alice, "p": SimpleUploadedFile("p.txt", b"55")}

    answer = client.post("/run_analysis", data).json()

    assert answer["query_status"] == "done"
    assert "p" in answer["exit_status"]["comment"] and answer["products"]["analysis_parameters"]["p"] != "55"
    assert not Upload.objects.exists()


def test_a_refused_request_keeps_no_file(client, charlie):
    nobody = token_issue(email="nobody@example.org", roles=[])

    response = send(client, nobody)

    assert response.status_code == 403  # file_dummy needs the role general
    assert not Upload.objects.exists() and not upload_path(sha(CATALOGUE)).exists()


# --- reading it back: /download_file ------------------------------------------------------------


def test_the_owner_reads_the_file_back_as_it_is_or_gzipped(client, alice):
    send(client, alice)

    plain = download(client, sha(CATALOGUE), alice)
    archived = download(client, sha(CATALOGUE), alice, return_archive="True")

    assert plain.status_code == 200 and plain.content == CATALOGUE
    assert plain["Content-Length"] == str(len(CATALOGUE))
    assert archived.status_code == 200 and gzip.decompress(archived.content) == CATALOGUE
    # The path without /dispatch-data serves it too, and HEAD tells the size (nb2workflow asks first).
    head = client.head("/download_file", {"file_list": sha(CATALOGUE), "return_archive": "False", "token": alice})
    assert head.status_code == 200 and head["Content-Length"] == str(len(CATALOGUE))


def test_charlie_cannot_read_alices_file(client, alice, charlie):
    send(client, alice)

    refused = download(client, sha(CATALOGUE), charlie)
    public = download(client, sha(CATALOGUE))

    assert refused.status_code == 403 and refused.json()["error_code"] == "upload_forbidden"
    assert public.status_code == 403
    assert CATALOGUE not in refused.content


def test_a_token_with_the_recorded_roles_reads_it(client, alice, manager):
    send(client, alice)

    assert download(client, sha(CATALOGUE), manager).content == CATALOGUE


def test_sending_the_same_file_gives_access_to_its_sender_only(client, alice, charlie):
    send(client, alice)
    assert download(client, sha(CATALOGUE), charlie).status_code == 403

    send(client, charlie)

    assert download(client, sha(CATALOGUE), charlie).content == CATALOGUE
    assert sorted(Upload.objects.values_list("owner", flat=True)) == [ALICE, "charlie@example.org"]


def test_a_file_sent_without_a_token_is_read_by_whoever_has_its_hash(client, charlie):
    incoming = IncomingFile(field="f", filename="c.csv", content=SimpleUploadedFile("c.csv", CATALOGUE))

    uploads_keep(pending=[PendingUpload(parameter="f", sha256=sha(CATALOGUE), file=incoming)], caller=Caller.public())

    assert download(client, sha(CATALOGUE)).content == CATALOGUE
    assert download(client, sha(CATALOGUE), charlie).content == CATALOGUE


@pytest.mark.parametrize("file_list", ["0" * 64, "", "../secret_key", f"{'a' * 64},{'b' * 64}"])
def test_an_unknown_hash_is_a_404(client, alice, file_list):
    response = download(client, file_list, alice)

    assert response.status_code == 404 and response.json()["error_code"] == "upload_not_found"


# --- the backend acting for the owner -------------------------------------------------------------


def test_the_owners_token_is_their_claims_signed_again(client, alice):
    answer = send(client, alice).json()
    job = Job.objects.get(job_id=answer["job_monitor"]["job_id"])

    token = run_request_for(job).owner_token

    assert claims_verify(token) == claims_verify(alice)
    assert download(client, sha(CATALOGUE), token).content == CATALOGUE


def test_a_public_job_lends_no_token():
    job = Job(job_id="j", owner="", claims={"sub": "", "exp": 2**31})

    assert job_owner_token(job) == ""


def test_the_rest_api_takes_a_file_as_a_multipart_part_too(client, alice):
    data = {
        "instrument": "empty-with-posix-path",
        "product_type": "file_dummy",
        "query_type": "Dummy",
        "params.p": "5",
        "params.dummy_POSIX_file": SimpleUploadedFile("catalogue.csv", CATALOGUE),
    }

    response = client.post("/api/v1/jobs/", data, headers={"Authorization": f"Bearer {alice}"})

    assert response.status_code == 201, response.content
    job = Job.objects.get(job_id=response.json()["job_id"])
    assert job.params["dummy_POSIX_file"] == upload_url(sha(CATALOGUE)) and job.params["p"] == 5
    assert download(client, sha(CATALOGUE), alice).content == CATALOGUE
