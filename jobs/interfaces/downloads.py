"""Product files as HTTP downloads: one file gzipped, several as a tar.gz (the protocol's and the page's)."""

from __future__ import annotations

import gzip
import io
import mimetypes
import re
import tarfile
from pathlib import Path

from django.http import HttpResponse

from jobs.models import Job
from jobs.products import product_paths_for_download


def download_response(job: Job, *, file_list: str, download_name: str = "", archive: bool = True) -> HttpResponse:
    """``file_list``: comma-separated names, or empty for every file of the job.

    ``download_name`` is the name the browser saves (the frontend's ``download_file_name``);
    ``archive=False`` serves a single file as it is, not gzipped (several still come as a tar.gz).
    """
    names = [name.strip() for name in file_list.split(",") if name.strip()]
    paths = product_paths_for_download(job, names)
    download_name = _safe_download_name(download_name)
    if len(paths) == 1 and not archive:
        content_type = mimetypes.guess_type(paths[0].name)[0] or "application/octet-stream"
        return _attachment(paths[0].read_bytes(), download_name or paths[0].name, content_type=content_type)
    if len(paths) == 1:
        return _attachment(gzip.compress(paths[0].read_bytes()), download_name or f"{paths[0].name}.gz")
    return _attachment(_tar_gz(paths), download_name or f"{job.job_id[:8]}-products.tar.gz")


def _safe_download_name(name: str) -> str:
    """A plain file name for Content-Disposition: no folders, quotes or control characters."""
    base = re.sub(r"[^A-Za-z0-9._+-]+", "_", name.replace("\\", "/").rsplit("/", 1)[-1]).strip("._")
    return base[:200]


def _tar_gz(paths: list[Path]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for path in paths:
            archive.add(path, arcname=path.name)
    return buffer.getvalue()


def _attachment(content: bytes, filename: str, *, content_type: str = "application/gzip") -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
