"""Benchmark of smscope's SMPP client and simulator against the npm ``smpp`` package.

Run from the repository root (``make install`` first, which also runs ``npm ci`` in
``tests/interop``)::

    .venv/bin/python bench/smpp.py                  # 100,000 messages per pairing
    .venv/bin/python bench/smpp.py --count 20000    # a quicker run

Four pairings on loopback, in one run, each submitting ``--count`` one-part messages
with at most ``--window`` submit_sm outstanding and receiving a delivery receipt for
each:

    (a) npm smpp client  -> npm smpp server    the baseline
    (b) smscope client   -> npm smpp server    our ESME side
    (c) npm smpp client  -> smscope simulator  our SMSC side (profile "instant")
    (d) smscope client   -> smscope simulator

The npm client and server are ``tests/interop/client.js`` and ``server.js``; the
simulator runs as ``smscope simulator`` in its own process, and our client in this
one, so every pairing has its two ends in two processes. Peers keep their default
socket options.

For each pairing: submit_sm/s (messages over the time from the first submit_sm to the
last submit_sm_resp) and receipts/s (messages over the time from the first submit_sm
to the last receipt). The ratios b/a and c/a compare receipts/s, the end-to-end figure
(targets: both >= 1), and (d) must reach 20,000 submit_sm/s with a window of 100. The
exit status is 0 whatever the figures: a measurement, not a test; non-zero only if a
pairing could not run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from driver import drive

ROOT = Path(__file__).resolve().parent.parent
INTEROP = ROOT / "tests" / "interop"
SYSTEM_ID, PASSWORD = "bench", "bench"
TARGET_RATIO = 1.0
TARGET_D_SUBMITS = 20_000


@dataclass
class Result:
    pairing: str
    submits_per_s: float
    receipts_per_s: float
    seconds: float
    receipts: int
    expected: int


# ----------------------------------------------------------------------------- servers


def _node() -> str:
    node = shutil.which("node")
    if node is None or not (INTEROP / "node_modules" / "smpp").is_dir():
        sys.exit("bench/smpp.py needs node and the npm smpp package: run 'make install'")
    return node


def _first_line(process: subprocess.Popen[str], stream: str) -> str:
    pipe = process.stdout if stream == "stdout" else process.stderr
    assert pipe is not None
    line = pipe.readline()
    if not line:
        raise SystemExit(f"{process.args[0]} exited before it listened "
                         f"(status {process.wait()})")
    return line


@contextmanager
def npm_server() -> Iterator[int]:
    process = subprocess.Popen(
        [_node(), str(INTEROP / "server.js"), "--port", "0", "--system-id", SYSTEM_ID,
         "--password", PASSWORD],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
        text=True)
    try:
        yield int(json.loads(_first_line(process, "stdout"))["port"])
    finally:
        _stop(process)


@contextmanager
def simulator() -> Iterator[int]:
    process = subprocess.Popen(
        [sys.executable, "-m", "smscope", "simulator", "--port", "0", "--profile",
         "instant", "--system-id", SYSTEM_ID, "--password", PASSWORD],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
        text=True, cwd=ROOT)
    try:
        line = _first_line(process, "stderr")
        yield int(line.split("listening on ", 1)[1].split()[0].rsplit(":", 1)[1])
    finally:
        _stop(process)


def _stop(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# ----------------------------------------------------------------------------- clients


def npm_client(pairing: str, port: int, count: int, window: int) -> Result:
    done = subprocess.run(
        [_node(), str(INTEROP / "client.js"), "--host", "127.0.0.1", "--port", str(port),
         "--system-id", SYSTEM_ID, "--password", PASSWORD, "--count", str(count),
         "--window", str(window), "--mix", "plain", "--timeout", "600"],
        capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        raise SystemExit(f"{pairing}: the npm client failed: {done.stderr.strip()[-500:]}")
    data = json.loads(done.stdout)
    total = float(data["total_seconds"])
    return Result(pairing, count / float(data["submit_seconds"]), count / total, total,
                  int(data["matched_receipts"]), count)


def _message(i: int) -> tuple[str, str, str]:
    return "Benchmark message", "BENCH", f"+336{i:08d}"


def our_client(pairing: str, port: int, count: int, window: int) -> Result:
    run = asyncio.run(drive(port, SYSTEM_ID, PASSWORD, count, window, _message))
    if run.failed:
        raise SystemExit(f"{run.failed} submits failed")
    return Result(pairing, count / run.submit_seconds, count / run.seconds, run.seconds,
                  run.received, count)


# ----------------------------------------------------------------------------- report


def report(results: dict[str, Result], window: int) -> None:
    print(f"\nSMPP on loopback: {next(iter(results.values())).expected:,} messages per "
          f"pairing, window {window}\n")
    print(f"{'pairing':<40} {'submit_sm/s':>12} {'receipts/s':>12} {'seconds':>9} "
          f"{'receipts':>10}")
    for result in results.values():
        print(f"{result.pairing:<40} {result.submits_per_s:>12,.0f} "
              f"{result.receipts_per_s:>12,.0f} {result.seconds:>9.2f} "
              f"{result.receipts:>7,}/{result.expected:,}")
    a, b, c, d = (results[k] for k in "abcd")
    print()
    checks = [
        ("b/a (our client, receipts/s)", b.receipts_per_s / a.receipts_per_s, TARGET_RATIO),
        ("c/a (our simulator, receipts/s)", c.receipts_per_s / a.receipts_per_s,
         TARGET_RATIO),
    ]
    for name, ratio, target in checks:
        verdict = "ok" if ratio >= target else "BELOW TARGET"
        print(f"{name:<40} {ratio:>12.2f}   target >= {target:g}: {verdict}")
    verdict = "ok" if d.submits_per_s >= TARGET_D_SUBMITS else "BELOW TARGET"
    print(f"{'(d) submit_sm/s':<40} {d.submits_per_s:>12,.0f}   target >= "
          f"{TARGET_D_SUBMITS:,}: {verdict}")
    lost = [r.pairing for r in results.values() if r.receipts != r.expected]
    if lost:
        print(f"\nmissing receipts in: {', '.join(lost)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100_000, help="messages per pairing")
    parser.add_argument("--window", type=int, default=100, help="submit_sm outstanding")
    parser.add_argument("--only", default="abcd", help="pairings to run, e.g. 'ad'")
    args = parser.parse_args()
    results: dict[str, Result] = {}
    labels = {"a": "(a) npm client -> npm server",
              "b": "(b) smscope client -> npm server",
              "c": "(c) npm client -> smscope simulator",
              "d": "(d) smscope client -> smscope simulator"}
    for key in args.only:
        print(f"running {labels[key]} ...", file=sys.stderr)
        if key in "ab":
            with npm_server() as port:
                run = npm_client if key == "a" else our_client
                results[key] = run(labels[key], port, args.count, args.window)
        else:
            with simulator() as port:
                run = npm_client if key == "c" else our_client
                results[key] = run(labels[key], port, args.count, args.window)
    if set("abcd") <= set(results):
        report(results, args.window)
    else:
        for result in results.values():
            print(result)


if __name__ == "__main__":
    main()
