"""The web server's entry point: Django's WSGI application behind gunicorn's asyncio (ASGI) worker,
each request read whole before a thread is given to it.

Why: gunicorn's sync and gthread workers read a request's body in the thread that then runs
Django, so a client that sends its headers and part of a body holds that thread as long as it
likes; four such clients froze the default service (2 workers x 2 threads). Here the worker's
event loop reads every request, body included, while it costs nothing but a socket; only a
complete request goes to one of ``DISPATCHER_WEB_THREADS`` threads, which run the WSGI
application as gunicorn's threads did: a persistent database connection per thread, the
response closed (Django's ``request_finished``) in the thread that made it.

One hand-over per request: a response that is not streaming (nearly all of ours) comes back
from its thread whole, status, headers and body together; a streaming one (file downloads)
is passed on chunk by chunk, at most STREAM_QUEUE_CHUNKS ahead of the client.

Production still belongs behind a buffering reverse proxy (README, "Fault injection").
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

# A body larger than this is kept in a temporary file while it arrives.
SPOOL_MAX_BYTES = 1024 * 1024
# Chunks of a streaming response in flight between its thread and the client.
STREAM_QUEUE_CHUNKS = 8


class WSGIOnASGI:
    """An ASGI application serving ``wsgi_app`` from a pool of ``threads`` threads."""

    def __init__(self, wsgi_app: Callable, *, threads: int):
        self.wsgi_app = wsgi_app
        self.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="web")

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        body = await _whole_body(receive)
        if body is None:
            return  # the client left before its request was complete: no thread ever saw it
        with body:
            reply = _Reply(asyncio.get_running_loop())
            self.executor.submit(self._respond, _environ(scope, body), reply)
            try:
                await reply.send_to(send)
            finally:
                reply.abandon()

    def _respond(self, environ: dict, reply: _Reply) -> None:
        """In a pool thread: run the WSGI application and hand its answer to the event loop."""
        started: list = []

        def start_response(status: str, headers: list, exc_info: Any = None) -> Callable:
            started[:] = [status, headers]
            return lambda data: None  # the legacy write() callable; Django never uses it

        try:
            iterable = self.wsgi_app(environ, start_response)
            try:
                if not getattr(iterable, "streaming", False):
                    content = b"".join(iterable)
                else:
                    content = None
                    reply.put(("start", *started))
                    for chunk in iterable:
                        if chunk and not reply.put_chunk(chunk):
                            break  # the client is gone
            finally:
                _close(iterable)  # Django's request_finished, in the thread that served the request
            reply.put(("whole", *started, content) if content is not None else ("end",))
        except BaseException as error:
            reply.put(("error", error))


class _Reply:
    """What a request's thread hands to the event loop: one item for a whole answer, or a stream."""

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self.items: asyncio.Queue = asyncio.Queue()
        self.window = threading.Semaphore(STREAM_QUEUE_CHUNKS)  # chunks in flight, at most
        self.gone = False

    def put(self, item: tuple) -> None:
        self.loop.call_soon_threadsafe(self.items.put_nowait, item)

    def put_chunk(self, chunk: bytes) -> bool:
        """In the thread: queue a chunk once the client has taken enough of the earlier ones."""
        self.window.acquire()
        if self.gone:
            return False
        self.put(("chunk", chunk))
        return True

    def abandon(self) -> None:
        self.gone = True
        self.window.release()  # wakes a thread waiting to stream to a client that left

    async def send_to(self, send: Callable) -> None:
        while True:
            item = await self.items.get()
            kind = item[0]
            if kind == "whole":
                await send(_start_message(item[1], item[2]))
                await send({"type": "http.response.body", "body": item[3], "more_body": False})
                return
            if kind == "start":
                await send(_start_message(item[1], item[2]))
            elif kind == "chunk":
                await send({"type": "http.response.body", "body": item[1], "more_body": True})
                self.window.release()
            elif kind == "end":
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                return
            else:
                raise item[1]


def _start_message(status: str, headers: Iterable[tuple[str, str]]) -> dict:
    return {
        "type": "http.response.start",
        "status": int(status.split(" ", 1)[0]),
        "headers": [(name.lower().encode("latin1"), value.encode("latin1")) for name, value in headers],
    }


async def _whole_body(receive: Callable) -> Any:
    """The request's body as a readable file, or None when the client disconnected first."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MAX_BYTES)
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            spool.close()
            return None
        spool.write(message.get("body", b""))
        more = message.get("more_body", False)
    spool.seek(0)
    return spool


def _environ(scope: dict, body: Any) -> dict:
    """The WSGI environ of an ASGI HTTP scope (PEP 3333 strings: latin-1 decoded bytes)."""
    root = scope.get("root_path", "")
    path = scope["path"]
    if root and path.startswith(root):
        path = path[len(root) :]
    server = scope.get("server") or ("localhost", 80)
    environ = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": root.encode("utf8").decode("latin1"),
        "PATH_INFO": path.encode("utf8").decode("latin1"),
        "QUERY_STRING": scope["query_string"].decode("latin1"),
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1] or 0),
        "SERVER_PROTOCOL": f"HTTP/{scope['http_version']}",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": body,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    if scope.get("client"):
        environ["REMOTE_ADDR"], environ["REMOTE_PORT"] = scope["client"][0], str(scope["client"][1])
    for raw_name, raw_value in scope.get("headers", ()):
        name = raw_name.decode("latin1").upper().replace("-", "_")
        key = name if name in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{name}"
        value = raw_value.decode("latin1")
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    return environ


async def _lifespan(receive: Callable, send: Callable) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def _close(iterable: Any) -> None:
    close = getattr(iterable, "close", None)
    if close is not None:
        close()


def web_application() -> WSGIOnASGI:
    from django.conf import settings
    from django.core.wsgi import get_wsgi_application

    wsgi = get_wsgi_application()  # sets Django up: settings are read after it
    return WSGIOnASGI(wsgi, threads=settings.WEB_THREADS)


os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dispatcher_site.settings")
# gunicorn -k asgi dispatcher_site.web:application
application = web_application()
