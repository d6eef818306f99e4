"""Server-rendered pages: login, the review queue, and the form posts behind its keyboard actions.
Templates autoescape everything (subtitle text may hold ``<script>``)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request, status
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from localise.errors import ReviewError
from localise.review.app.deps import COOKIE, PageReviewer, Service

router = APIRouter()
FILTERS = ("series", "language", "flag", "state")


def _queue_url(filters: dict[str, str], **extra: str | int) -> str:
    query = {k: v for k, v in {**filters, **extra}.items() if v not in (None, "")}
    return "/queue" + (f"?{urlencode(query)}" if query else "")


def _filters_from(values: dict[str, str | None]) -> dict[str, str]:
    return {k: (values.get(k) or "") for k in FILTERS}


@router.get("/", include_in_schema=False)
def index() -> RedirectResponse:
    return RedirectResponse("/queue", status.HTTP_303_SEE_OTHER)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request) -> Response:
    return request.app.state.templates.TemplateResponse(request, "login.html", {"error": None})


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, service: Service, token: Annotated[str, Form()] = "") -> Response:
    reviewer = service.reviewer_for(token.strip())
    if reviewer is None:
        return request.app.state.templates.TemplateResponse(
            request, "login.html", {"error": "Unknown token."}, status_code=status.HTTP_401_UNAUTHORIZED)
    response = RedirectResponse("/queue", status.HTTP_303_SEE_OTHER)
    response.set_cookie(COOKIE, service.cookie_for(reviewer), httponly=True, samesite="strict",
                        secure=service.settings.secure_cookies, max_age=12 * 3600)
    return response


@router.post("/logout")
def logout() -> RedirectResponse:
    response = RedirectResponse("/login", status.HTTP_303_SEE_OTHER)
    response.delete_cookie(COOKIE)
    return response


@router.get("/queue", response_class=HTMLResponse)
def queue(request: Request, service: Service, reviewer: PageReviewer, series: str = "", language: str = "",
          flag: str = "", state: str = "open", done: int | None = None) -> Response:
    filters = {"series": series, "language": language, "flag": flag, "state": state}
    items = service.store.items(series=series or None, language=language or None, flag=flag or None,
                                state=state or None, limit=service.settings.queue_page_size)
    done_item = None
    if done is not None:
        try:
            done_item = service.store.get(done)
        except ReviewError:
            done_item = None
    tracks = service.store.tracks()
    return request.app.state.templates.TemplateResponse(request, "queue.html", {
        "reviewer": reviewer, "filters": filters, "items": [service.detail(i) for i in items],
        "done": done_item, "series_options": sorted({t.series for t in tracks}),
        "language_options": sorted({t.language for t in tracks}), "flag_options": service.store.flag_codes(),
        "states": ("open", "approved", "edited", "rejected"), "pending": None,
    })


def _after(filters: dict[str, str], item_id: int) -> RedirectResponse:
    return RedirectResponse(_queue_url(filters, done=item_id), status.HTTP_303_SEE_OTHER)


@router.post("/items/{item_id}/approve")
def approve(item_id: int, service: Service, reviewer: PageReviewer, series: Annotated[str, Form()] = "",
            language: Annotated[str, Form()] = "", flag: Annotated[str, Form()] = "",
            state: Annotated[str, Form()] = "open") -> RedirectResponse:
    service.store.approve(item_id, reviewer=reviewer)
    return _after(_filters_from({"series": series, "language": language, "flag": flag, "state": state}), item_id)


@router.post("/items/{item_id}/reject")
def reject(item_id: int, service: Service, reviewer: PageReviewer, series: Annotated[str, Form()] = "",
           language: Annotated[str, Form()] = "", flag: Annotated[str, Form()] = "",
           state: Annotated[str, Form()] = "open") -> RedirectResponse:
    service.store.reject(item_id, reviewer=reviewer)
    return _after(_filters_from({"series": series, "language": language, "flag": flag, "state": state}), item_id)


@router.post("/items/{item_id}/edit", response_class=HTMLResponse)
def edit(request: Request, item_id: int, service: Service, reviewer: PageReviewer,
         text: Annotated[str, Form()] = "", confirm: Annotated[str, Form()] = "",
         series: Annotated[str, Form()] = "", language: Annotated[str, Form()] = "",
         flag: Annotated[str, Form()] = "", state: Annotated[str, Form()] = "open") -> Response:
    """Check the edited line; save it when the checks pass or the reviewer confirms, otherwise show
    the check result on the item and ask again."""
    filters = _filters_from({"series": series, "language": language, "flag": flag, "state": state})
    item = service.store.get(item_id)
    text = text.replace("\r\n", "\n").strip()
    if not text:
        check = [{"code": "empty", "severity": "critical", "reason": "an edit needs a text"}]
    else:
        check = service.check(item, text)
        if not check or confirm == "yes":
            service.store.edit(item_id, text, reviewer=reviewer, check_flags=check)
            return _after(filters, item_id)
    detail = service.detail(item)
    return request.app.state.templates.TemplateResponse(request, "queue.html", {
        "reviewer": reviewer, "filters": filters, "items": [detail], "done": None,
        "series_options": [], "language_options": [], "flag_options": [],
        "states": ("open", "approved", "edited", "rejected"),
        "pending": {"id": item_id, "text": text, "check": check},
    }, status_code=status.HTTP_200_OK)


@router.post("/items/{item_id}/check")
def check(item_id: int, service: Service, reviewer: PageReviewer, text: Annotated[str, Form()] = "") -> JSONResponse:
    """Live check while typing (the page's script calls it); saves nothing."""
    item = service.store.get(item_id)
    return JSONResponse({"check": service.check(item, text.replace("\r\n", "\n").strip())})
