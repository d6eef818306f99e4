"""Between published storage and the review store, in both directions (library; no Prefect):

* :func:`ingest_published` reads an episode's manifest and reports from storage and puts each
  language's flagged lines into the review store (tracks held by the quality gate included);
* :func:`apply_review` republishes the episode with the reviewed lines through
  :func:`localise.storage.publish_episode`, which writes tracks first, the manifest last, and bumps
  the manifest version. Reviewed lines no longer count as flagged, so a held track whose doubtful
  lines were all settled passes the quality gate and is published.

Why :func:`apply_review` takes the episode's lease *before* it reads the manifest and tracks: the
reviewed tracks are built from what is published, so a batch republishing the episode between
the read and the write would otherwise be overwritten by tracks made from its predecessor."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from localise.errors import ReviewError
from localise.review.store import IngestResult, ReviewStore


def _manifest(store: Any, series: str, episode: str) -> dict[str, Any]:
    from localise.storage import read_manifest

    manifest = read_manifest(store, series, episode)
    if manifest is None:
        raise ReviewError(f"{store.location(f'{series}/{episode}')}: nothing published for {series}/{episode}")
    return manifest


def _languages(manifest: dict[str, Any], languages: Sequence[str] | None) -> list[str]:
    known = list(manifest.get("languages", {}))
    unknown = [lang for lang in languages or [] if lang not in known]
    if unknown:
        raise ReviewError(f"{manifest.get('series')}/{manifest.get('episode')}: no published "
                          f"{', '.join(unknown)} track (published: {', '.join(known) or 'none'})")
    return list(languages) if languages else known


def ingest_published(review: ReviewStore, store: Any, series: str, episode: str,
                     languages: Sequence[str] | None = None) -> dict[str, IngestResult]:
    """Ingest the reports of an episode's published (or held) tracks; ``track_version`` is the
    manifest version. Lines already approved or edited stay as reviewers left them."""
    # Read without the lease: a republish may sweep the objects of the manifest just read, so a
    # missing report means "read the new manifest", a couple of times at most.
    for attempt in range(3):
        try:
            return _ingest_published(review, store, series, episode, languages)
        except FileNotFoundError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _ingest_published(review: ReviewStore, store: Any, series: str, episode: str,
                      languages: Sequence[str] | None) -> dict[str, IngestResult]:
    from localise.storage import episode_prefix

    manifest = _manifest(store, series, episode)
    base = episode_prefix(series, episode)
    src_lang = (manifest.get("signature") or {}).get("src") or "zh"
    wanted = _languages(manifest, languages)
    # every report first: one version of the episode is ingested, never half of two
    reports = {lang: json.loads(store.read(f"{base}/{manifest['languages'][lang]['report']}")) for lang in wanted}
    out: dict[str, IngestResult] = {}
    for lang in wanted:
        entry = manifest["languages"][lang]
        out[lang] = review.ingest_report(reports[lang], series=series, episode=episode, language=lang,
                                         src_lang=src_lang, track_version=str(manifest.get("version", "")),
                                         format=entry.get("format"))
    return out


def _reviewed_report(report: dict[str, Any], reviewed: dict[int, Any]) -> dict[str, Any]:
    """The report with reviewed lines in place: their text, origin ``review``, and only the
    re-check's flags (a person has settled the machine's doubts)."""
    report = json.loads(json.dumps(report))
    cues = report.get("cues", [])
    for pos, item in reviewed.items():
        if pos < len(cues):
            cues[pos]["translation"] = item.text
            cues[pos]["origin"] = "review"
            cues[pos]["flags"] = list(item.check_flags or [])
            cues[pos]["review"] = {"state": item.state, "reviewer": item.reviewer,
                                   "reviewed_at": item.reviewed_at.isoformat() if item.reviewed_at else None}
    summary = report.setdefault("summary", {})
    if isinstance(summary, dict):
        summary["reviewed"] = len(reviewed)
        summary["flagged_after_review"] = sum(1 for cue in cues if cue.get("flags"))
    return report


def apply_review(review: ReviewStore, store: Any, series: str, episode: str, *,
                 quality_gate: Any = None, lease_wait: float | None = None, limits: Any = None) -> Any:
    """Republish every language of the episode with its approved and edited lines (all languages,
    so the new manifest still lists each track). Returns the storage's ``PublishResult``; its
    ``version`` is the new manifest version (unchanged when nothing was reviewed since).
    Reads and publishes under the episode's lease (waiting up to ``lease_wait`` seconds for it);
    ``limits`` are the settings' input size limits (raised limits let a big published track back in)."""
    from localise.lease import acquire_lease
    from localise.storage import LEASE, episode_prefix

    _manifest(store, series, episode)  # nothing published: fail before taking a lease
    key = f"{episode_prefix(series, episode)}/{LEASE}"
    kwargs = {} if lease_wait is None else {"wait": lease_wait}
    with acquire_lease(store, key, purpose="apply-review", **kwargs) as lease:
        return _apply_review_held(review, store, series, episode, quality_gate, lease, limits)


def _apply_review_held(review: ReviewStore, store: Any, series: str, episode: str, quality_gate: Any,
                       lease: Any, limits: Any = None) -> Any:
    from localise.config import QualityGate
    from localise.io import read_track
    from localise.pipeline import LocalisedTrack
    from localise.storage import episode_prefix, publish_episode

    manifest = _manifest(store, series, episode)
    base = episode_prefix(series, episode)
    if quality_gate is None and manifest.get("quality_gate"):
        quality_gate = QualityGate(**manifest["quality_gate"])
    results = []
    counts: dict[str, int] = {}
    for lang in _languages(manifest, None):
        entry = manifest["languages"][lang]
        key = f"{base}/{entry['track']}"
        track = read_track(store.read(key), name=store.location(key), format=entry.get("format"), limits=limits)
        report = json.loads(store.read(f"{base}/{entry['report']}"))
        items = {i.cue_index: i for i in review.items(series=series, episode=episode, language=lang, state=None)
                 if i.state in ("approved", "edited")}
        if any(pos >= len(track.cues) for pos in items):
            raise ReviewError(f"{store.location(key)}: reviewed cue beyond the track's {len(track.cues)} cues; "
                              "the track changed since the review was ingested")
        texts = [items[pos].text if pos in items else cue.text for pos, cue in enumerate(track.cues)]
        reviewed = track.with_texts(texts)
        results.append(LocalisedTrack(source=track, lang=lang, track=reviewed, report=_reviewed_report(report, items)))
        counts[lang] = len(items)
    result = publish_episode(
        store, series, episode, results,
        source=manifest.get("source") or {}, signature=manifest.get("signature") or {},
        quality_gate=quality_gate, fmt=None,
        extra={"review": {"reviewed_lines": counts}}, lease=lease,
    )
    for lang in counts:
        review.set_track_version(series, episode, lang, str(result.version))
    return result
