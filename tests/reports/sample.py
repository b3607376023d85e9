"""A campaign to render: named contacts with accents, a text with a euro sign and an
emoji, receipts of several kinds and a reply."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from smscope.db import Database
from tests.campaigns.helpers import NOW, Engine, mo, number, receipt

PARIS = ZoneInfo("Europe/Paris")
NAME = "Soldes d'hiver — Noël"
TEXT = "Bonjour {first_name}, -20 € ce week-end 😀 ! STOP au 36180"


def sent_campaign(db: Database, *, name: str = NAME, text: str = TEXT,
                  first_name: str = "Élodie", reply: str = "Merci ! 👍",
                  extra: int = 0) -> int:
    """Four named contacts (plus ``extra`` more) in the list "Clients fidèles": one
    received, one hard bounce, one rejected, the others still at the operator; a reply
    from the first. Returns the campaign's id."""
    engine = Engine(db).setup(credits=100_000)
    contacts = [{"number": number(1), "first_name": first_name, "last_name": "Müller"},
                {"number": number(2), "first_name": "François", "last_name": "Lefèvre"},
                {"number": number(3), "first_name": "Zoë", "last_name": "Ñúñez"},
                {"number": number(4), "first_name": "Søren", "last_name": "Østergaard"}]
    contacts += [{"number": number(i), "first_name": f"Ana {i}", "last_name": "Çelik"}
                 for i in range(5, 5 + extra)]
    engine.contacts("Clients fidèles", contacts)
    campaign_id = engine.campaign(name=name, text=text, lists=["Clients fidèles"])
    ids = engine.send_all(limit=len(contacts) + 10)
    engine.receipts([receipt(ids[number(1)], to=number(1)),
                     receipt(ids[number(2)], "UNDELIV", "001", to=number(2)),
                     receipt(ids[number(3)], "REJECTD", "000", to=number(3))],
                    NOW + timedelta(seconds=40))
    engine.replies([mo(reply, frm=number(1))], NOW + timedelta(minutes=2))
    return campaign_id
