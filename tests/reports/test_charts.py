"""The report's charts: SVG markup to inline in a page or a PDF — deterministic,
offline, accessible, one colour per category everywhere."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from smscope.campaigns.counters import LATENCY_BOUNDS
from smscope.reports import charts
from smscope.reports.campaign import delivery_times
from smscope.reports.labels import CATEGORY_COLOURS, duration_text

STATUSES = {"received": 8, "delivered_to_operator": 1, "expired": 1, "routing_error": 0}
COUNTS = {"delivered": 8, "pending": 1, "soft_bounce": 1, "hard_bounce": 0, "error": 0,
          "unsubscribed": 0, "not_sent": 0}
CURVE = delivery_times({"latency:10": 2, "latency:60": 5, "latency:3600": 2,
                        "latency:more": 1})
PERIODS = [{"period": f"2026-11-{day:02d}", "recipients": 10 * day, "received": 8 * day,
            "pending": day, "soft_bounce": day, "hard_bounce": 0, "errors": 0,
            "blacklisted": 0, "not_sent": 0} for day in range(1, 9)]


def all_charts() -> list[str]:
    return [charts.statuses_chart(STATUSES), charts.categories_chart(COUNTS),
            charts.delivery_times_chart(CURVE), charts.periods_chart(PERIODS)]


def fills(svg: str) -> set[str]:
    return {value.lower() for value in re.findall(r'fill="(#[0-9A-Fa-f]{6})"', svg)}


def test_the_same_figures_give_the_same_bytes() -> None:
    assert all_charts() == all_charts()


def test_a_chart_is_inline_markup_with_a_title_a_description_and_no_script() -> None:
    for svg in all_charts():
        root = ET.fromstring(svg)
        assert svg.startswith("<svg ") and "<?xml" not in svg and "<!DOCTYPE" not in svg
        for absent in ("<style", "<metadata", "<script", "xlink", "Matplotlib"):
            assert absent not in svg
        # nothing to fetch: the only URL is the namespace's
        assert re.findall(r"https?://[^\"' ]+", svg) == ["http://www.w3.org/2000/svg"]
        chart_id = root.get("id")
        assert root.get("role") == "img"
        assert root.get("aria-labelledby") == f"{chart_id}-title {chart_id}-desc"
        assert root[0].tag.endswith("title") and root[0].get("id") == f"{chart_id}-title"
        assert root[1].tag.endswith("desc") and root[1].text


def test_the_description_says_the_numbers_in_words() -> None:
    assert "Received: 8 (80.0%); Delivered to operator: 1 (10.0%); Expired: 1 (10.0%)." in (
        charts.statuses_chart(STATUSES))
    assert "Delivered: 8 (80.0%)" in charts.categories_chart(COUNTS)
    assert "20.0% within 10 s" in charts.delivery_times_chart(CURVE)
    assert "2026-11-02: 20 messages, delivered 16" in charts.periods_chart(PERIODS)


def test_labels_are_text_not_paths() -> None:
    svg = charts.statuses_chart(STATUSES)
    texts = [t.text for t in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}text")]
    assert {"Received", "Delivered to operator", "Expired", "8 (80.0%)"} <= set(texts)
    assert "Routing error" not in texts  # a status nobody has is left out
    legend = ET.fromstring(charts.categories_chart(COUNTS)).itertext()
    assert "Soft bounces: 1 (10.0%)" in legend


def test_each_category_keeps_its_colour_in_every_chart() -> None:
    delivered, pending, soft = (CATEGORY_COLOURS[c].lower()
                                for c in ("delivered", "pending", "soft_bounce"))
    for svg in (charts.statuses_chart(STATUSES), charts.categories_chart(COUNTS),
                charts.periods_chart(PERIODS)):
        assert {delivered, pending, soft} <= fills(svg)
    assert CATEGORY_COLOURS["hard_bounce"].lower() not in fills(
        charts.categories_chart(COUNTS))


def test_ids_are_unique_on_a_page_and_every_reference_resolves() -> None:
    page = [*all_charts(), charts.statuses_chart(STATUSES, chart_id="again")]
    ids: list[str] = []
    for svg in page:
        own = re.findall(r' id="([^"]+)"', svg)
        refs = re.findall(r'url\(#([^)]+)\)', svg) + re.findall(r'href="#([^"]+)"', svg)
        assert set(refs) <= set(own)
        ids += own
    assert len(ids) == len(set(ids))


def test_the_delivery_time_axis_reads_in_seconds_minutes_hours_and_days() -> None:
    svg = charts.delivery_times_chart(delivery_times(
        {f"latency:{bound}": 1 for bound in LATENCY_BOUNDS}))
    labels = set(ET.fromstring(svg).itertext())
    assert {"10 s", "1 min", "5 min", "1 h", "1 d", "3 d", "later"} <= labels
    assert "half within 30 min · 90% within 2 d" in labels
    assert [duration_text(s) for s in (10, 90, 120, 3600, 86400, None)] == [
        "10 s", "90 s", "2 min", "1 h", "1 d", "later"]


def test_the_periods_chart_stacks_the_categories_with_a_legend() -> None:
    labels = set(ET.fromstring(charts.periods_chart(PERIODS)).itertext())
    assert {"Delivered", "Pending", "Soft bounces", "2026-11-01"} <= labels
    assert "Hard bounces" not in labels  # nothing to show, nothing in the legend
    thirty = [{**PERIODS[0], "period": f"2026-12-{d:02d}"} for d in range(1, 31)]
    shown = [t for t in ET.fromstring(charts.periods_chart(thirty)).itertext()
             if t.startswith("2026-12-")]
    assert 10 <= len(shown) <= 16  # every other day: the labels stay readable


def test_charts_with_nothing_to_draw_say_so() -> None:
    assert "No recipients yet." in charts.statuses_chart({"received": 0})
    assert "No recipients yet." in charts.categories_chart({})
    assert "No receipts yet." in charts.delivery_times_chart(delivery_times({}))
    assert "No period in this range." in charts.periods_chart([])
    empty = charts.periods_chart([{**PERIODS[0], "recipients": 0, "received": 0,
                                   "pending": 0, "soft_bounce": 0}])
    assert "No messages in this range" in empty
