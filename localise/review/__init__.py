"""Human review of flagged lines: a SQLAlchemy store, translation memory (+TMX), XLIFF 1.2/2.x
round trips and a small FastAPI app. Importing this package stays cheap: FastAPI is imported only
by :mod:`localise.review.app`."""

from __future__ import annotations

from localise.review.store import REVIEW_STATES, ReviewItem, ReviewStore, ReviewTrack
from localise.review.tm import FuzzyMatch, TranslationMemory

__all__ = [
    "REVIEW_STATES",
    "FuzzyMatch",
    "ReviewItem",
    "ReviewStore",
    "ReviewTrack",
    "TranslationMemory",
]
