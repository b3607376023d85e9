"""``/campaigns``: the list (filtered by state, keyset pages), the form that creates
or edits a draft, and the actions on a campaign (test send, send or schedule, pause,
resume, cancel after a confirmation) — each through :mod:`smscope.campaigns.service`,
as the CLI, with the signed-in user as the timeline's actor.

The form is checked field by field before the service sees it, so each error is shown
next to its field and the form keeps what was typed; whatever the service still
refuses is shown above the form.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from smscope import text as sms_text
from smscope.campaigns import service
from smscope.campaigns.counters import read_counters
from smscope.campaigns.fanout import parse_numbers
from smscope.campaigns.preview import text_counter
from smscope.connectors import registry
from smscope.contacts.book import lists_summary
from smscope.db.tables import Campaign, CampaignList, ContactList
from smscope.db.types import utcnow
from smscope.errors import NotFoundError, PermissionDeniedError, SmscopeError, TemplateError
from smscope.inputs import has_nul, refuse_nul
from smscope.reports.figures import figures
from smscope.web.auth import Login, signed_in, smscope_of, writer_form
from smscope.web.pages._forms import nul_error, nul_errors
from smscope.web.pages._render import redirect, render

__all__ = ["STATES", "campaign_id_of", "router"]

router = APIRouter()

STATES = ("draft", "scheduled", "sending", "paused", "suspended", "completed", "cancelled")
PAGE_SIZE = 25
#: the longest text a campaign may have (as the API)
MAX_TEXT = 10_000
#: the most ad-hoc numbers the form takes (a file import is the way for more)
MAX_NUMBERS = 10_000
#: the fields the form shows an error next to
SHOWN = ("name", "sender", "text", "lists", "numbers", "type", "connector", "schedule",
         "validity")


def campaign_id_of(raw: str) -> int:
    """A campaign id from a path: anything but a positive integer is a missing page."""
    if not raw.isdigit() or len(raw) > 18 or int(raw) < 1:
        raise NotFoundError(f"there is no campaign {raw!r}; the campaigns page lists them")
    return int(raw)


def actor_of(login: Login) -> str:
    return f"web:{login.email}"


# -- the list ---------------------------------------------------------------------------

#: what the list shows: campaigns, single messages (POST /api/v1/messages), or both
SHOW = {"campaigns": "campaigns", "single": "single messages", "all": "both"}


def _bad_request(request: Request, message: str) -> Response:
    from smscope.web.pages import error_page
    return error_page(request, 400, message)


@router.get("/campaigns", include_in_schema=False)
def campaigns(request: Request, state: str = "", show: str = "campaigns", before: str = "",
              login: Login = Depends(signed_in)) -> Response:
    if state and state not in STATES:
        return _bad_request(request, f"There is no campaign state {state!r}; choose one "
                                     "of the list's filter.")
    if show not in SHOW:
        return _bad_request(request, f"There is no choice {show[:20]!r} of what to show; "
                                     f"choose one of {', '.join(SHOW)}.")
    if before and not before.isdigit():
        return _bad_request(request, "This page address is damaged: go back to the first "
                                     "page of the campaigns.")
    query = select(Campaign).where(Campaign.type != "test")
    if show != "all":
        # single messages sent through the API are one-number campaigns: kept apart,
        # or a few thousand of them would bury the campaigns
        query = query.where(service.is_single_message() == (show == "single"))
    if state:
        query = query.where(Campaign.state == state)
    if before:
        query = query.where(Campaign.id < int(before))
    with smscope_of(request).db.session() as session:
        rows = list(session.scalars(query.order_by(Campaign.id.desc()).limit(PAGE_SIZE + 1)))
        items = [{"id": c.id, "name": c.name, "state": c.state, "type": c.type,
                  "created_at": c.created_at, "started_at": c.started_at,
                  "schedule_at": c.schedule_at, **figures(read_counters(session, c.id))}
                 for c in rows[:PAGE_SIZE]]
        anything = bool(items) or session.scalar(
            select(Campaign.id).where(Campaign.type != "test").limit(1)) is not None
    more = len(rows) > PAGE_SIZE
    return render(request, "campaigns.html", {
        "campaigns": items, "state": state, "states": STATES, "anything": anything,
        "show": show, "shows": SHOW,
        "next_before": items[-1]["id"] if more else None, "first_page": not before})


# -- the form ---------------------------------------------------------------------------


@dataclass
class CampaignForm:
    """What the form holds, as typed, and the errors of each field."""

    name: str = ""
    sender: str = ""
    text: str = ""
    lists: list[str] = field(default_factory=list)
    numbers: str = ""
    type: str = "marketing"
    connector: str = ""
    schedule: str = ""
    validity: str = ""
    track_links: bool = True
    #: the preview's contact, and whether the form was sent only to see the preview
    offset: int = 0
    preview: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    async def read(cls, request: Request) -> CampaignForm:
        """The form as posted; a NUL character in a field is its error already."""
        data = await request.form()

        def one(name: str) -> str:
            value = data.get(name, "")
            return value if isinstance(value, str) else ""

        errors = nul_errors({k: data.getlist(k) for k in data if k != "csrf_token"},
                            SHOWN)
        return cls(name=one("name"), sender=one("sender"), text=one("text"),
                   lists=[v for v in data.getlist("lists") if isinstance(v, str) and v],
                   numbers=one("numbers"), type=one("type") or "marketing",
                   connector=one("connector"), schedule=one("schedule"),
                   validity=one("validity"), track_links=one("track_links") == "1",
                   offset=int(one("offset")) if one("offset").isdigit()
                   and len(one("offset")) < 9 else 0, preview=one("preview"),
                   errors=errors)

    @classmethod
    def of(cls, campaign: Campaign, lists: list[str], zone: Any) -> CampaignForm:
        schedule = (campaign.schedule_at.astimezone(zone).strftime("%Y-%m-%dT%H:%M")
                    if campaign.schedule_at else "")
        seconds = (campaign.options or {}).get("validity_seconds")
        return cls(name=campaign.name, sender=campaign.sender, text=campaign.text,
                   lists=lists, numbers="\n".join(n["raw"] for n in campaign.numbers or []),
                   type=campaign.type, schedule=schedule,
                   validity=f"{int(seconds // 3600)}h" if seconds and seconds % 3600 == 0
                   else (f"{int(seconds)}s" if seconds else ""),
                   track_links=(campaign.options or {}).get("track_links", True))

    def number_lines(self) -> list[str]:
        return [line.strip() for line in self.numbers.replace(",", "\n").splitlines()
                if line.strip()]


@dataclass
class Checked:
    """A form's values once every field is right."""

    numbers: list[dict[str, Any]]
    schedule: datetime | None
    validity: timedelta | None


def _check(form: CampaignForm, session: Session, request: Request) -> Checked | None:
    """Check each field on its own; None (and ``form.errors``) when one is wrong."""
    smscope = smscope_of(request)
    config = smscope.config
    errors = form.errors
    if not form.name.strip():
        errors["name"] = "Give the campaign a name (only you see it)."
    elif len(form.name.strip()) > 200:
        errors["name"] = "A name has at most 200 characters."
    try:
        service.check_sender(form.sender)
    except SmscopeError as exc:
        errors["sender"] = _sentence(str(exc))
    if not form.text.strip():
        errors["text"] = "Write the message's text."
    elif len(form.text) > MAX_TEXT:
        errors["text"] = (f"The text has {len(form.text):,} characters; a campaign's "
                          f"text has at most {MAX_TEXT:,}.")
    else:
        try:
            sms_text.placeholders(form.text)
        except TemplateError as exc:
            errors["text"] = _sentence(str(exc))
    known = set(session.scalars(select(ContactList.name)))
    unknown = [name for name in form.lists if name not in known]
    if unknown:
        errors["lists"] = f"There is no list named {unknown[0]!r}; choose among the lists."
    lines = form.number_lines()
    numbers: list[dict[str, Any]] = []
    if len(lines) > MAX_NUMBERS:
        errors["numbers"] = (f"{len(lines):,} numbers: the form takes at most "
                             f"{MAX_NUMBERS:,}; import a file into a list instead.")
    else:
        numbers = parse_numbers(lines, config.default_region)
        bad = [n for n in numbers if "reason" in n]
        if bad:
            errors["numbers"] = f"{bad[0]['raw']!r} is not a mobile number: {bad[0]['reason']}"
    if not form.lists and not lines and "lists" not in errors:
        errors["lists"] = "Choose at least one list, or type numbers below."
    if form.type not in service.TYPES:
        errors["type"] = "Choose marketing or transactional."
    if form.connector:
        try:
            registry.get_connector(session, form.connector)
        except NotFoundError:
            errors["connector"] = f"There is no connector {form.connector!r}; choose one."
    schedule = None
    if form.schedule.strip():
        try:
            schedule = datetime.fromisoformat(form.schedule.strip())
        except ValueError:
            errors["schedule"] = "Write a date and time like 2026-12-01T09:30."
        else:
            if schedule.tzinfo is None:
                schedule = schedule.replace(tzinfo=config.zone)
            if schedule <= utcnow():
                errors["schedule"] = ("This moment is past: choose a later one, or leave "
                                      "it empty to send when you press Send.")
    validity = None
    try:
        validity = service.parse_validity(form.validity.strip() or None, "validity")
    except SmscopeError as exc:
        errors["validity"] = _sentence(str(exc)) + " Write it like 48h or 90m."
    if errors:
        return None
    return Checked(numbers, schedule, validity)


def _sentence(message: str) -> str:
    message = message.strip()
    return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")


def _writer(login: Login) -> None:
    if not login.can_write:
        raise PermissionDeniedError("Your account is read-only: ask an admin for the "
                                    "member role to create or change campaigns.")


def _form_page(request: Request, form: CampaignForm, *, campaign: Campaign | None = None,
               problem: str | None = None, status_code: int = 200) -> Response:
    smscope = smscope_of(request)
    with smscope.db.transaction() as session:
        registry.sync_config_connectors(session, smscope.config)
        connectors = [c.name for c in registry.list_connectors(session)]
        lists = lists_summary(session)
        if form.preview == "next":
            form.offset += 1
        # a list's name with a NUL (told next to the field) is no list to count
        counted = [name for name in form.lists if not has_nul(name)]
        counter = text_counter(session, form.text[:MAX_TEXT], config=smscope.config,
                               prices=smscope.price_table(), lists=counted,
                               numbers=form.number_lines()[:MAX_NUMBERS],
                               track_links=form.track_links, offset=form.offset)
        if counter["preview"] is None and form.offset:
            form.offset = 0
            counter = text_counter(session, form.text[:MAX_TEXT], config=smscope.config,
                                   prices=smscope.price_table(), lists=counted,
                                   numbers=form.number_lines()[:MAX_NUMBERS],
                                   track_links=form.track_links)
    if not form.connector and campaign is None and len(connectors) == 1:
        form.connector = connectors[0]
    return render(request, "campaign_form.html", {
        "form": form, "campaign": campaign, "connectors": connectors, "lists": lists,
        "problem": problem, "max_text": MAX_TEXT, "counter": counter},
        status_code=status_code)


@router.get("/campaigns/new", include_in_schema=False)
def new_campaign(request: Request, login: Login = Depends(signed_in)) -> Response:
    _writer(login)
    return _form_page(request, CampaignForm())


@router.post("/campaigns/new", include_in_schema=False)
async def create(request: Request, login: Login = Depends(writer_form)) -> Response:
    form = await CampaignForm.read(request)
    if form.errors:
        return _form_page(request, form, status_code=422)
    if form.preview:
        return _form_page(request, form)
    smscope = smscope_of(request)
    problem = None
    campaign_id = None
    # the form page is rendered once the transaction is over (SQLite has one writer)
    with smscope.db.transaction() as session:
        checked = _check(form, session, request)
        if checked is not None:
            try:
                connector = registry.connector_for_campaign(session, smscope.config,
                                                            form.connector or None)
                campaign_id = service.create_campaign(
                    session, name=form.name, sender=form.sender, text=form.text,
                    config=smscope.config, now=utcnow(), lists=form.lists,
                    numbers=checked.numbers or None, type_=form.type,
                    connector=connector, schedule=checked.schedule,
                    validity=checked.validity, track_links=form.track_links,
                    actor=actor_of(login)).id
            except SmscopeError as exc:
                session.rollback()
                _blame(form, exc)
                problem = None if form.errors else str(exc)
    if campaign_id is None:
        return _form_page(request, form, problem=problem, status_code=422)
    return redirect(f"/campaigns/{campaign_id}", flash=(
        "success", f"Draft campaign {form.name.strip()!r} created. Send a test, then send "
                   "it when it reads right."))


def _blame(form: CampaignForm, exc: SmscopeError) -> None:
    """Put an error the service found next to the field it is about."""
    if isinstance(exc, TemplateError):
        form.errors["text"] = _sentence(str(exc))


def _editable(session: Session, campaign_id: int) -> Campaign:
    campaign = service.get_campaign(session, campaign_id)
    if campaign.state not in ("draft", "scheduled") or campaign.started_at is not None:
        raise service.CampaignStateError(
            f"Campaign {campaign_id} is {campaign.state}: only a draft or a scheduled "
            "campaign not started yet can be edited.")
    return campaign


def _list_names(session: Session, campaign_id: int) -> list[str]:
    return list(session.scalars(
        select(ContactList.name).join(CampaignList, CampaignList.list_id == ContactList.id)
        .where(CampaignList.campaign_id == campaign_id).order_by(ContactList.name)))


@router.get("/campaigns/{campaign_id}/edit", include_in_schema=False)
def edit_form(request: Request, campaign_id: str,
              login: Login = Depends(signed_in)) -> Response:
    _writer(login)
    number = campaign_id_of(campaign_id)
    smscope = smscope_of(request)
    with smscope.db.session() as session:
        campaign = service.get_campaign(session, number)
        if campaign.state not in ("draft", "scheduled") or campaign.started_at is not None:
            return redirect(f"/campaigns/{number}", flash=(
                "error", f"This campaign is {campaign.state}: it can no longer be edited."))
        form = CampaignForm.of(campaign, _list_names(session, number), smscope.config.zone)
        if campaign.connector_id:
            form.connector = registry.get_connector(session, campaign.connector_id).name
        session.expunge(campaign)
    return _form_page(request, form, campaign=campaign)


@router.post("/campaigns/{campaign_id}/edit", include_in_schema=False)
async def edit(request: Request, campaign_id: str,
               login: Login = Depends(writer_form)) -> Response:
    number = campaign_id_of(campaign_id)
    form = await CampaignForm.read(request)
    smscope = smscope_of(request)
    if form.preview or form.errors:
        with smscope.db.session() as session:
            campaign = service.get_campaign(session, number)
            session.expunge(campaign)
        return _form_page(request, form, campaign=campaign,
                          status_code=422 if form.errors else 200)
    problem = None
    saved = False
    try:
        with smscope.db.session() as session:
            _editable(session, number)
    except service.CampaignStateError as exc:
        return redirect(f"/campaigns/{number}", flash=("error", str(exc)))
    with smscope.db.transaction() as session:
        campaign = _editable(session, number)
        checked = _check(form, session, request)
        if checked is not None:
            try:
                service.edit_campaign(
                    session, number, config=smscope.config, now=utcnow(), name=form.name,
                    sender=form.sender, text=form.text, schedule=checked.schedule,
                    unschedule=checked.schedule is None, lists=form.lists,
                    numbers=checked.numbers, type_=form.type, validity=checked.validity,
                    connector=form.connector or None, actor=actor_of(login))
                saved = True
            except SmscopeError as exc:
                session.rollback()
                _blame(form, exc)
                problem = None if form.errors else str(exc)
    if not saved:
        with smscope.db.session() as session:
            campaign = service.get_campaign(session, number)
            session.expunge(campaign)
        return _form_page(request, form, campaign=campaign, problem=problem,
                          status_code=422)
    return redirect(f"/campaigns/{number}", flash=("success", "Campaign saved."))


# -- actions ----------------------------------------------------------------------------


def _act(request: Request, campaign_id: str, login: Login, action: str) -> Response:
    number = campaign_id_of(campaign_id)
    smscope = smscope_of(request)
    now, actor = utcnow(), actor_of(login)
    try:
        with smscope.db.transaction() as session:
            if action == "send":
                campaign = service.send(session, number, config=smscope.config,
                                        prices=smscope.price_table(), now=now, actor=actor)
            else:
                act = {"pause": service.pause, "resume": service.resume,
                       "cancel": service.cancel}[action]
                campaign = act(session, number, now=now, actor=actor)
            state, recipients = campaign.state, campaign.recipients
    except NotFoundError:
        raise
    except SmscopeError as exc:
        return redirect(f"/campaigns/{number}", flash=("error", _sentence(str(exc))))
    done = {"sending": f"Sending started to {recipients:,} recipients.",
            "scheduled": "Scheduled: it starts by itself at its time.",
            "paused": "Paused: nothing more is submitted until you resume it.",
            "cancelled": "Cancelled: the messages not yet submitted will not be sent."}
    return redirect(f"/campaigns/{number}", flash=("success", done.get(state, f"Now {state}.")))


@router.post("/campaigns/{campaign_id}/send", include_in_schema=False)
def send(request: Request, campaign_id: str, login: Login = Depends(writer_form)) -> Response:
    return _act(request, campaign_id, login, "send")


@router.post("/campaigns/{campaign_id}/pause", include_in_schema=False)
def pause(request: Request, campaign_id: str,
          login: Login = Depends(writer_form)) -> Response:
    return _act(request, campaign_id, login, "pause")


@router.post("/campaigns/{campaign_id}/resume", include_in_schema=False)
def resume(request: Request, campaign_id: str,
           login: Login = Depends(writer_form)) -> Response:
    return _act(request, campaign_id, login, "resume")


@router.get("/campaigns/{campaign_id}/cancel", include_in_schema=False)
def cancel_confirmation(request: Request, campaign_id: str,
                        login: Login = Depends(signed_in)) -> Response:
    number = campaign_id_of(campaign_id)
    with smscope_of(request).db.session() as session:
        campaign = service.get_campaign(session, number)
        figures_now = figures(read_counters(session, number))
        info = {"id": campaign.id, "name": campaign.name, "state": campaign.state}
    return render(request, "campaign_cancel.html",
                  {"campaign": info, "figures": figures_now})


@router.post("/campaigns/{campaign_id}/cancel", include_in_schema=False)
async def cancel(request: Request, campaign_id: str,
                 login: Login = Depends(writer_form)) -> Response:
    data = await request.form()
    refuse_nul(data.get("confirm", ""), "The form's field 'confirm'")  # the 400 page
    if data.get("confirm") != "yes":
        return redirect(f"/campaigns/{campaign_id_of(campaign_id)}/cancel")
    return _act(request, campaign_id, login, "cancel")


@router.post("/campaigns/{campaign_id}/test", include_in_schema=False)
async def test_send(request: Request, campaign_id: str,
                    login: Login = Depends(writer_form)) -> Response:
    number = campaign_id_of(campaign_id)
    data = await request.form()
    raw = data.get("numbers", "")
    refused = nul_error({"numbers": raw}, {"numbers": "The test's numbers"})
    if refused:
        return redirect(f"/campaigns/{number}", flash=("error", refused))
    lines = [line.strip() for line in str(raw).replace(",", "\n").splitlines()
             if line.strip()]
    smscope = smscope_of(request)
    try:
        with smscope.db.transaction() as session:
            ids = service.test_send(session, number, lines, config=smscope.config,
                                    now=utcnow(), actor=actor_of(login))
    except NotFoundError:
        raise
    except SmscopeError as exc:
        return redirect(f"/campaigns/{number}", flash=("error", _sentence(str(exc))))
    return redirect(f"/campaigns/{number}", flash=(
        "success", f"Test sent to {len(ids)} number{'s' if len(ids) != 1 else ''}: its "
                   "status shows under Test sends, apart from the statistics."))
