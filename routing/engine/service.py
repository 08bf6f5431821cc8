"""The route service: one process per host that holds the routing index and answers route
lookups (``POST /api/v1/route/``) over kept-alive HTTP/1.1 connections (issue 16).

Why a process of its own: every gunicorn worker that answers route lookups builds and
keeps its own index (≈ 600 MB at 1M dialpeers, ~9 s to build), and gunicorn's sync workers
close the connection after every answer, so the SIP edge paid a TCP handshake and a new
curl handle per call. The service builds **one** index per host, keeps it current from the
change feed like any index (``routing.engine.index``), and keeps the edge's connections
open. The edge speaks RESP to it (``routing.engine.resp``; Kamailio's ``ndb_redis``): a
connection whose first byte is ``*`` is RESP, any other HTTP, so one address serves both.

What it answers: exactly what the app answers. Each request becomes a WSGI environ and goes
to the route lookup's fast path (``routing.engine.http.fast_answer``, as in
``vmgate.wsgi``), and to the Django application for everything the fast path leaves to it
(refusals with field errors) — so there is one implementation of the lookup, its
validation and its authentication. Only what the edge asks is served (the route lookup and
``/api/v1/me/``; 404 otherwise), plus ``GET /ready`` (how long the build took).

It listens only once every tenant's index is built: until then a connection is refused and
the SIP edge answers its INVITE 503 at once, never a stall. It listens with
``SO_REUSEPORT``, so a restart loses no call: start the new service on the same port beside
the running one, wait for its ``/ready``, then stop the old one (SIGTERM: it stops
accepting and closes its kept-alive connections; the edge's workers connect again, to the
new one). If the index cannot be built the process exits non-zero, for its supervisor to start
it again. While it runs, every index is polled every ``index.POLL_INTERVAL`` seconds even
without traffic, so an edit made anywhere (UI, API, admin, psql) is seen within about half
a second.

With a snapshot directory, the service writes every tenant's rows there (read from the
database by ``manage.py route_snapshot`` in a niced process of its own, right after the
first build and every :data:`SNAPSHOT_EVERY` seconds) and builds from them when it starts,
then applies the change log since: a start does not wait for the database to send a
million rows.

One thread serves every connection (asyncio); decisions take microseconds, and a Python
process runs one at a time anyway. Run it with ``manage.py route_service``; see the
README's production notes.
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import subprocess
import sys
import threading
import time

from django.conf import settings
from django.db import close_old_connections, connection

from routing.engine import index, resp
from routing.engine.http import ROUTE_PATH, fast_answer
from vmgate.models import Tenant

logger = logging.getLogger(__name__)

MAX_HEAD = 8192
MAX_BODY = 64 * 1024
READY_PATH = "/ready"
#: Seconds between two snapshots of every tenant's rows (with --snapshot-dir): a restart
#: loads the newest and applies the change log since (kept 24 h; a snapshot older than 12 h
#: is not used).
SNAPSHOT_EVERY = 1800
#: What the SIP edge asks: the route lookup, and (once, by deploy/kamailio/render.py) whose
#: token it holds.
SERVED = (ROUTE_PATH, "/api/v1/me/")

_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Content Too Large",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def plain(status, text, extra=()):
    """A small text/plain answer of the service's own (not the app's)."""
    body = text.encode()
    return status, [("Content-Type", "text/plain; charset=utf-8"), *extra], body


class RouteService:
    """The service's state: the Django WSGI application (what the fast path leaves to
    it), the tenants to serve and readiness."""

    def __init__(self, app, tenant_ids=None, host="127.0.0.1", port=8701, snapshot_dir=None):
        self.app = app
        self.tenant_ids = tenant_ids
        self.host, self.port = host, port
        self.snapshot_dir = snapshot_dir
        self.ready = threading.Event()
        self.started = time.monotonic()
        self.ready_after = None
        self.failed = None
        self.from_snapshot = []  # tenants whose index came from a snapshot at start
        self.snapshot_due = None  # monotonic time of the next snapshot (None: none kept)
        self.writer = None
        self.connections = set()

    # --- the index ----------------------------------------------------------------------

    def build(self):
        """Build every tenant's index, in a thread of its own (``serve`` listens once it is
        done). A tenant created later is built on its first lookup."""
        try:
            ids = self.tenant_ids
            if ids is None:
                ids = list(Tenant.objects.order_by("pk").values_list("pk", flat=True))
            for tenant_id in ids:
                idx = None
                if self.snapshot_dir is not None:
                    path = index.snapshot_path(self.snapshot_dir, tenant_id)
                    idx = index.build_from_snapshot(tenant_id, path)
                if idx is not None:
                    index.install(idx)
                    self.from_snapshot.append(tenant_id)
                else:
                    index.get_index(tenant_id)
            self.ready_after = time.monotonic() - self.started
            logger.info(
                "route service ready in %.1f s (%d tenants, %d from snapshots)",
                self.ready_after,
                len(ids),
                len(self.from_snapshot),
            )
            self.ready.set()
        except Exception as exc:  # noqa: BLE001 - reported by /ready and the log
            self.failed = exc
            logger.exception("route service could not build its index")
        finally:
            connection.close()
        if self.ready.is_set() and self.snapshot_dir is not None:
            # a fresh snapshot of what was built from the database, then every SNAPSHOT_EVERY
            self.snapshot_due = time.monotonic() + SNAPSHOT_EVERY
            self.write_snapshots(ids, skip=self.from_snapshot)

    def write_snapshots(self, ids=None, skip=()):
        """Write the tenants' snapshots with ``manage.py route_snapshot`` in a process of its
        own, niced: reading a million rows in this process held its interpreter for
        seconds (lookups waited; bench/README.md, "Ready"). Waits for it (in a thread)."""
        ids = [i for i in (ids or [x.tenant_id for x in index.all_indexes()]) if i not in skip]
        slugs = list(Tenant.objects.filter(pk__in=ids).values_list("slug", flat=True))
        connection.close()
        if not slugs:
            return
        command = ["nice", "-n", "10", sys.executable, "-m", "django", "route_snapshot"]
        command += ["--dir", str(self.snapshot_dir)]
        for slug in slugs:
            command += ["--tenant", slug]
        done = subprocess.run(
            command,
            cwd=settings.BASE_DIR,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            logger.error("route service: writing snapshots failed: %s", done.stderr[-2000:])

    def poll(self):
        """Follow the change feed without traffic (each index polls at most every
        POLL_INTERVAL; ``maybe_sync`` returns at once when it is not due)."""
        if not self.ready.is_set():
            return
        due = self.snapshot_due
        if (
            due is not None
            and time.monotonic() >= due
            and not (self.writer and self.writer.is_alive())
        ):
            self.snapshot_due = time.monotonic() + SNAPSHOT_EVERY
            self.writer = threading.Thread(
                target=self.write_snapshots, name="route-snapshot", daemon=True
            )
            self.writer.start()
        for idx in list(index.all_indexes()):
            try:
                idx.maybe_sync()
            except Exception:  # noqa: BLE001 - the database may be away a moment
                logger.exception("route service: polling the change feed failed")
                close_old_connections()

    # --- one request --------------------------------------------------------------------

    def answer(self, method, target, headers, body, peer="127.0.0.1"):
        """``(status, headers, body)`` for one parsed request from address ``peer``."""
        path, _, query = target.partition("?")
        if path == READY_PATH and method in ("GET", "HEAD"):  # it listens only once ready
            return plain(
                200,
                f"ready after {self.ready_after:.1f} s; "
                f"{len(self.from_snapshot)} index(es) from snapshots; pid {os.getpid()}\n",
            )
        if path not in SERVED:
            return plain(404, "not found\n")
        return self.call_app(method, path, query, headers, body, peer)

    def call_app(self, method, path, query, headers, body, peer):
        environ = {
            "REQUEST_METHOD": method,
            "SCRIPT_NAME": "",
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "SERVER_NAME": self.host,
            "SERVER_PORT": str(self.port),
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": peer,
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": False,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
        for name, value in headers:
            if "_" in name:
                continue  # as gunicorn: X_Forwarded_Proto must not pass for X-Forwarded-Proto
            key = name.upper().replace("-", "_")
            if key == "CONTENT_TYPE":
                environ["CONTENT_TYPE"] = value
            elif key != "CONTENT_LENGTH":
                key = "HTTP_" + key
                environ[key] = f"{environ[key]},{value}" if key in environ else value
        try:
            fast = fast_answer(environ)
        except Exception:  # noqa: BLE001 - Django answers (and logs) it as for any request
            logger.debug("route fast path fell back", exc_info=True)
            fast = None
        if fast is not None:
            return 200, *fast
        started = []

        def start_response(status, response_headers, exc_info=None):
            started[:] = [int(status.split(" ", 1)[0]), list(response_headers)]

        result = self.app(environ, start_response)
        try:
            out = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        status, response_headers = started
        response_headers = [(k, v) for k, v in response_headers if k.lower() != "content-length"]
        return status, response_headers, out


def render(status, headers, body, keep_alive, head=False):
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Unknown')}"]
    lines += [f"{k}: {v}" for k, v in headers]
    lines.append(f"Content-Length: {len(body)}")
    if not keep_alive:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (b"" if head else body)


class Connection(asyncio.Protocol):
    """One client connection: HTTP/1.1 requests in order, kept alive unless asked not to."""

    def __init__(self, service):
        self.service = service
        self.buffer = b""
        self.transport = None
        self.peer = "127.0.0.1"
        self.edge = False  # True once the first byte said RESP
        self.fresh = True  # nothing received yet: the first byte picks the protocol

    def connection_made(self, transport):
        self.transport = transport
        self.peer = (transport.get_extra_info("peername") or ("127.0.0.1",))[0]
        self.service.connections.add(self)

    def connection_lost(self, exc):
        self.service.connections.discard(self)

    def data_received(self, data):
        self.buffer += data
        if self.fresh and self.buffer:
            self.fresh = False
            if self.buffer[:1] == b"*":  # a RESP array; an HTTP request starts with a method
                self.edge = True
        if self.edge:
            self.resp_received()
            return
        while self.transport is not None and not self.transport.is_closing():
            request = self.take_request()
            if request is None:
                return
            self.respond(*request)

    def resp_received(self):
        """The SIP edge's RESP commands (routing.engine.resp), answered in order."""
        replies = []
        while True:
            try:
                taken = resp.take_command(self.buffer)
            except resp.ProtocolError as exc:
                replies.append(resp.error(f"ERR protocol error: {exc}"))
                self.transport.write(b"".join(replies))
                self.transport.close()
                self.buffer = b""
                return
            if taken is None:
                break
            args, used = taken
            self.buffer = self.buffer[used:]
            try:
                replies.append(resp.answer(args))
            except Exception:  # noqa: BLE001 - one command's failure is not the service's
                logger.exception("route service: RESP command failed")
                close_old_connections()
                replies.append(resp.error("ERR internal error"))
        if replies:
            self.transport.write(b"".join(replies))

    def fail(self, status, text):
        self.transport.write(render(*plain(status, text), keep_alive=False))
        self.transport.close()
        self.buffer = b""

    def take_request(self):
        """The next whole request in the buffer, or None (wait for more bytes / failed)."""
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self.buffer) > MAX_HEAD:
                self.fail(431, "request head too large\n")
            return None
        if end > MAX_HEAD:
            self.fail(431, "request head too large\n")
            return None
        try:
            head = self.buffer[:end].decode("latin-1")
            request_line, *header_lines = head.split("\r\n")
            method, target, version = request_line.split(" ")
            headers = []
            for line in header_lines:
                name, colon, value = line.partition(":")
                if not colon or not name or name != name.strip():
                    raise ValueError(line)
                headers.append((name, value.strip()))
            lengths = [v for k, v in headers if k.lower() == "content-length"]
            if len(set(lengths)) > 1 or not all(v.isdigit() and v.isascii() for v in lengths):
                raise ValueError("content-length")
            length = int(lengths[0]) if lengths else 0
            if version not in ("HTTP/1.0", "HTTP/1.1"):
                raise ValueError("version")
            if any(k.lower() == "transfer-encoding" for k, _ in headers):
                raise ValueError("chunked bodies are not taken")
        except ValueError:
            self.fail(400, "malformed request\n")
            return None
        if length > MAX_BODY:
            self.fail(413, "request body too large\n")
            return None
        if len(self.buffer) < end + 4 + length:
            return None
        body = self.buffer[end + 4 : end + 4 + length]
        self.buffer = self.buffer[end + 4 + length :]
        connection_header = ",".join(v for k, v in headers if k.lower() == "connection").lower()
        keep_alive = "close" not in connection_header and (
            version == "HTTP/1.1" or "keep-alive" in connection_header
        )
        return method, target, headers, body, keep_alive

    def respond(self, method, target, headers, body, keep_alive):
        try:
            status, out_headers, out = self.service.answer(method, target, headers, body, self.peer)
        except Exception:  # noqa: BLE001 - one request's failure is not the service's
            logger.exception("route service: request failed")
            close_old_connections()
            status, out_headers, out = plain(500, "internal error\n")
        self.transport.write(render(status, out_headers, out, keep_alive, method == "HEAD"))
        if not keep_alive:
            self.transport.close()


async def serve(service):
    """Run the service until cancelled: build the index (in a thread), then listen, poll;
    when cancelled (SIGTERM), stop listening and close every connection."""
    # Django refuses database calls from a thread running an event loop unless told: here
    # they are deliberate. The loop's thread is the only one using its connection, a lookup
    # asks the database nothing once the index is built, and a poll (≈ 1 ms, every
    # POLL_INTERVAL) may block the loop; that is the service's design, not an accident.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    loop = asyncio.get_running_loop()
    threading.Thread(target=service.build, name="route-index-build", daemon=True).start()
    while not service.ready.is_set():
        if service.failed is not None:
            raise SystemExit(f"route service: no index ({service.failed})")
        await asyncio.sleep(0.02)
    # SO_REUSEPORT: a new service can listen beside the running one and take over
    server = await loop.create_server(
        lambda: Connection(service),
        service.host,
        service.port,
        reuse_address=True,
        reuse_port=True,
    )
    try:
        while True:
            await asyncio.sleep(index.POLL_INTERVAL)
            service.poll()
    finally:
        server.close()
        for conn in list(service.connections):
            conn.transport.close()  # after what is written: the client reconnects elsewhere
        await asyncio.sleep(0.05)
