"""A finished job's products, kept on disk under DISPATCHER_DATA_DIR/products/<job id>/.

``products.json`` holds the protocol's product lists; the files offered by
/download_products sit beside it. In a distributed deployment the data
directory is shared storage seen by web and worker hosts alike.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings

from instruments.base import Products

MANIFEST = "products.json"
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$")


class UnsafeFileName(ValueError):
    pass


def products_dir(job_id: str) -> Path:
    if not re.fullmatch(r"[0-9a-f]{64}", job_id):
        raise UnsafeFileName(f"not a job id: {job_id!r}")
    return Path(settings.PRODUCTS_DIR) / job_id[:2] / job_id


def products_store(*, job_id: str, products: Products) -> dict[str, Any]:
    """Write the products; returns what goes into the answer's `products`."""
    folder = products_dir(job_id)
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in products.files.items():
        _write_atomically(folder / _checked_name(name), content)
    listing = {"lists": products.as_protocol(), "comment": products.comment}
    _write_atomically(folder / MANIFEST, json.dumps(listing).encode())
    return listing


def products_load(job_id: str) -> dict[str, Any]:
    """The stored listing: {"lists": {...}, "comment": "..."}; empty when nothing was kept."""
    try:
        return json.loads((products_dir(job_id) / MANIFEST).read_bytes())
    except FileNotFoundError:
        return {"lists": {}, "comment": ""}


def product_files(job_id: str) -> list[str]:
    return list(products_load(job_id)["lists"].get("file_list", []))


def product_file_path(job_id: str, name: str) -> Path:
    """The path of one stored file; names outside the job's own list are refused."""
    if name not in product_files(job_id):
        raise UnsafeFileName(f"no product file {name!r} in this job")
    return products_dir(job_id) / _checked_name(name)


def products_remove(job_id: str) -> bool:
    folder = products_dir(job_id)
    if not folder.exists():
        return False
    shutil.rmtree(folder)
    return True


def _checked_name(name: str) -> str:
    if not _SAFE_NAME.match(name) or ".." in name:
        raise UnsafeFileName(f"unsafe product file name {name!r}")
    return name


def _write_atomically(path: Path, content: bytes) -> None:
    # A reader polling the job never sees half a file.
    fd, scratch = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)
    os.replace(scratch, path)
