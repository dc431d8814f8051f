"""A stand-in for a slow backend: reports progress to a call-back URL, then done.

Run detached by the ``empty-async`` adapter:

    python -m instruments.builtin.simulated_backend --callback-url URL --job-id J
        [--steps 2] [--step-s 0.5] [--instrument-name empty-async]

Standard library only, so that it starts in a fraction of a second. Each report
is a GET with the /call_back fields of docs/protocol.md added to the URL's own query
(which carries the signature); fields already in the URL are kept as they are.
"""

from __future__ import annotations

import argparse
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

ATTEMPTS = 3


def reports(*, steps: int, job_id: str, instrument_name: str) -> Iterator[dict[str, str]]:
    """The call-backs to send, in order: ``steps`` progress reports, then done."""
    # session_id is normally in the signed URL already (and then kept from there).
    common = {"job_id": job_id, "session_id": "", "instrument_name": instrument_name, "node_id": "simulated"}
    common["progress_max"] = str(steps)
    for step in range(1, steps + 1):
        message = f"simulated backend: step {step} of {steps}"
        yield {**common, "action": "progress", "stage": f"step-{step}", "progress": str(step), "message": message}
    yield {**common, "action": "done", "stage": "done", "progress": str(steps), "message": "simulated backend: done"}


def with_fields(url: str, fields: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    for key, value in fields.items():
        query.setdefault(key, value)  # the URL's own job_id/session_id/signature win
    return urlunsplit(parts._replace(query=urlencode(query)))


def send(url: str, *, timeout_s: float = 10.0) -> int:
    """GET ``url``; a few attempts, as a real backend would, before giving up."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with urllib.request.urlopen(url, timeout=timeout_s) as answer:  # noqa: S310 (our own http URL)
                return answer.status
        except urllib.error.HTTPError as exc:
            return exc.code  # the dispatcher answered: retrying the same report changes nothing
        except OSError as exc:
            print(f"call-back attempt {attempt} failed: {exc}", file=sys.stderr)
            time.sleep(0.3 * attempt)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--callback-url", required=True)
    parser.add_argument("--job-id", required=True)
    parser.add_argument("--instrument-name", default="empty-async")
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--step-s", type=float, default=0.5)
    args = parser.parse_args(argv)
    for report in reports(steps=args.steps, job_id=args.job_id, instrument_name=args.instrument_name):
        time.sleep(args.step_s)
        send(with_fields(args.callback_url, report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
