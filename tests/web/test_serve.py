"""``smscope serve``: the web app in the foreground, one clear line when the port is
taken, a clean exit on SIGTERM."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.e2e.processes import environment, free_port


def test_serve_answers_tracked_links_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    env = environment(f"sqlite:///{tmp_path / 'serve.db'}")
    process = subprocess.Popen(
        [sys.executable, "-m", "smscope", "serve", "--port", str(port)], env=env,
        cwd=tmp_path, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/c/000000bvBdLa", timeout=2)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.stderr.read() if process.stderr else ""
                assert time.monotonic() < deadline
                time.sleep(0.1)
        assert response.status_code == 404 and response.text == "Not found.\n"
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert out == b""
    assert f"on http://127.0.0.1:{port}" in err.decode()
    # the default public_url names port 8000 on this machine: links would miss this server
    assert (f"warning: tracked links point to http://127.0.0.1:8000, which is not this "
            f"server (port {port})") in err.decode()


def test_a_public_url_naming_this_server_or_a_public_host_gives_no_warning() -> None:
    from smscope.cli import _elsewhere

    assert not _elsewhere("http://127.0.0.1:8000", 8000)
    assert not _elsewhere("http://localhost:9000/", 9000)
    assert not _elsewhere("https://sms.example.com", 8000)  # a proxy maps it
    assert _elsewhere("http://localhost", 8000)  # port 80
    assert _elsewhere("http://127.0.0.1:8000", 8123)


def test_serve_on_a_taken_port_is_one_clear_line(smscope) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        run = smscope("serve", "--port", str(port))
    assert run.code != 0
    assert run.err.strip().splitlines() == [
        f"smscope: error: port {port} on 127.0.0.1 is already in use: stop what listens "
        "there or choose another with --port"]
