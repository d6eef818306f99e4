"""Published storage <-> review store with the real pipeline (tiny offline Marian model), a local
folder store and publish_episode: ingest, review, republish with a new manifest version, and a
later episode that repeats a reviewed line gets the reviewed translation from the memory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from localise.errors import ReviewError
from localise.review import ReviewStore
from localise.review.store import Decision
from localise.review.sync import apply_review, ingest_published

EP1 = """1
00:00:01,000 --> 00:00:03,000
林总来了。

2
00:00:04,000 --> 00:00:06,000
<i>我们走吧！</i>

3
00:00:07,000 --> 00:00:09,000
你在这里干什么？
"""

EP2 = """1
00:00:01,000 --> 00:00:03,000
今天天气很好。

2
00:00:04,000 --> 00:00:06,000
林总来了。

3
00:00:07,000 --> 00:00:09,000
你在这里干什么？
"""


def localise_and_publish(store, series: str, episode: str, srt: str, options) -> object:
    from localise.io import parse_text
    from localise.pipeline import localise_tracks
    from localise.storage import publish_episode, sha256

    track = parse_text(srt, name=f"{episode}.srt")
    results = localise_tracks([track], ["en"], options=options)
    publish_episode(store, series, episode, results, source={"name": f"{episode}.srt", "sha256": sha256(srt.encode())},
                    signature=options.describe())
    return results[0]


@pytest.fixture
def review(tmp_path: Path) -> ReviewStore:
    return ReviewStore(f"sqlite:///{tmp_path / 'review.db'}")


@pytest.fixture
def options(tiny_model: Path, review: ReviewStore):
    from localise.pipeline import LocaliseOptions

    return LocaliseOptions(src="zh", model=str(tiny_model), memory=review.memory.for_series("dragon"))


def test_review_republishes_and_is_reused_by_a_later_episode(tmp_path: Path, review: ReviewStore, options) -> None:
    from localise.io import read_track
    from localise.storage import LocalStore, read_manifest

    store = LocalStore(tmp_path / "published")
    first = localise_and_publish(store, "dragon", "ep01", EP1, options)
    assert read_manifest(store, "dragon", "ep01")["version"] == 1

    ingest_published(review, store, "dragon", "ep01")
    track = review.track("dragon", "ep01", "en")
    assert (track.track_version, len(track.cues)) == ("1", 3)
    # an edit of cue 1 and an approval of cue 3, whether or not the noise model's lines were flagged
    review.apply([Decision("dragon/ep01/en", 0, "edited", "President Lin is here."),
                  Decision("dragon/ep01/en", 2, "approved")], reviewer="ann")

    from localise.errors import InputTooLargeError
    from localise.formats.limits import InputLimits

    with pytest.raises(InputTooLargeError):  # the caller's (settings') input limits apply to the re-read
        apply_review(review, store, "dragon", "ep01", limits=InputLimits(max_cues=2))
    assert read_manifest(store, "dragon", "ep01")["version"] == 1  # refused before publishing anything
    result = apply_review(review, store, "dragon", "ep01")
    manifest = read_manifest(store, "dragon", "ep01")
    assert result.version == manifest["version"] == 2
    assert manifest["review"] == {"reviewed_lines": {"en": 2}}
    published = read_track(store.read(f"dragon/ep01/{manifest['languages']['en']['track']}"))
    assert published.cues[0].text == "President Lin is here."
    assert published.cues[2].text == first.track.cues[2].text  # approved: the machine's line stays
    assert [(c.start_ms, c.end_ms) for c in published.cues] == [(c.start_ms, c.end_ms) for c in first.track.cues]
    report = json.loads(store.read(f"dragon/ep01/{manifest['languages']['en']['report']}"))
    assert [c.get("origin") for c in report["cues"]][0] == "review"
    assert review.track("dragon", "ep01", "en").track_version == "2"
    # nothing reviewed since: republishing changes nothing
    assert apply_review(review, store, "dragon", "ep01").unchanged

    # a new machine run of episode 1 does not overwrite the reviewed lines in the store
    ingest_published(review, store, "dragon", "ep01")
    assert review.reviewed_lines("dragon", "ep01", "en")[0] == "President Lin is here."

    # episode 2 repeats cue 1's line: the reviewed translation comes from the memory, marked tm
    second = localise_and_publish(store, "dragon", "ep02", EP2, options)
    assert second.track.cues[1].text == "President Lin is here."
    assert second.report["cues"][1]["origin"] == "tm"
    assert second.report["cues"][0]["origin"] == "mt"
    # and the approved line (the machine's own words, approved by a person) is reused as approved
    assert second.report["cues"][2]["origin"] == "tm"
    assert second.track.cues[2].text == first.track.cues[2].text


def test_unknown_episode_or_language_is_a_review_error(tmp_path: Path, review: ReviewStore) -> None:
    from localise.storage import LocalStore

    store = LocalStore(tmp_path / "published")
    with pytest.raises(ReviewError, match="nothing published"):
        ingest_published(review, store, "dragon", "ep09")
    with pytest.raises(ReviewError, match="nothing published"):
        apply_review(review, store, "dragon", "ep09")

