"""``smscope simulator`` as a process: listening line, record on SIGUSR1 and on exit,
summary line, one-line errors."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from smscope.smpp.client import SMPPClient

LISTENING = re.compile(r"listening on 127\.0\.0\.1:(\d+)")


def start(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "smscope", "simulator", "--port", "0", *args],
        cwd=tmp_path, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )


def port_of(process: subprocess.Popen[str]) -> int:
    assert process.stderr is not None
    line = process.stderr.readline()
    found = LISTENING.search(line)
    assert found, line
    return int(found.group(1))


async def send(port: int, count: int) -> None:
    delivered: list[object] = []

    async def on_receipts(batch: list[object]) -> None:
        delivered.extend(batch)

    async with SMPPClient("127.0.0.1", port, "shop", "pw", on_receipts=on_receipts) as client:
        for i in range(count):
            assert (await client.submit("hello", "SHOP", f"+3361234{i:04d}")).ok
        deadline = time.monotonic() + 5
        while len(delivered) < count and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
    assert len(delivered) == count


def wait_for_file(path: Path, timeout: float = 5.0) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never written"
        time.sleep(0.02)
    data: dict[str, object] = json.loads(path.read_text())
    return data


def test_record_on_sigusr1_and_exit_and_summary_line(tmp_path: Path) -> None:
    record = tmp_path / "record.json"
    process = start(tmp_path, "--profile", "instant", "--system-id", "shop",
                    "--password", "pw", "--record", str(record), "--seed", "3")
    try:
        port = port_of(process)
        asyncio.run(send(port, 12))
        process.send_signal(signal.SIGUSR1)
        snapshot = wait_for_file(record)
        assert snapshot["submitted"] == 12
        assert snapshot["distinct_numbers"] == 12
        assert snapshot["receipts"] == {"planned": 12, "sent": 12, "resent": 0, "acked": 12,
                                        "pending": 0}
        assert snapshot["by_stat"] == {"DELIVRD": 12}
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=10)
    finally:
        process.kill()
    assert process.returncode == 0, stderr
    assert stdout.count("\n") == 1
    assert "12 submitted to 12 numbers, 12 receipts sent, 12 acknowledged, 0 pending" in stdout
    assert json.loads(record.read_text())["submitted"] == 12


def test_json_summary_on_sigint(tmp_path: Path) -> None:
    process = start(tmp_path, "--profile", "instant", "--json")
    try:
        port_of(process)
        process.send_signal(signal.SIGINT)
        stdout, _ = process.communicate(timeout=10)
    finally:
        process.kill()
    assert process.returncode == 0
    assert json.loads(stdout)["submitted"] == 0


def run_cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "smscope", "simulator", *args],
                          cwd=tmp_path, stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=30, check=False)


def test_port_in_use_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run_cli(tmp_path, "--port", str(port))
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1
    assert f"port {port} on 127.0.0.1 is already in use" in done.stderr


@pytest.mark.parametrize(
    ("args", "says", "code"),
    [
        (("--profile", "nope"), "neither a built-in profile", 1),
        (("--max-rate", "0"), "--max-rate", 2),
        (("--port", "70000"), "--port", 2),
        (("--record", "missing/record.json"), "does not exist", 2),
    ],
)
def test_bad_options_are_one_line(tmp_path: Path, args: tuple[str, ...], says: str,
                                  code: int) -> None:
    done = run_cli(tmp_path, *args)
    assert done.returncode == code
    assert done.stderr.count("\n") == 1 and says in done.stderr, done.stderr


def test_bad_profile_file_names_the_mistake(tmp_path: Path) -> None:
    (tmp_path / "p.toml").write_text('[[outcomes]]\nstat = "DELIVRD"\nshare = 2\n')
    done = run_cli(tmp_path, "--profile", "p.toml")
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1
    assert "p.toml: [outcomes.0] share" in done.stderr
