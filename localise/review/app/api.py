"""JSON API for review items (bearer token): list the queue, read one item with its context, and
approve, edit (checked first) or reject it; XLIFF export/import over HTTP for tools that prefer it;
ingest of a published episode's flagged lines (operators).

Every route stays inside the caller's series: lists are filtered, another series' item is a 404,
naming another series is a 403. Request bodies are closed models: an unknown field is a 422."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, field_validator

from localise.errors import ReviewError
from localise.review.access import ScopeError, check_language, check_name
from localise.review.app.deps import ApiPrincipal, Service, audit, item_json, require
from localise.review.store import MAX_EDIT_CHARS
from localise.review.xliff import export_queue, import_xliff

router = APIRouter(prefix="/api")


class IngestBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    series: str
    episode: str
    languages: list[str] | None = Field(None, max_length=50)

    @field_validator("series", "episode")
    @classmethod
    def _names(cls, value: str, info: Any) -> str:
        return check_name(value, info.field_name)

    @field_validator("languages")
    @classmethod
    def _languages(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else [check_language(v) for v in value]


class EditBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(max_length=MAX_EDIT_CHARS)
    force: bool = False  # save even when the re-check flags the line


def _scoped_series(principal, series: str | None) -> None:
    if series is not None and series != "":
        require(principal, "reviewer", series)


@router.get("/items")
def list_items(service: Service, principal: ApiPrincipal, series: str | None = None, language: str | None = None,
               flag: str | None = None, state: str | None = "open",
               severity: Literal["minor", "major", "critical"] | None = None) -> list[dict[str, Any]]:
    _scoped_series(principal, series)
    return [item_json(i) for i in service.store.items(series=series, language=language, flag=flag,
                                                      state=state or None, series_in=principal.series_filter(),
                                                      severity=severity or "")]


@router.get("/items/{item_id}")
def get_item(item_id: int, service: Service, principal: ApiPrincipal) -> dict[str, Any]:
    return service.detail(service.item_for(principal, item_id))


@router.post("/items/{item_id}/approve")
def approve_item(request: Request, item_id: int, service: Service, principal: ApiPrincipal) -> dict[str, Any]:
    item = service.item_for(principal, item_id)
    audit(request, item=item_id, series=item.series, state="approved")
    return item_json(service.store.approve(item_id, reviewer=principal.name))


@router.post("/items/{item_id}/reject")
def reject_item(request: Request, item_id: int, service: Service, principal: ApiPrincipal) -> dict[str, Any]:
    item = service.item_for(principal, item_id)
    audit(request, item=item_id, series=item.series, state="rejected")
    return item_json(service.store.reject(item_id, reviewer=principal.name))


@router.post("/items/{item_id}/edit")
def edit_item(request: Request, item_id: int, body: EditBody, service: Service,
              principal: ApiPrincipal) -> dict[str, Any]:
    """Re-check the text; saved when the check is clean or ``force`` is set. The answer always
    carries the check result."""
    item = service.item_for(principal, item_id)
    text = body.text.replace("\r\n", "\n").strip()
    if not text:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "an edit needs a non-empty text")
    check = service.check(item, text)
    saved = not check or body.force
    if saved:
        item = service.store.edit(item_id, text, reviewer=principal.name, check_flags=check)
    audit(request, item=item_id, series=item.series, state="edited" if saved else "not saved",
          check=[f["code"] for f in check])
    return {"saved": saved, "check": check, "item": item_json(item)}


@router.post("/ingest")
def ingest(request: Request, body: IngestBody, service: Service, principal: ApiPrincipal) -> dict[str, Any]:
    """Put the flagged lines of a published (or held) episode into the queue — what a job's caller
    does once the run has published (idempotent; reviewed lines are kept). Operators only."""
    from localise.review.sync import ingest_published
    from localise.storage import open_store

    require(principal, "operator", body.series)
    audit(request, series=body.series, episode=body.episode, languages=body.languages)
    results = ingest_published(service.store, open_store(service.settings.storage_url), body.series, body.episode,
                               body.languages)
    return {lang: {"added": r.added, "updated": r.updated, "kept": r.kept} for lang, r in results.items()}


@router.get("/xliff")
def export(service: Service, principal: ApiPrincipal, version: str = "2.0", series: str | None = None,
           language: str | None = None, flag: str | None = None, state: str | None = "open") -> Response:
    _scoped_series(principal, series)
    try:
        text = export_queue(service.store, version=version, series=series, language=language, flag=flag,
                            state=state or None, series_in=principal.series_filter())
    except ReviewError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None
    return Response(text, media_type="application/xliff+xml")


@router.post("/xliff")
async def import_(request: Request, service: Service, principal: ApiPrincipal) -> dict[str, Any]:
    data = await request.body()  # the gate has capped it at max_upload_bytes
    try:
        result = import_xliff(service.store, data, name="upload", reviewer=principal.name, checker=_checker(service),
                              series_in=principal.series_filter(),
                              max_target_chars=service.settings.xliff_max_target_chars)
    except ScopeError as exc:
        audit(request, refused=str(exc)[:500])
        raise HTTPException(status.HTTP_403_FORBIDDEN, str(exc)) from None
    except ReviewError as exc:
        audit(request, refused=str(exc)[:500])
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None
    audit(request, **result)
    return result


def _checker(service):
    def check(track, cue_index, text):
        from localise.review.recheck import recheck

        return recheck(track, cue_index, text, glossary=service.glossary(track.series), styles=service.settings.styles)

    return check
