"""``/webhooks`` (admins): the status webhook endpoints — add (the secret is shown
once, on the answer to the form), remove — and ``/webhooks/deliveries``, the delivery
log (state, attempts, last error), filtered by endpoint and state, newest first."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import Response

from smscope.errors import SmscopeError
from smscope.web.auth import Login, admin_form, admin_page, smscope_of
from smscope.web.pages._forms import nul_error
from smscope.web.pages._render import redirect, render
from smscope.webhooks import endpoints as hooks
from smscope.webhooks.endpoints import DELIVERY_STATES

__all__ = ["router"]

router = APIRouter()


def _page(request: Request, *, new: dict[str, object] | None = None, error: str = "",
          form: dict[str, str] | None = None, status_code: int = 200) -> Response:
    with smscope_of(request).db.session() as session:
        items = hooks.endpoints_with_counts(session)
    return render(request, "webhooks.html",
                  {"endpoints": items, "new": new, "error": error,
                   "form": form or {"url": "", "campaign_id": ""}},
                  status_code=status_code)


@router.get("/webhooks", include_in_schema=False)
def webhooks_page(request: Request, login: Login = Depends(admin_page)) -> Response:
    return _page(request)


@router.post("/webhooks", include_in_schema=False)
def add_webhook(request: Request, url: str = Form(""), campaign_id: str = Form(""),
                secret: str = Form(""), login: Login = Depends(admin_form)) -> Response:
    form = {"url": url, "campaign_id": campaign_id}
    refused = nul_error({"url": url, "campaign_id": campaign_id, "secret": secret},
                        {"url": "The URL", "campaign_id": "The campaign",
                         "secret": "The secret"})
    if refused:
        return _page(request, error=refused, form=form, status_code=422)
    campaign = campaign_id.strip()
    if campaign and not (campaign.isascii() and campaign.isdigit() and int(campaign) < 2**31):
        return _page(request, error=f"campaign {campaign_id!r}: give a campaign's number, "
                                    "or leave it empty for every campaign",
                     form=form, status_code=422)
    try:
        with smscope_of(request).db.transaction() as session:
            endpoint, made = hooks.add_endpoint(
                session, url, campaign_id=int(campaign) if campaign else None,
                secret=secret.strip() or None)
            new = {**hooks.endpoint_to_json(endpoint), "secret": made}
    except SmscopeError as exc:
        return _page(request, error=str(exc), form=form, status_code=422)
    return _page(request, new=new)


@router.post("/webhooks/{endpoint_id}/remove", include_in_schema=False)
def remove_webhook(request: Request, endpoint_id: int,
                   login: Login = Depends(admin_form)) -> Response:
    with smscope_of(request).db.transaction() as session:
        endpoint = hooks.remove_endpoint(session, endpoint_id)
        url = endpoint.url
    return redirect("/webhooks", flash=("success", f"Webhook {endpoint_id} ({url}) is "
                                                   "removed: nothing more is sent to it. "
                                                   "Its delivery log stays."))


@router.get("/webhooks/deliveries", include_in_schema=False)
def deliveries_page(request: Request, endpoint: str = "", state: str = "", cursor: str = "",
                    login: Login = Depends(admin_page)) -> Response:
    error = nul_error({"endpoint": endpoint, "state": state, "cursor": cursor},
                      {"endpoint": "The webhook filter", "state": "The state filter",
                       "cursor": "The page's link"})
    chosen = endpoint.strip()
    endpoint_id = None
    if error:
        pass  # a NUL character: nothing is looked up
    elif chosen:
        if chosen.isascii() and chosen.isdigit() and int(chosen) < 2**31:
            endpoint_id = int(chosen)
        else:
            error = f"webhook {endpoint!r}: choose one of the list"
    items, next_cursor = [], None
    with smscope_of(request).db.session() as session:
        endpoints = [hooks.endpoint_to_json(e) for e in hooks.list_endpoints(session)]
        if not error:
            try:
                page, next_cursor = hooks.deliveries(
                    session, endpoint_id=endpoint_id, state=state.strip() or None,
                    cursor=cursor or None)
                items = [hooks.delivery_to_json(d) for d in page]
            except SmscopeError as exc:
                error = str(exc)
    return render(request, "webhook_deliveries.html",
                  {"items": items, "next_cursor": next_cursor, "error": error,
                   "endpoints": endpoints, "states": DELIVERY_STATES,
                   "chosen": {"endpoint": chosen, "state": state.strip()}},
                  status_code=422 if error else 200)
