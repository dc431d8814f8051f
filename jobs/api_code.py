"""The oda-api snippet that reproduces a job, shown to users in mails and answers."""

from __future__ import annotations

import keyword
from typing import Any

from jobs.models import Job

_HEADER = """from oda_api.api import DispatcherAPI
from oda_api.token import discover_token

disp = DispatcherAPI(url={url!r})
"""


def api_code_for(job: Job, *, url: str) -> str:
    """Python that asks ``url`` for the same product with the same parameters.

    The token is discovered on the user's machine (ODA_TOKEN, ~/.oda-token) and
    passed explicitly: oda-api sends only the ``token=`` keyword.
    """
    arguments = [
        ("instrument", job.instrument),
        ("product", job.product_type),
        ("product_type", job.query_type or "Real"),
        *sorted(job.params.items()),
    ]
    lines = [_argument(name, value) for name, value in arguments]
    if job.owner:
        lines.append("token=discover_token(),")
    body = "".join(f"    {line}\n" for line in lines)
    return f"{_HEADER.format(url=url)}\ndata = disp.get_product(\n{body})\n"


def _argument(name: str, value: Any) -> str:
    # A parameter that is not a Python name still travels, through **{...}.
    if name.isidentifier() and not keyword.iskeyword(name):
        return f"{name}={value!r},"
    return f"**{{{name!r}: {value!r}}},"
