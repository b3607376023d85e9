"""smscope's own callback shape, for any provider that can be told where to post
(``POST /hooks/{connector}/receipts``).

A JSON body signed with the connector's ``--secret`` (:mod:`smscope.signing`:
``X-Smscope-Timestamp`` and ``X-Smscope-Signature``), holding one receipt, a list of
them, or ``{"receipts": [...]}``; each receipt::

    {"id": "provider id", "status": "delivered", "error": "optional code",
     "number": "+33612345678", "sender": "SHOP"}

``status`` is a canonical smscope status (``received``, ``rejected``…) or a stat the
SMPP table knows (``DELIVRD``, ``UNDELIV`` with an ``error``…); ``opt_out: true`` says
the recipient opted out.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from smscope import signing
from smscope.db.types import utcnow
from smscope.errors import CallbackError
from smscope.receipts.http import Callback, HookRequest, e164, text
from smscope.receipts.mapping import DEFAULT_MAPPING, canonical_stat
from smscope.statuses import Status

__all__ = ["MAX_RECEIPTS", "parse", "status_of", "verify"]

#: receipts in one request at most
MAX_RECEIPTS = 1000
_KNOWN_STATS = frozenset({"DELIVRD", "UNDELIV", "REJECTD", "EXPIRED", "DELETED", "ACCEPTD",
                          "ENROUTE", "UNKNOWN", "SKIPPED"})


def status_of(stat: str, err: str | None) -> Status | None:
    """A canonical status id, or a stat of the SMPP table; None when neither."""
    try:
        return Status(stat.strip().lower())
    except ValueError:
        pass
    if canonical_stat(stat) in _KNOWN_STATS:
        return DEFAULT_MAPPING.map(stat, err)
    return None


def verify(request: HookRequest, settings: Mapping[str, Any], *,
           now: datetime | None = None) -> None:
    signing.verify(str(settings.get("secret") or ""),
                   request.headers.get(signing.TIMESTAMP_HEADER.lower()),
                   request.headers.get(signing.SIGNATURE_HEADER.lower()), request.body,
                   now=(now or utcnow()).timestamp())


def parse(request: HookRequest) -> list[Callback]:
    body = request.json()
    if isinstance(body, dict) and isinstance(body.get("receipts"), list):
        body = body["receipts"]
    items = body if isinstance(body, list) else [body]
    if not items:
        raise CallbackError("no receipt in the body")
    if len(items) > MAX_RECEIPTS:
        raise CallbackError(f"at most {MAX_RECEIPTS} receipts in one request")
    out = []
    for n, item in enumerate(items):
        where = f"receipt {n + 1}: " if len(items) > 1 else ""
        if not isinstance(item, dict):
            raise CallbackError(f"{where}a receipt is a JSON object")
        provider_id, stat = text(item.get("id")), text(item.get("status"), 32)
        if not provider_id or not stat:
            raise CallbackError(f"{where}a receipt needs \"id\" and \"status\"")
        err = text(item.get("error"), 32)
        status = status_of(stat, err)
        if status is None:
            raise CallbackError(f"{where}unknown status {stat!r}: use a smscope status "
                                "(received, rejected…) or an SMPP stat (DELIVRD, UNDELIV…)")
        opt_out = item.get("opt_out") is True
        out.append(Callback(provider_id=provider_id, stat=stat, err=err,
                            status=Status.BLACKLISTED if opt_out else status,
                            number=e164(text(item.get("number"), 32)),
                            sender=text(item.get("sender"), 32), opt_out=opt_out,
                            raw=request.body.decode("utf-8", "replace")[:4000]
                            if len(items) == 1 else repr(item)[:4000]))
    return out
