"""JSON API for review items (bearer token): list the queue, read one item with its context, and
approve, edit (checked first) or reject it. XLIFF export/import over HTTP for tools that prefer it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import Response
from pydantic import BaseModel

from localise.errors import ReviewError
from localise.review.app.deps import ApiReviewer, Service, item_json
from localise.review.xliff import export_queue, import_xliff

router = APIRouter(prefix="/api")


class IngestBody(BaseModel):
    series: str
    episode: str
    languages: list[str] | None = None


class EditBody(BaseModel):
    text: str
    force: bool = False  # save even when the re-check flags the line


def _item(service, item_id: int):
    try:
        return service.store.get(item_id)
    except ReviewError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None


@router.get("/items")
def list_items(service: Service, reviewer: ApiReviewer, series: str | None = None, language: str | None = None,
               flag: str | None = None, state: str | None = "open") -> list[dict[str, Any]]:
    return [item_json(i) for i in service.store.items(series=series, language=language, flag=flag,
                                                      state=state or None)]


@router.get("/items/{item_id}")
def get_item(item_id: int, service: Service, reviewer: ApiReviewer) -> dict[str, Any]:
    return service.detail(_item(service, item_id))


@router.post("/items/{item_id}/approve")
def approve_item(item_id: int, service: Service, reviewer: ApiReviewer) -> dict[str, Any]:
    _item(service, item_id)
    return item_json(service.store.approve(item_id, reviewer=reviewer))


@router.post("/items/{item_id}/reject")
def reject_item(item_id: int, service: Service, reviewer: ApiReviewer) -> dict[str, Any]:
    _item(service, item_id)
    return item_json(service.store.reject(item_id, reviewer=reviewer))


@router.post("/items/{item_id}/edit")
def edit_item(item_id: int, body: EditBody, service: Service, reviewer: ApiReviewer) -> dict[str, Any]:
    """Re-check the text; saved when the check is clean or ``force`` is set. The answer always
    carries the check result."""
    item = _item(service, item_id)
    text = body.text.replace("\r\n", "\n").strip()
    if not text:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "an edit needs a non-empty text")
    check = service.check(item, text)
    saved = not check or body.force
    if saved:
        item = service.store.edit(item_id, text, reviewer=reviewer, check_flags=check)
    return {"saved": saved, "check": check, "item": item_json(item)}


@router.post("/ingest")
def ingest(body: IngestBody, service: Service, reviewer: ApiReviewer) -> dict[str, Any]:
    """Put the flagged lines of a published (or held) episode into the queue — what a job's caller
    does once the run has published (idempotent; reviewed lines are kept)."""
    from localise.review.sync import ingest_published
    from localise.storage import open_store

    results = ingest_published(service.store, open_store(service.settings.storage_url), body.series, body.episode,
                               body.languages)
    return {lang: {"added": r.added, "updated": r.updated, "kept": r.kept} for lang, r in results.items()}


@router.get("/xliff")
def export(service: Service, reviewer: ApiReviewer, version: str = "2.0", series: str | None = None,
           language: str | None = None, flag: str | None = None, state: str | None = "open") -> Response:
    try:
        text = export_queue(service.store, version=version, series=series, language=language, flag=flag,
                            state=state or None)
    except ReviewError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None
    return Response(text, media_type="application/xliff+xml")


@router.post("/xliff")
async def import_(request: Request, service: Service, reviewer: ApiReviewer) -> dict[str, Any]:
    data = await request.body()
    try:
        return import_xliff(service.store, data, name="upload", reviewer=reviewer, checker=_checker(service))
    except ReviewError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None


def _checker(service):
    def check(track, cue_index, text):
        from localise.review.recheck import recheck

        return recheck(track, cue_index, text, glossary=service.glossary(track.series), styles=service.settings.styles)

    return check
