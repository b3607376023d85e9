"""``smscope demo`` serves the redirect endpoint while it sends, so the simulator's
clicks land and the report shows them (``--no-ui``: on a free port, then it exits)."""

from __future__ import annotations

from pathlib import Path

CLICKING = """
description = "every message delivered at once; half of them clicked"
[latency]
distribution = "fixed"
value = 0
[[outcomes]]
stat = "DELIVRD"
share = 1.0
[clicks]
rate = 0.5
delay = { distribution = "fixed", value = 0 }
"""


def test_the_demo_report_shows_the_simulators_clicks(smscope, tmp_path: Path) -> None:
    profile = tmp_path / "clicking.toml"
    profile.write_text(CLICKING)
    run = smscope("demo", "--recipients", "120", "--profile", str(profile), "--no-ui",
                  "--json")
    assert run.code == 0, run.err
    report = run.json()
    assert report["recipients"] == 120 and report["state"] == "completed"
    assert "shop.example.com" in report["text"]
    received = report["statuses"]["received"]
    assert 0 < report["unique_clicks"] <= report["clicks"] <= received
    assert "database: " in run.err and "report again with" in run.err
