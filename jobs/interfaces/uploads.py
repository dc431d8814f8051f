"""Files in requests and back out: the multipart parts of a request, and /download_file's answer.

Parsing only: what to keep, and who may read it back, is ``jobs.uploads``'.
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path
from typing import Any

from django.http import HttpRequest, HttpResponse

from jobs.uploads import IncomingFile

_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def request_files(request: HttpRequest | Any, *, prefix: str = "") -> dict[str, IncomingFile]:
    """The file parts of a multipart request, by part name (the last of a repeated name).

    Django leaves a part without a file name (a form's file field left empty) out.
    ``request`` may be Django's or DRF's (whose ``FILES`` is the same); a part named
    ``<prefix><name>`` counts as ``<name>`` (the REST API's ``params.<name>``).
    """
    if request.method != "POST":
        return {}
    files = request.FILES
    found = {}
    for part in files:
        name = part.removeprefix(prefix) if prefix else part
        found[name] = IncomingFile(field=name, filename=files[part].name or name, content=files[part])
    return found


def upload_response(path: Path, *, archive: bool, download_name: str = "") -> HttpResponse:
    """An uploaded file as its download: gzipped (the protocol's default) or as it is (``return_archive=False``).

    A HEAD request gets the same headers (Content-Length included: nb2workflow checks
    a file's size with a HEAD before it fetches it).
    """
    content = path.read_bytes()
    name = _SAFE_NAME.sub("_", download_name).strip("._") or path.name
    if archive:
        content = gzip.compress(content, mtime=0)
        name = name if name.endswith(".gz") else f"{name}.gz"
    response = HttpResponse(content, content_type="application/gzip" if archive else "application/octet-stream")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Content-Length"] = str(len(content))
    return response
