"""Files sent as parameters: kept under their content hash, read back only by whom they belong to.

A frontend sends a file for a file-typed parameter (``instruments.parameters``'
``FileReference`` and its kinds: nb2workflow's ``POSIXPath``, ``FileURL``...) as a
multipart part named after the parameter. ``job_submit`` hands such parts to
:func:`uploads_for_parameters`, which hashes each one (SHA-256) and puts the URL
of the file on this service in the parameter's place::

    <DISPATCHER_PUBLIC_URL>/dispatch-data/download_file?file_list=<sha256>&_is_mmoda_url=True&return_archive=False

so the job id, a hash of the parameters, covers the file's content: the same
request with another file is another job. ``<name>_type=url`` keeps the URL the
user typed instead, and an empty part is refused (400), a part larger than
``DISPATCHER_UPLOAD_MAX_MB`` too (413, by :class:`UploadSizeLimit` while the body
is read). Once the request passed every check, :func:`uploads_keep` writes each
file once under ``DISPATCHER_DATA_DIR/uploads/<sha[:2]>/<sha>`` and records an
``Upload`` row per sender: its owner and the roles that may read it.

:func:`upload_access` is the gate of ``/download_file``: a file is served to a
person who sent it, to a token holding every role recorded with it
(``DISPATCHER_UPLOAD_READER_ROLES`` when it was sent; "job manager" by default),
and, for a file sent without a token, to anyone with its hash; others get 403, an
unknown hash 404. The backend fetches the file acting for its owner: it gets the
owner's token as ``_token`` (``jobs.signing.job_owner_token``, carried by the adapter's run
request) and nb2workflow appends it to our URL.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files import File
from django.core.files.uploadhandler import FileUploadHandler
from django.http import QueryDict
from django.utils.datastructures import MultiValueDict

from dispatcher_site.auth import Caller
from dispatcher_site.errors import InvalidRequest, ServiceError
from instruments.descriptions import ParameterDescription
from jobs.models import Upload

log = logging.getLogger(__name__)

FILE_TYPE = "file"  # ParameterDescription.type of FileReference and its kinds
SHA256 = re.compile(r"[0-9a-f]{64}")
_CHUNK = 1024 * 1024


# --- errors -----------------------------------------------------------------------------


class UploadTooLarge(ServiceError):
    status_code = 413
    code = "upload_too_large"

    def __init__(self, field: str = "") -> None:
        which = f"The file sent as {field}" if field else "A file sent"
        super().__init__(f"{which} is larger than the {_limit_text()} this service takes.")


class UploadEmpty(InvalidRequest):
    code = "upload_empty"

    def __init__(self, field: str) -> None:
        super().__init__(f"The file sent as {field} is empty; please choose a file with content, or none.")


class UploadNotFound(ServiceError):
    status_code = 404
    code = "upload_not_found"

    def __init__(self) -> None:
        super().__init__("No file with this hash was uploaded here (file_list must be the hash of one uploaded file).")


class UploadForbidden(ServiceError):
    status_code = 403
    code = "upload_forbidden"

    def __init__(self) -> None:
        super().__init__("You are not allowed to read this file: it was uploaded by someone else.")


def upload_max_bytes() -> int:
    return int(settings.UPLOAD_MAX_MB * 1024 * 1024)


def _limit_text() -> str:
    return f"{settings.UPLOAD_MAX_MB:g} MB"


# --- reading the request ------------------------------------------------------------------


class UploadSizeLimit(FileUploadHandler):
    """First of ``FILE_UPLOAD_HANDLERS``: stops reading a file part past DISPATCHER_UPLOAD_MAX_MB (413)."""

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > upload_max_bytes():
            if self.request is not None:
                # The error's renderer reads the request's fields again: let it find none
                # rather than parse a body read halfway.
                self.request._post, self.request._files = QueryDict(), MultiValueDict()
            raise UploadTooLarge(self.field_name)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the handlers after this one keep the file


@dataclass(frozen=True)
class IncomingFile:
    """A file part of a request: its part's name, the name the sender gave it, its content."""

    field: str
    filename: str
    content: File

    @property
    def size(self) -> int:
        return int(self.content.size or 0)

    def chunks(self) -> Iterable[bytes]:
        self.content.seek(0)
        return self.content.chunks(_CHUNK)


@dataclass(frozen=True)
class PendingUpload:
    """A file that will be kept for a parameter once the request passed its checks."""

    parameter: str
    sha256: str
    file: IncomingFile


@dataclass(frozen=True)
class FilesPlaced:
    data: dict[str, Any]  # the request's fields, each uploaded file's URL in its parameter's place
    pending: tuple[PendingUpload, ...]
    unused: tuple[str, ...]  # parts no file parameter of the product takes


def uploads_for_parameters(
    *, data: Mapping[str, Any], files: Mapping[str, IncomingFile], parameters: Iterable[ParameterDescription]
) -> FilesPlaced:
    """Put each file sent for a file parameter in its place, as the URL it will have here.

    ``<name>_type`` (the frontend's ``file`` or ``url``) is read and dropped for file
    parameters: ``url`` keeps the text value the user gave and ignores a part.
    Raises UploadEmpty or UploadTooLarge; stores nothing (see uploads_keep).
    """
    placed = dict(data)
    pending, taken = [], set()
    for parameter in parameters:
        if parameter.type != FILE_TYPE:
            continue
        choice = str(placed.pop(f"{parameter.name}_type", "") or "").strip().lower()
        incoming = files.get(parameter.name)
        if incoming is None:
            continue
        taken.add(parameter.name)
        if choice == "url":
            continue
        sha256 = _checked_hash(incoming)
        placed[parameter.name] = upload_url(sha256)
        pending.append(PendingUpload(parameter=parameter.name, sha256=sha256, file=incoming))
    unused = tuple(sorted(set(files) - taken))
    return FilesPlaced(data=placed, pending=tuple(pending), unused=unused)


def _checked_hash(incoming: IncomingFile) -> str:
    if incoming.size > upload_max_bytes():
        raise UploadTooLarge(incoming.field)
    digest, size = hashlib.sha256(), 0
    for chunk in incoming.chunks():
        digest.update(chunk)
        size += len(chunk)
    if size == 0:
        raise UploadEmpty(incoming.field)
    return digest.hexdigest()


def upload_url(sha256: str) -> str:
    """The absolute URL of an uploaded file here, as the earlier dispatcher gave it to backends.

    ``_is_mmoda_url`` tells nb2workflow to fetch it with the user's token.
    """
    base = settings.PUBLIC_URL
    if not base.endswith("/dispatch-data"):
        base += "/dispatch-data"
    return f"{base}/download_file?file_list={sha256}&_is_mmoda_url=True&return_archive=False"


# --- keeping files -------------------------------------------------------------------------


def upload_path(sha256: str) -> Path:
    if not SHA256.fullmatch(sha256):
        raise UploadNotFound()
    return Path(settings.UPLOADS_DIR) / sha256[:2] / sha256


def uploads_keep(*, pending: Iterable[PendingUpload], caller: Caller) -> None:
    """Write each file (once per content), then record that the caller sent it.

    Call it outside any transaction (no file is written while SQLite's write lock is held).
    """
    for upload in pending:
        _file_write(upload)
        Upload.objects.get_or_create(
            sha256=upload.sha256,
            owner=caller.sub,
            defaults={
                "reader_roles": list(settings.UPLOAD_READER_ROLES),
                "filename": os.path.basename(upload.file.filename)[:255],
                "size": upload.file.size,
            },
        )
        log.info("upload %s kept for %s (%s)", upload.sha256[:12], caller.sub or "public", upload.parameter)


def _file_write(upload: PendingUpload) -> None:
    path = upload_path(upload.sha256)
    if path.is_file():
        return  # the same content is there already
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in upload.file.chunks():
                out.write(chunk)
        os.replace(temporary, path)  # whole or not at all; a concurrent writer wrote the same bytes
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


# --- reading files back ----------------------------------------------------------------------


def upload_access(*, caller: Caller, sha256: str) -> Path:
    """The uploaded file, if ``caller`` may read it: UploadNotFound (404) or UploadForbidden (403)."""
    path = upload_path(sha256.strip().lower())
    senders = list(Upload.objects.filter(sha256=sha256.strip().lower()))
    if not senders or not path.is_file():
        raise UploadNotFound()
    if not any(_may_read(caller, sent) for sent in senders):
        raise UploadForbidden()
    return path


def _may_read(caller: Caller, sent: Upload) -> bool:
    if not sent.owner:
        return True  # sent without a token: as open as a public job, to whoever has its hash
    if caller.sub and caller.sub == sent.owner:
        return True
    return bool(sent.reader_roles) and caller.has_roles(sent.reader_roles)
