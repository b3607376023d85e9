"""Serving the web app with uvicorn: in the foreground (``smscope serve``) or on a
thread of its own beside other work (``smscope demo``, tests), on a socket bound first
so that a taken port is one clear error, not a log line from deep inside uvicorn.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import signal
import socket
import threading
import time
from typing import Any

import uvicorn

from smscope.errors import UsageError

__all__ = ["BackgroundServer", "bind", "serve"]

log = logging.getLogger(__name__)


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (0: a free port); UsageError if it cannot be."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise UsageError(f"port {port} on {host} is already in use: stop what listens "
                             "there or choose another with --port") from None
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.setblocking(False)
    return sock


def _server(app: Any, sock: socket.socket, *, access_log: bool) -> uvicorn.Server:
    host, port = sock.getsockname()[:2]
    # log_config=None: smscope's logging decides (stderr, silent unless -v)
    config = uvicorn.Config(app, host=host, port=port, log_config=None,
                            access_log=access_log, lifespan="off")
    server = uvicorn.Server(config)
    # long responses (the campaign page's event stream) end when the server stops:
    # uvicorn would otherwise wait for them before it exits
    state = getattr(app, "state", None)
    if state is not None:
        state.server = server
    return server


def _ignore(signum: int, frame: Any) -> None:
    pass


def serve(app: Any, sock: socket.socket, *, access_log: bool = False) -> None:
    """Serve ``app`` on ``sock`` until SIGINT or SIGTERM, then return normally."""
    # uvicorn shuts down gracefully on these signals, then raises them again for the
    # handlers it found: let those be no-ops, so that stopping a server is a clean exit
    stops = (signal.SIGINT, signal.SIGTERM)
    previous = {signum: signal.signal(signum, _ignore) for signum in stops}
    try:
        _server(app, sock, access_log=access_log).run(sockets=[sock])
    finally:
        _stop_imports()
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _stop_imports() -> None:
    """Imports running on this server's threads record where they stopped (their
    threads would otherwise die with the process, leaving them ``running``)."""
    from smscope.web.uploads import stop_imports

    if stopped := stop_imports():
        log.warning("%d import(s) stopped with the server: import the file again to "
                    "finish", stopped)


class BackgroundServer:
    """``app`` served on a thread: ``start()``, :attr:`url`, ``stop()`` (or ``with``)."""

    def __init__(self, app: Any, sock: socket.socket) -> None:
        self.sock = sock
        self.server = _server(app, sock, access_log=False)
        self._thread = threading.Thread(target=self._run, name="smscope-web", daemon=True)

    @property
    def url(self) -> str:
        host, port = self.sock.getsockname()[:2]
        return f"http://{f'[{host}]' if ':' in host else host}:{port}"

    def _run(self) -> None:
        self.server.run(sockets=[self.sock])

    def start(self, timeout: float = 10.0) -> BackgroundServer:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise UsageError("the web server did not start; run again with -v to see why")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self._thread.join(timeout=10)
        _stop_imports()
        with contextlib.suppress(OSError):
            self.sock.close()

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
