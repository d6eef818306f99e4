"""Shared objects and FastAPI dependencies: the review service, and the two ways in — a signed login
cookie for the pages, a bearer token for the JSON API (401 without)."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status

from localise.review.app.settings import ReviewSettings
from localise.review.recheck import glossary_for, glossary_terms, recheck
from localise.review.schema import ReviewItem
from localise.review.store import ReviewStore

COOKIE = "localise_review"


@dataclass
class ReviewService:
    """What every route needs: settings, the store (with its translation memory)."""

    settings: ReviewSettings
    store: ReviewStore

    def reviewer_for(self, token: str | None) -> str | None:
        """The reviewer a token belongs to; constant-time comparison against every known token."""
        if not token:
            return None
        found = None
        for known, name in self.settings.tokens.items():
            if hmac.compare_digest(known.encode(), token.encode()):
                found = name
        return found

    # login cookie: "<reviewer>|<hmac>" — proves a login happened without storing the token
    def cookie_for(self, reviewer: str) -> str:
        return f"{reviewer}|{self._sign(reviewer)}"

    def reviewer_from_cookie(self, value: str | None) -> str | None:
        if not value or "|" not in value:
            return None
        reviewer, _, sig = value.rpartition("|")
        if hmac.compare_digest(sig, self._sign(reviewer)) and reviewer in self.settings.tokens.values():
            return reviewer
        return None

    def _sign(self, reviewer: str) -> str:
        return hmac.new(self.settings.session_secret.encode(), reviewer.encode(), hashlib.sha256).hexdigest()

    # views of items
    def glossary(self, series: str) -> Any | None:
        return glossary_for(series, self.settings.glossary_dir)

    def check(self, item: ReviewItem, text: str) -> list[dict[str, str]]:
        track = self.store.track(item.series, item.episode, item.language)
        return recheck(track, item.cue_index, text, glossary=self.glossary(item.series), styles=self.settings.styles)

    def detail(self, item: ReviewItem) -> dict[str, Any]:
        """An item with everything a reviewer looks at: context, glossary terms, similar reviewed lines."""
        before, after = self.store.context(item)
        track = self.store.track(item.series, item.episode, item.language)
        src_lang = track.src_lang if track else "zh"
        fuzzy = self.store.memory.fuzzy(item.source, src_lang, item.language, series=item.series)
        return {
            **item_json(item),
            "before": before,
            "after": after,
            "glossary": glossary_terms(self.glossary(item.series), item.source, item.language),
            "memory": [{"source": m.source, "target": m.target, "score": m.score} for m in fuzzy],
        }


def item_json(item: ReviewItem) -> dict[str, Any]:
    return {
        "id": item.id, "series": item.series, "episode": item.episode, "language": item.language,
        "cue_index": item.cue_index, "start_ms": item.start_ms, "end_ms": item.end_ms, "source": item.source,
        "machine_translation": item.machine_translation, "text": item.text, "flags": item.flags,
        "check": item.check_flags, "state": item.state, "reviewer": item.reviewer,
        "track_version": item.track_version,
        "reviewed_at": item.reviewed_at.isoformat() if item.reviewed_at else None,
    }


def get_service(request: Request) -> ReviewService:
    return request.app.state.service


Service = Annotated[ReviewService, Depends(get_service)]


class LoginRequired(Exception):
    """Raised by page dependencies; the app turns it into a redirect to /login."""


def page_reviewer(request: Request, service: Service) -> str:
    reviewer = service.reviewer_from_cookie(request.cookies.get(COOKIE))
    if reviewer is None:
        raise LoginRequired()
    return reviewer


def api_reviewer(request: Request, service: Service) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    reviewer = service.reviewer_for(token.strip()) if scheme.lower() == "bearer" else None
    if reviewer is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "a valid bearer token is required",
                            headers={"WWW-Authenticate": "Bearer"})
    return reviewer


PageReviewer = Annotated[str, Depends(page_reviewer)]
ApiReviewer = Annotated[str, Depends(api_reviewer)]
