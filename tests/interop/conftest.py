"""Fixtures for the interoperability tests against the npm ``smpp`` package.

``node`` and ``tests/interop/node_modules/smpp`` (``npm ci`` here, which
``scripts/install.sh`` runs) are needed; without them every test here is skipped and
says why. ``npm_smsc`` runs ``server.js`` (an SMSC on the npm package) on a free port.
"""

from __future__ import annotations

import json
import select
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest

HERE = Path(__file__).resolve().parent
SERVER_JS = HERE / "server.js"
CLIENT_JS = HERE / "client.js"
NPM_SMPP = HERE / "node_modules" / "smpp" / "package.json"

SYSTEM_ID = "esme"
PASSWORD = "secret"
#: a submit_sm to this number makes server.js send an MO "STOP" from it
MO_TRIGGER = "33699999999"

_START_TIMEOUT = 10.0
_STOP_TIMEOUT = 10.0


@pytest.fixture(scope="session")
def node() -> str:
    """The path of ``node``, with the npm ``smpp`` package installed next to this file."""
    path = shutil.which("node")
    if path is None:
        pytest.skip("Node.js (node) is not on PATH: the npm smpp interop tests need it")
    if not NPM_SMPP.is_file():
        pytest.skip(
            f"the npm smpp package is not installed in {HERE / 'node_modules'}: "
            "run scripts/install.sh (npm ci in tests/interop)"
        )
    return path


def read_json_line(process: subprocess.Popen[str], timeout: float, what: str) -> dict[str, Any]:
    """The next stdout line of ``process`` as JSON, waiting at most ``timeout`` seconds."""
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"{what}: no JSON line on stdout within {timeout}s")
        ready, _, _ = select.select([process.stdout], [], [], left)
        if ready:
            break
    line = process.stdout.readline()
    if not line:
        raise AssertionError(
            f"{what}: stdout closed without a JSON line (exit code {process.wait(5)})")
    value = json.loads(line)
    assert isinstance(value, dict), line
    return value


class NpmSMSC(NamedTuple):
    """server.js running: its port and process; :func:`stop_npm_smsc` gives its counts."""

    port: int
    process: subprocess.Popen[str]
    stderr: Path


def stop_npm_smsc(smsc: NpmSMSC) -> dict[str, Any]:
    """SIGTERM server.js and return the counts it prints on the way out."""
    process = smsc.process
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    counts = read_json_line(process, _STOP_TIMEOUT, "server.js on SIGTERM")
    code = process.wait(_STOP_TIMEOUT)
    assert code == 0, f"server.js exited with {code}: {smsc.stderr.read_text()}"
    return counts


@pytest.fixture
def npm_smsc(node: str, tmp_path: Path) -> Iterator[NpmSMSC]:
    """server.js on 127.0.0.1, a port it picks; stopped (SIGTERM) after the test.

    Credentials :data:`SYSTEM_ID` / :data:`PASSWORD`; :data:`MO_TRIGGER` is its MO number.
    """
    stderr = tmp_path / "server.js.stderr"
    with stderr.open("w") as err:
        process = subprocess.Popen(
            [node, str(SERVER_JS), "--host", "127.0.0.1", "--port", "0",
             "--system-id", SYSTEM_ID, "--password", PASSWORD, "--mo-trigger", MO_TRIGGER],
            stdout=subprocess.PIPE, stderr=err, text=True, cwd=HERE,
        )
    try:
        port = int(read_json_line(process, _START_TIMEOUT, "server.js start")["port"])
        yield NpmSMSC(port, process, stderr)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(_STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stdout is not None:
            process.stdout.close()
