"""A real HTTP server for webhook tests: started on a free loopback port in a thread,
it records every request and answers as told (fail the first N, hang past the
client's timeout, always answer some status, redirect)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Behaviour:
    """How the receiver answers: the first ``fail_first`` requests get ``fail_status``,
    the first ``hang_first`` wait ``hang_seconds`` before answering, every request gets
    ``status`` otherwise (``location`` for a redirect)."""

    status: int = 204
    fail_first: int = 0
    fail_status: int = 500
    hang_first: int = 0
    hang_seconds: float = 2.0
    location: str | None = None


@dataclass
class Receiver:
    port: int
    behaviour: Behaviour
    requests: list[Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    seen: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def wait_for(self, count: int, timeout: float = 20.0) -> list[Request]:
        """The requests once at least ``count`` arrived (AssertionError after
        ``timeout``)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.requests) >= count:
                    return list(self.requests)
            time.sleep(0.02)
        raise AssertionError(f"{len(self.requests)} of {count} requests arrived")

    def answered(self) -> list[Request]:
        with self.lock:
            return list(self.requests)


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            if len(body) < length:
                # the client went away mid-body (a worker stopping cancels its posts):
                # not a request a server would act on; the sender posts it again
                self.close_connection = True
                return
            behaviour = receiver.behaviour
            with receiver.lock:
                n = receiver.seen
                receiver.seen += 1
            if n < behaviour.hang_first:
                time.sleep(behaviour.hang_seconds)
            status = behaviour.fail_status if n < behaviour.fail_first else behaviour.status
            with receiver.lock:
                receiver.requests.append(Request(self.path, dict(self.headers.items()), body,
                                                 time.monotonic()))
            try:
                self.send_response(status)
                if behaviour.location:
                    self.send_header("Location", behaviour.location)
                self.send_header("Content-Length", "0")
                self.end_headers()
            except OSError:
                pass  # the client gave up (timeout)

    return Handler


@contextmanager
def receiver(behaviour: Behaviour | None = None) -> Iterator[Receiver]:
    """A recording HTTP server on a free port, for the duration of the block."""
    box = Receiver(0, behaviour or Behaviour())
    # a listen backlog for every lane's connection at once (http.server's default, 5,
    # drops connections that then wait a second for their SYN to be sent again)
    server_class = type("Server", (ThreadingHTTPServer,), {"request_queue_size": 128})
    server = server_class(("127.0.0.1", 0), _handler(box))
    server.daemon_threads = True
    box.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield box
    finally:
        server.shutdown()
        server.server_close()
