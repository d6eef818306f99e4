"""Review fixtures: a store in a SQLite file under tmp_path, fed with a pipeline-shaped report."""

from __future__ import annotations

from pathlib import Path
import pytest
from tests.review.review_data import EPISODE, make_report

from localise.review import ReviewStore


@pytest.fixture
def store(tmp_path: Path) -> ReviewStore:
    s = ReviewStore(f"sqlite:///{tmp_path / 'review.db'}")
    s.ingest_report(make_report(EPISODE), series="dragon", episode="ep01", track_version="1")
    return s
