"""``smscope demo`` (what ``make demo`` runs) ends by serving the web UI and printing
the address and a login that works there."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.e2e.processes import environment

LINE = re.compile(r"web app: open (http://\S+)/ and log in as (\S+) with the password (\S+);")


def test_the_demo_prints_a_login_that_opens_the_dashboard(tmp_path: Path) -> None:
    env = environment("")
    del env["SMSCOPE_DATABASE_URL"]  # the demo makes its own database
    process = subprocess.Popen(
        [sys.executable, "-m", "smscope", "demo", "--recipients", "30", "--profile",
         "instant"], env=env, cwd=tmp_path, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        deadline = time.monotonic() + 120
        found = None
        lines = []
        while found is None and time.monotonic() < deadline:
            line = process.stderr.readline()
            if not line:
                break
            lines.append(line)
            found = LINE.search(line)
        assert found, "".join(lines)
        url, email, password = found.groups()
        with httpx.Client(base_url=url, timeout=10) as browser:
            form = browser.get("/login").text
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
            answer = browser.post("/login", data={"email": email, "password": password,
                                                  "csrf_token": csrf})
            assert answer.status_code == 303
            page = browser.get("/")
            assert "Demo campaign" in page.text and 'id="recent-campaigns"' in page.text
    finally:
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=30)
    assert process.returncode == 0
    assert "recipients" in out  # the report went to stdout, the login line did not
    assert password not in out
