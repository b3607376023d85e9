"""Through a real socket: ``smscope users create`` and ``tokens create`` in their own
processes, then ``smscope serve`` answering a browser's login and an API client."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import httpx

from tests.e2e.processes import environment, serve, stop


def cli(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "smscope", *args], env=env, input=stdin,
                          capture_output=True, text=True, timeout=60, check=False)


def test_a_user_made_on_the_command_line_logs_in_and_calls_the_api(tmp_path: Path) -> None:
    env = environment(f"sqlite:///{tmp_path / 'serve.db'}")
    made = cli(env, "users", "create", "ops@example.com", "--role", "member",
               "--password-stdin", stdin="s3cret-pass\n")
    assert made.returncode == 0, made.stderr
    token = cli(env, "tokens", "create", "ops@example.com", "--json")
    assert token.returncode == 0, token.stderr
    value = json.loads(token.stdout)["token"]
    process, base = serve(env, tmp_path / "serve.log")
    try:
        with httpx.Client(base_url=base, timeout=10) as browser:
            form = browser.get("/login").text
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
            answer = browser.post("/login", data={"email": "ops@example.com",
                                                  "password": "s3cret-pass",
                                                  "csrf_token": csrf, "next": "/"})
            assert answer.status_code == 303 and answer.headers["location"] == "/"
            dashboard = browser.get("/")
            assert dashboard.status_code == 200 and "ops@example.com" in dashboard.text
            assert browser.get("/static/smscope.css").status_code == 200
        api = httpx.get(f"{base}/api/v1/campaigns",
                        headers={"Authorization": f"Bearer {value}"}, timeout=10)
        assert api.json() == {"items": [], "next_cursor": None}
        refused = httpx.get(f"{base}/api/v1/campaigns", timeout=10)
        assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthorized"
    finally:
        assert stop(process) == 0
