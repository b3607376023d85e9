"""The dashboard shows the figures the CLI prints: the statistics document of the
last 30 days and each recent campaign's report rates."""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta

from smscope.reports.campaign import campaign_report
from smscope.reports.stats import statistics
from tests.campaigns.helpers import Engine, number
from tests.reports.sample import sent_campaign
from tests.web.conftest import signed_in


def cell_texts(page: str, table_id: str) -> list[list[str]]:
    body = page.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)[1:]
    return [[re.sub(r"<[^>]+>|\s+", " ", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>",
                                                                        row, re.S)]
            for row in rows]


def test_an_empty_account_says_what_to_do(site) -> None:
    client, _ = signed_in(site, "reader@example.com")
    page = client.get("/").text
    assert 'id="no-campaigns"' in page and "No message was sent in the last 30 days" in page
    assert re.search(r'id="stat-recipients">0<', page)


def test_the_dashboard_figures_are_the_reports(site) -> None:
    first = sent_campaign(site.smscope.db)
    second = Engine(site.smscope.db).campaign(name="Relance <b>ouverte</b>",
                                              numbers=[number(8), number(9)])
    client, _ = signed_in(site, "member@example.com")
    page = client.get("/").text
    zone = site.smscope.config.zone
    today = datetime.now(zone).date()
    with site.smscope.db.session() as session:
        totals = statistics(session, date_from=today - timedelta(days=29), date_to=today,
                            zone=zone)["totals"]
        reports = [campaign_report(session, cid) for cid in (second, first)]
    for key, element in (("recipients", "stat-recipients"), ("replies", "stat-replies"),
                         ("soft_bounce", "stat-soft-bounces"),
                         ("hard_bounce", "stat-hard-bounces")):
        assert re.search(rf'id="{element}">{totals[key]:,}[ <]', page), key
    rows = cell_texts(page, "recent-campaigns")
    assert len(rows) == 2
    for row, report in zip(rows, reports, strict=True):
        assert html.unescape(row[0]).startswith(report["name"])
        assert row[1] == report["state"] and row[2] == f"{report['recipients']:,}"
        assert row[3:7] == [f"{report['rates'][k]:.1%}" for k in (
            "receipt_rate", "delivery_rate", "permanent_error_rate", "unsubscribe_rate")]
    assert "<b>ouverte</b>" not in page  # names are escaped


def test_a_recent_campaign_opens_its_report(site) -> None:
    campaign_id = sent_campaign(site.smscope.db)
    client, _ = signed_in(site, "reader@example.com")
    page = client.get("/").text
    assert f'<a href="/campaigns/{campaign_id}">' in page.split('id="recent-campaigns"')[1]
