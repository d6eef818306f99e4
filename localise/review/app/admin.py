"""What admins see: the audit log of state-changing calls (who, when, what, outcome), as JSON
(``GET /api/audit``) and as a page (``/admin/audit``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from localise.review.app.deps import ApiPrincipal, PagePrincipal, Service, require

router = APIRouter()
MAX_ID = 2**63 - 1


@router.get("/api/audit")
def audit_log(service: Service, principal: ApiPrincipal, limit: int = Query(100, ge=1, le=1000),
              before: int | None = Query(None, ge=1, le=MAX_ID), actor: str | None = None) -> list[dict[str, Any]]:
    """Audit events, newest first; ``before`` (an event id) pages back."""
    require(principal, "admin")
    return service.store.accounts.events(limit=limit, before=before, actor=actor)


@router.get("/admin/audit", response_class=HTMLResponse)
def audit_page(request: Request, service: Service, principal: PagePrincipal, actor: str = "") -> Response:
    require(principal, "admin")
    events = service.store.accounts.events(limit=200, actor=actor or None)
    return request.app.state.templates.TemplateResponse(request, "audit.html", {"events": events, "actor": actor})
