"""An ESME we did not write (client.js, on the npm ``smpp`` package) against our operator
simulator (``smscope simulator``, an SMSC on :mod:`smscope.smpp.server`).

client.js submits a mix of plain, long GSM (UDH concatenation) and UCS-2 messages within
a window and answers every deliver_sm; the simulator's record, written on SIGTERM, must
agree with what the client saw.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from tests.interop.conftest import CLIENT_JS, HERE

SYSTEM_ID = "npmesme"
PASSWORD = "pw123"
_START_TIMEOUT = 20.0
_STOP_TIMEOUT = 15.0


class Simulator(NamedTuple):
    port: int
    process: subprocess.Popen[bytes]
    record: Path
    stderr: Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def smscope_command() -> list[str]:
    """``smscope`` of this virtual environment (``python -m smscope`` if not installed)."""
    script = Path(sys.executable).with_name("smscope")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "smscope"]


def wait_listening(sim: Simulator) -> None:
    deadline = time.monotonic() + _START_TIMEOUT
    while True:
        code = sim.process.poll()
        if code is not None:
            raise AssertionError(
                f"the simulator exited with {code}: {sim.stderr.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", sim.port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"the simulator does not accept connections on port {sim.port} after "
                    f"{_START_TIMEOUT}s: {sim.stderr.read_text()}") from None
            time.sleep(0.05)


def stop(sim: Simulator) -> dict[str, Any]:
    """SIGTERM the simulator and read the record it writes on the way out."""
    if sim.process.poll() is None:
        sim.process.send_signal(signal.SIGTERM)
    code = sim.process.wait(_STOP_TIMEOUT)
    assert code == 0, f"the simulator exited with {code}: {sim.stderr.read_text()}"
    record = json.loads(sim.record.read_text())
    assert isinstance(record, dict)
    return record


@pytest.fixture
def simulator(node: str, tmp_path: Path) -> Iterator[Simulator]:
    """``smscope simulator --profile instant`` on a free port, accepting connections."""
    port = free_port()
    record = tmp_path / "record.json"
    stderr = tmp_path / "simulator.stderr"
    with stderr.open("wb") as err:
        process = subprocess.Popen(
            [*smscope_command(), "simulator", "--host", "127.0.0.1", "--port", str(port),
             "--system-id", SYSTEM_ID, "--password", PASSWORD, "--profile", "instant",
             "--seed", "1", "--record", str(record)],
            stdout=subprocess.DEVNULL, stderr=err,
        )
    sim = Simulator(port, process, record, stderr)
    try:
        wait_listening(sim)
        yield sim
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(_STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def run_client(node: str, port: int, *args: str, timeout: float = 60.0,
               password: str = PASSWORD) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [node, str(CLIENT_JS), "--host", "127.0.0.1", "--port", str(port),
         "--system-id", SYSTEM_ID, "--password", password, *args],
        capture_output=True, text=True, timeout=timeout, cwd=HERE,
    )


def test_npm_client_gets_every_receipt(node: str, simulator: Simulator) -> None:
    done = run_client(node, simulator.port, "--count", "1000", "--window", "50",
                      "--mix", "varied", "--timeout", "30")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)

    assert not result["timed_out"] and not result["link_lost"], result
    assert result["submitted_messages"] == 1000
    assert result["submit_errors"] == 0
    # the varied mix: 800 plain, 100 long GSM in 3 parts, 50 UCS-2, 50 long UCS-2 in 3
    assert result["submitted_parts"] == 1300
    assert result["receipts"] == result["matched_receipts"] == result["submitted_parts"]
    assert result["unmatched"] == 0
    assert result["stats"] == {"DELIVRD": result["submitted_parts"]}

    record = stop(simulator)
    assert record["submitted"] == result["submitted_parts"]
    assert record["distinct_numbers"] == 1000
    receipts = record["receipts"]
    assert receipts["planned"] == receipts["sent"] == receipts["acked"] == 1300
    assert receipts["pending"] == 0
    assert record["by_stat"] == {"DELIVRD": 1300}


def test_npm_client_bad_password(node: str, simulator: Simulator) -> None:
    done = run_client(node, simulator.port, "--count", "10", "--timeout", "10",
                      password="wrong", timeout=30.0)
    assert done.returncode != 0
    assert "bind refused" in done.stderr
    assert done.stdout == ""

    record = stop(simulator)
    assert record["submitted"] == 0
