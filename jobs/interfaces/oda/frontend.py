"""The web frontend's format of a /run_analysis answer: one more renderer of the same answer.

The frontend (a Drupal module's JavaScript, ../shared/CLIENTS.md section 1) never
sends ``api=True``; oda-api always does and keeps the protocol's lists
(``answers.job_answer``, unchanged). For the frontend the same answer gets:

- ``job_monitor.full_report_dict``: the latest report (its ``progress`` and
  ``progress_max`` drive the progress bar), ``{}`` before the first one;
- once done, in ``products``, instead of the protocol's lists: ``image`` (one
  ``{"image": drawing}`` per product, the object itself for one product, a list
  for several; ``jobs.drawings`` draws them), ``name`` (the products' names, in
  order), ``file_name`` (the stored files), ``download_file_name`` (``<file>.gz``
  for one file, ``<product type>.tar.gz`` for several), ``extra_metadata`` and
  ``prod_uris`` per product name, ``prod_process_message`` and
  ``input_prod_list``. The rest of ``products`` (analysis_parameters, api_code,
  job_id, session_id, an adapter's own fields, a catalog) stays as it is.

A product is what the lists name: the same name in several lists (a light curve
given as numpy data and as an ECSV table) is one product, drawn from its first
list in the order of ``jobs.drawings.DRAWN_FROM`` (``products_to_show``, shared
with the job page).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from instruments.base import Products
from jobs.drawings import products_to_show
from jobs.interfaces.oda.answers import _LruCache, answer_key
from jobs.models import Job
from jobs.services import ProgressPage

_drawn = _LruCache(size=128)


def frontend_wanted(data: Mapping[str, Any]) -> bool:
    """Whether a request is the frontend's: anything but ``api=True`` (what oda-api sends)."""
    return str(data.get("api") or "").strip().lower() != "true"


def frontend_answer(answer: dict[str, Any], *, job: Job) -> dict[str, Any]:
    """``answer`` (a job_answer) in the frontend's format."""
    reports = answer["job_monitor"].get("full_report_dict_list") or []
    rendered = {**answer, "job_monitor": {**answer["job_monitor"], "full_report_dict": reports[-1] if reports else {}}}
    if answer["query_status"] == "done":
        rendered["products"] = {**answer["products"], **_frontend_products(job, answer["products"])}
        for name in Products.PROTOCOL_LISTS:
            rendered["products"].pop(name, None)
    return rendered


def _frontend_products(job: Job, products: Mapping[str, Any]) -> dict[str, Any]:
    """The frontend's fields of a done job's products; drawn once per version of the job's answer."""
    key = answer_key(job)
    fields = _drawn.get(key)
    if fields is None:
        fields = frontend_product_fields(products, product_type=job.product_type)
        _drawn.put(key, fields)
    return fields


def frontend_product_fields(products: Mapping[str, Any], *, product_type: str) -> dict[str, Any]:
    """image, name, file_name, download_file_name, extra_metadata, prod_uris... of a done job's products."""
    shown = products_to_show(products)
    files = list(products.get("file_list") or [])
    if not shown and not files:
        return {}  # nothing to draw or download (e.g. empty/dummy): the earlier dispatcher added nothing either
    fields: dict[str, Any] = {
        "name": [name for name, _, _ in shown],
        "file_name": files,
        "extra_metadata": {name: _extra_metadata(entry) for name, entry, _ in shown},
        "prod_uris": {name: _meta(entry).get("uri") for name, entry, _ in shown},
        "prod_process_message": products.get("prod_process_message", ""),
        "input_prod_list": _input_products(products),
    }
    images = [{"image": draw(entry)} for _, entry, draw in shown]
    if images:
        fields["image"] = images[0] if len(images) == 1 else images
    if files:
        fields["download_file_name"] = f"{files[0]}.gz" if len(files) == 1 else f"{product_type}.tar.gz"
    return fields


def _meta(entry: Mapping[str, Any]) -> Mapping[str, Any]:
    for key in ("meta_data", "metadata"):
        if isinstance(entry.get(key), Mapping):
            return entry[key]
    return {}


def _extra_metadata(entry: Mapping[str, Any]) -> dict[str, Any]:
    """The label and description the frontend shows for a product, when it has them."""
    meta = _meta(entry)
    nested = meta.get("extra_metadata") if isinstance(meta.get("extra_metadata"), Mapping) else {}
    return {key: str(source[key]) for source in (meta, nested) for key in ("label", "description") if key in source}


def _input_products(products: Mapping[str, Any]) -> list[Any]:
    """The input products asked for (INTEGRAL science windows), which the frontend lists."""
    parameters = products.get("analysis_parameters") or {}
    for name in ("scw_list", "p_list"):
        if isinstance(parameters.get(name), list):
            return list(parameters[name])
    return []


def answer_with_progress_page(answer: dict[str, Any], page: ProgressPage) -> dict[str, Any]:
    """The answer to ``return_progress=True``: the backend's page in ``products.progress_product_html_output``,
    or, when there is none, the reason in ``exit_status.comment`` (not an error: the job is fine)."""
    if page.pages:
        return {**answer, "products": {**answer["products"], "progress_product_html_output": page.pages}}
    comment = "; ".join(part for part in (answer["exit_status"]["comment"], page.comment) if part)
    return {**answer, "exit_status": {**answer["exit_status"], "comment": comment}}
