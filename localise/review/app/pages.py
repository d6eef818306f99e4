"""Server-rendered pages: login, the review queue, and the form posts behind its keyboard actions.
Templates autoescape everything (subtitle text may hold ``<script>``). Every form carries the
session's CSRF token (checked by the gate); the login form carries a login token bound to a cookie,
so no other site can sign a browser in under someone else's token (login CSRF)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request, status
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from localise.review.access import Principal
from localise.review.app.deps import PagePrincipal, ReviewService, Service, audit
from localise.review.app.gate import LOGIN_COOKIE, SESSION_COOKIE, cookie_name
from localise.review.store import MAX_EDIT_CHARS

router = APIRouter()
FILTERS = ("series", "language", "flag", "state", "severity")
LOGIN_FORM_TTL_S = 3600


def _queue_url(filters: dict[str, str], **extra: str | int) -> str:
    query = {k: v for k, v in {**filters, **extra}.items() if v not in (None, "")}
    return "/queue" + (f"?{urlencode(query)}" if query else "")


def _filters_from(values: dict[str, str | None]) -> dict[str, str]:
    return {k: (values.get(k) or "") for k in FILTERS}


def _secure(request: Request, service: ReviewService) -> bool:
    return service.secure_cookies(request.url.scheme)


# -- login form tokens: HMAC(server secret, cookie nonce + issue time) ---------------------------
def _login_token(service: ReviewService, nonce: str, issued: int) -> str:
    mac = hmac.new(service.settings.session_secret.encode(), f"{nonce}|{issued}".encode(), hashlib.sha256)
    return f"{issued}.{mac.hexdigest()}"


def _login_token_ok(service: ReviewService, nonce: str | None, given: str) -> bool:
    if not nonce or "." not in given:
        return False
    issued, _, _ = given.partition(".")
    if not issued.isdigit() or not 0 <= time.time() - int(issued) <= LOGIN_FORM_TTL_S:
        return False
    return hmac.compare_digest(_login_token(service, nonce, int(issued)).encode(), given.encode())


def _login_page(request: Request, service: ReviewService, error: str | None = None,
                status_code: int = status.HTTP_200_OK) -> Response:
    """The login form with a fresh login token and its cookie."""
    nonce = secrets.token_urlsafe(24)
    response = request.app.state.templates.TemplateResponse(
        request, "login.html", {"error": error, "login_token": _login_token(service, nonce, int(time.time()))},
        status_code=status_code)
    secure = _secure(request, service)
    response.set_cookie(cookie_name(LOGIN_COOKIE, secure), nonce, httponly=True, samesite="strict", secure=secure,
                        max_age=LOGIN_FORM_TTL_S, path="/")
    return response


@router.get("/", include_in_schema=False)
def index() -> RedirectResponse:
    return RedirectResponse("/queue", status.HTTP_303_SEE_OTHER)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, service: Service) -> Response:
    return _login_page(request, service)


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, service: Service, token: Annotated[str, Form()] = "",
          login_token: Annotated[str, Form()] = "") -> Response:
    secure = _secure(request, service)
    client = request.client.host if request.client else "?"
    if not _login_token_ok(service, request.cookies.get(cookie_name(LOGIN_COOKIE, secure)), login_token):
        service.login_limiter.fail(client)
        audit(request, login="refused: no valid login form token")
        return _login_page(request, service, "The login form expired; please try again.", status.HTTP_403_FORBIDDEN)
    principal = service.principal_for_token(token.strip())
    if principal is None:
        service.login_limiter.fail(client)
        audit(request, login="failed")
        return _login_page(request, service, "Unknown token.", status.HTTP_401_UNAUTHORIZED)
    service.login_limiter.succeed(client)
    old = request.cookies.get(cookie_name(SESSION_COOKIE, secure))
    if old:
        service.store.accounts.close_session(old)
    opened = service.store.accounts.open_session(principal, service.settings.session_ttl_s)
    request.state.principal = principal
    audit(request, login="ok")
    response = RedirectResponse("/queue", status.HTTP_303_SEE_OTHER)
    response.set_cookie(cookie_name(SESSION_COOKIE, secure), opened.secret, httponly=True, samesite="strict",
                        secure=secure, max_age=service.settings.session_ttl_s, path="/")
    response.delete_cookie(cookie_name(LOGIN_COOKIE, secure), path="/", secure=secure, httponly=True,
                           samesite="strict")
    return response


@router.post("/logout")
def logout(request: Request, service: Service, principal: PagePrincipal) -> RedirectResponse:
    secure = _secure(request, service)
    name = cookie_name(SESSION_COOKIE, secure)
    secret = request.cookies.get(name)
    if secret:
        service.store.accounts.close_session(secret)
    response = RedirectResponse("/login", status.HTTP_303_SEE_OTHER)
    response.delete_cookie(name, path="/", secure=secure, httponly=True, samesite="strict")
    return response


def _queue_context(service: ReviewService, principal: Principal) -> dict:
    scope = principal.series_filter()
    tracks = service.store.tracks(series_in=scope)
    return {"series_options": sorted({t.series for t in tracks}),
            "language_options": sorted({t.language for t in tracks}),
            "flag_options": service.store.flag_codes(series_in=scope)}


@router.get("/queue", response_class=HTMLResponse)
def queue(request: Request, service: Service, principal: PagePrincipal, series: str = "", language: str = "",
          flag: str = "", state: str = "open", severity: str = "", done: str = "") -> Response:
    if severity not in ("", "minor", "major", "critical"):
        severity = ""
    filters = {"series": series, "language": language, "flag": flag, "state": state, "severity": severity}
    items = service.store.items(series=series or None, language=language or None, flag=flag or None,
                                state=state or None, limit=service.settings.queue_page_size,
                                series_in=principal.series_filter(), severity=severity)
    done_item = None
    if done.isdigit() and len(done) < 20:
        try:
            done_item = service.item_for(principal, int(done))
        except Exception:  # noqa: BLE001 - a stale or foreign id just shows no confirmation
            done_item = None
    return request.app.state.templates.TemplateResponse(request, "queue.html", {
        "reviewer": principal.name, "filters": filters, "items": [service.detail(i) for i in items],
        "done": done_item, **_queue_context(service, principal),
        "states": ("open", "approved", "edited", "rejected"), "pending": None,
    })


def _form_filters(series: Annotated[str, Form()] = "", language: Annotated[str, Form()] = "",
                  flag: Annotated[str, Form()] = "", state: Annotated[str, Form()] = "open",
                  severity: Annotated[str, Form()] = "") -> dict[str, str]:
    """The queue's filters as an item form carries them back (hidden fields), so the reviewer
    returns to the same view after approving, rejecting or editing."""
    return _filters_from({"series": series, "language": language, "flag": flag, "state": state,
                          "severity": severity if severity in ("minor", "major", "critical") else ""})


FormFilters = Annotated[dict[str, str], Depends(_form_filters)]


def _after(filters: dict[str, str], item_id: int) -> RedirectResponse:
    return RedirectResponse(_queue_url(filters, done=item_id), status.HTTP_303_SEE_OTHER)


@router.post("/items/{item_id}/approve")
def approve(request: Request, item_id: int, service: Service, principal: PagePrincipal,
            filters: FormFilters) -> RedirectResponse:
    item = service.item_for(principal, item_id)
    service.store.approve(item_id, reviewer=principal.name)
    audit(request, item=item_id, series=item.series, state="approved")
    return _after(filters, item_id)


@router.post("/items/{item_id}/reject")
def reject(request: Request, item_id: int, service: Service, principal: PagePrincipal,
           filters: FormFilters) -> RedirectResponse:
    item = service.item_for(principal, item_id)
    service.store.reject(item_id, reviewer=principal.name)
    audit(request, item=item_id, series=item.series, state="rejected")
    return _after(filters, item_id)


@router.post("/items/{item_id}/edit", response_class=HTMLResponse)
def edit(request: Request, item_id: int, service: Service, principal: PagePrincipal,
         filters: FormFilters, text: Annotated[str, Form()] = "", confirm: Annotated[str, Form()] = "") -> Response:
    """Check the edited line; save it when the checks pass or the reviewer confirms, otherwise show
    the check result on the item and ask again."""
    item = service.item_for(principal, item_id)
    text = text.replace("\r\n", "\n").strip()
    if not text:
        check = [{"code": "empty", "severity": "critical", "reason": "an edit needs a text"}]
    elif len(text) > MAX_EDIT_CHARS:  # never saved, confirmed or not: the readers refuse such a cue
        check = [_too_long(text)]
    else:
        check = service.check(item, text)
        if not check or confirm == "yes":
            service.store.edit(item_id, text, reviewer=principal.name, check_flags=check)
            audit(request, item=item_id, series=item.series, state="edited", forced=bool(check))
            return _after(filters, item_id)
    audit(request, item=item_id, series=item.series, state="not saved", check=[f["code"] for f in check])
    detail = service.detail(item)
    return request.app.state.templates.TemplateResponse(request, "queue.html", {
        "reviewer": principal.name, "filters": filters, "items": [detail], "done": None,
        "series_options": [], "language_options": [], "flag_options": [],
        "states": ("open", "approved", "edited", "rejected"),
        "pending": {"id": item_id, "text": text, "check": check},
    }, status_code=status.HTTP_200_OK)


@router.post("/items/{item_id}/check")
def check(request: Request, item_id: int, service: Service, principal: PagePrincipal,
          text: Annotated[str, Form()] = "") -> JSONResponse:
    """Live check while typing (the page's script calls it); saves nothing."""
    item = service.item_for(principal, item_id)
    text = text.replace("\r\n", "\n").strip()
    return JSONResponse({"check": [_too_long(text)] if len(text) > MAX_EDIT_CHARS else service.check(item, text)})


def _too_long(text: str) -> dict[str, str]:
    return {"code": "too-long", "severity": "critical",
            "reason": f"an edit holds at most {MAX_EDIT_CHARS:,} characters ({len(text):,} given)"}
