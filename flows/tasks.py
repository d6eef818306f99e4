"""Plain functions the flows wrap in Prefect tasks: scan the sources (load each, decide what is
current), translate a chunk of episodes, publish one episode or a chunk, summarise a batch.

Nothing here depends on a running Prefect server; only :func:`translate_episodes` optionally
takes a Prefect ``ResultStore`` as its cache. Why a cache per *episode* inside a *chunk* task:
translation is batched across files (one engine call per language for the whole chunk), yet a
rerun after a crash must skip every episode that was already translated, even when the set of
pending episodes changed since. So each episode's results are stored under a key made of content
hashes — source bytes, targets, engine and model fingerprints, glossary version, settings and the
library version — and only the misses of a chunk go to the engine.

Why tasks per batch and per chunk rather than per episode: a Prefect task run costs a few
milliseconds of client and API-server CPU, about as much as loading or publishing one episode, and
on a small machine that CPU is taken from the model. So the batch flow runs one scan task, and one
translate and one publish task per chunk; each episode still fails alone (its error becomes its
row of the summary), and its storage calls are retried one by one — S3 calls by botocore, other
network errors and lease conflicts by :func:`localise.retry.call_with_retries` — so a retry never
redoes the other episodes; Prefect retries no task (see :mod:`localise.retry`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from localise import resume
from localise.resume import run_signature, work_key
from localise.errors import GlossaryMissingError
from localise.retry import STORAGE_DELAYS, call_with_retries
from localise.storage import (
    MANIFEST,
    SourceFile,
    episode_name,
    episode_strays,
    join_key,
    list_sources,
    open_store,
    publish_episode,
    read_manifest,
    safe_segment,
    sha256,
    shared_episode_error,
    shared_episodes,
    tidy_episode,
)

if TYPE_CHECKING:
    from localise.config import Settings
    from localise.model import Track
    from localise.pipeline import LocalisedTrack

log = logging.getLogger("localise.flows")


@dataclass
class Episode:
    """One source track, read and parsed: the unit of work of the flows."""

    series: str
    episode: str
    source: str  # where it was read from (path or s3:// URL), for messages and the manifest
    sha256: str
    track: Track
    key: str | None = None  # under the source folder or prefix it was listed from (a chunk run reads it again)

    @property
    def id(self) -> str:
        return f"{self.series}/{self.episode}"

    def describe(self) -> dict[str, Any]:
        return {"name": self.source, "sha256": self.sha256, "format": self.track.format, "cues": len(self.track.cues)}


@dataclass
class Outcome:
    """One row of a batch summary."""

    series: str
    episode: str
    source: str
    status: str  # published | held | partly-held | unchanged | current | failed
    error: str | None = None
    languages: dict[str, dict[str, Any]] = field(default_factory=dict)
    uploaded: int = 0
    manifest: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def failed(episode: Episode, exc: BaseException) -> Outcome:
    """The summary row of an episode that could not be translated or published."""
    return Outcome(episode.series, episode.episode, episode.source, "failed", f"{type(exc).__name__}: {exc}")


@dataclass
class Scan:
    """What a batch has to do: the episodes to translate, and the rows of those it does not
    (already published from the same bytes and settings, or unreadable)."""

    pending: list[Episode]
    settled: list[Outcome]


#: Storage calls in flight at once while scanning or publishing (I/O bound: S3 round trips).
IO_WORKERS = 8


def _each(fn: Callable[[Any], Any], items: Sequence[Any], workers: int = IO_WORKERS) -> list[Any]:
    """``fn`` over ``items`` in order, ``workers`` at a time (threads: the work waits on storage)."""
    if len(items) <= 1 or workers <= 1:
        return [fn(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(workers, len(items)), thread_name_prefix="localise-io") as pool:
        return list(pool.map(fn, items))


# ------------------------------------------------------------------ sources


def list_source_keys(source_url: str) -> list[str]:
    """Subtitle files directly or deeper under a folder or ``s3://bucket/prefix``."""
    return [s.key for s in list_sources(open_store(source_url))]


def series_settings(settings: Settings, series: str, glossaries: str | Path | None = None) -> Settings:
    """The settings with the series' glossary: ``glossary`` when configured, else
    ``<glossary_dir>/<series>.csv`` (or ``.tbx``; ``glossaries`` overrides the folder).

    Never a silent run without terms: where the series has none, :class:`GlossaryMissingError`
    names the files looked for, unless the settings say ``glossary_optional`` (then the run goes on
    without one and the caller is told by a warning in the log)."""
    if settings.glossary is not None:
        return settings
    folder = Path(glossaries) if glossaries is not None else Path(settings.glossary_dir)
    candidates = [folder / f"{safe_segment(series)}{ext}" for ext in (".csv", ".tbx")]
    for candidate in candidates:
        if candidate.is_file():
            return settings.model_copy(update={"glossary": candidate.resolve()})
    if settings.glossary_optional:
        _run_logger().warning(
            "series %s: no glossary (looked for %s); running without one because glossary_optional is set",
            series, " and ".join(str(c.resolve()) for c in candidates))
        return settings
    raise GlossaryMissingError(
        f"series {series!r} has no glossary: looked for {' and '.join(str(c.resolve()) for c in candidates)}. "
        f"Add one there, set `glossary` (or `glossary_dir`) in the settings, or set `glossary_optional = true` "
        "to run this series without one")


def _run_logger() -> Any:
    """The flow run's logger (what the Prefect UI shows) inside a run, else this module's."""
    from prefect import get_run_logger
    from prefect.exceptions import MissingContextError

    try:
        return get_run_logger()
    except MissingContextError:
        return log


def default_series(source_url: str) -> str:
    """The series a source location holds when none is given: its last path segment."""
    return safe_segment(str(source_url).rstrip("/").rsplit("/", 1)[-1])


def load_episode(source_url: str, key: str, series: str, limits: Any = None) -> Episode:
    """Read and parse one source file within ``limits`` (the settings' input size limits; the
    defaults when ``None``); a :class:`~localise.errors.ParseError` names the file."""
    from localise.io import read_track

    store = open_store(source_url)
    data = store.read(key)
    location = store.location(key)
    track = read_track(data, name=location, limits=limits)
    return Episode(safe_segment(series), episode_name(key), location, sha256(data), track, key)


def split_source(path_or_url: str) -> tuple[str, str]:
    """``(folder or s3 prefix URL, key)`` of one source file given by path or ``s3://bucket/key``."""
    text = str(path_or_url)
    if text.startswith("s3://"):
        folder, _, key = text.rpartition("/")
        return folder, key
    path = Path(text)
    return str(path.parent), path.name


def load_file(path_or_url: str, series: str, limits: Any = None) -> Episode:
    """One source given by path or ``s3://bucket/key`` (the episode flow's input)."""
    folder, key = split_source(path_or_url)
    return load_episode(folder, key, series, limits)


# ------------------------------------------------------------------ signatures and cache keys
# What is already done (content-hash work keys, current manifests, the caches) is the library's:
# localise.resume, shared with `localise translate`.

def scan_sources(source_url: str, series: str, dest_url: str, signature: Mapping[str, Any], settings: Settings,
                 logger: Any = log, delays: Sequence[float] = STORAGE_DELAYS) -> Scan:
    """Read every source under ``source_url`` and sort the episodes into pending, current and
    failed. Listing errors raise (nothing can be done without the list); an episode whose file
    cannot be parsed or read (after ``delays`` retries) or whose manifest cannot be read fails alone."""
    keys = call_with_retries(lambda: list_source_keys(source_url), what=f"{source_url}: listing", delays=delays,
                             logger=logger)
    clashes = shared_episodes(SourceFile(key, episode_name(key)) for key in keys)
    refused = [Outcome(safe_segment(series), episode, key, "failed", shared_episode_error(episode, found))
               for episode, found in clashes.items() for key in found]
    for row in refused:
        logger.error("%s: %s", row.source, row.error)
    keys = [key for key in keys if episode_name(key) not in clashes]
    manifests: dict[str, dict[str, Any]] = {}  # of the current episodes, for tidy_current
    current: dict[str, Episode] = {}

    def one(key: str) -> Episode | Outcome:
        try:
            episode = call_with_retries(lambda: load_episode(source_url, key, series, settings.limits.input_limits()),
                                        what=key, delays=delays,
                                        logger=logger)
        except Exception as exc:  # unreadable file: this episode fails, the batch goes on
            logger.error("%s: %s", key, exc)
            return Outcome(safe_segment(series), episode_name(key), key, "failed", f"{type(exc).__name__}: {exc}")
        try:
            manifest = call_with_retries(lambda: current_manifest(dest_url, episode, signature, settings),
                                         what=f"{episode.id}: manifest", delays=delays, logger=logger)
        except Exception as exc:  # destination unreachable after retries
            logger.error("%s: cannot read its manifest: %s", episode.id, exc)
            return failed(episode, exc)
        if manifest is not None:  # published from these very bytes with these settings
            manifests[episode.id] = manifest
            current[episode.id] = episode
            return outcome(dest_url, episode, manifest["languages"], "current")
        return episode

    scan = Scan([], refused)
    for item in _each(one, keys):
        (scan.pending if isinstance(item, Episode) else scan.settled).append(item)
    broken = tidy_current(dest_url, scan, manifests, logger)
    if broken:  # current by its manifest, yet objects it names are gone: publish again (repairs)
        scan.settled = [row for row in scan.settled if f"{row.series}/{row.episode}" not in broken]
        scan.pending.extend(current[key] for key in broken)
    return scan


def current_manifest(dest_url: str, episode: Episode, signature: Mapping[str, Any], settings: Settings) -> dict | None:
    """The destination's manifest when it already holds this exact source localised with this
    signature and quality gate (nothing to do), else ``None``."""
    return resume.current_manifest(open_store(dest_url), episode.series, episode.episode, episode.sha256, signature,
                                   settings.quality_gate.model_dump())


def is_current(manifest: Mapping[str, Any], episode: Episode, signature: Mapping[str, Any], settings: Settings) -> bool:
    """:func:`localise.resume.is_current` for an episode under these settings' quality gate."""
    return resume.is_current(manifest, episode.sha256, signature, settings.quality_gate.model_dump())


def tidy_current(dest_url: str, scan: Scan, manifests: Mapping[str, Mapping[str, Any]] | None = None,
                 logger: Any = log) -> list[str]:
    """Sweep what interrupted runs left under episodes a batch will not publish (a run that
    stopped after uploading, staging folders of older versions): one listing per series, and
    the episode's lease only where something is left. ``manifests`` are those the scan read
    (by episode id), so no manifest is read twice. Returns the ids of current episodes whose
    manifest names objects that are gone (to be published again). Never fails the batch."""
    store = open_store(dest_url)
    broken: list[str] = []
    current = [row for row in scan.settled if row.status == "current"]
    for series in dict.fromkeys(row.series for row in current):
        try:
            keys = store.list(join_key(series))
            for row in (r for r in current if r.series == series):
                base = join_key(row.series, row.episode)
                names = {k[len(base) + 1:] for k in keys if k.startswith(f"{base}/")}
                manifest = (manifests or {}).get(f"{row.series}/{row.episode}")
                if manifest is None:
                    manifest = read_manifest(store, row.series, row.episode)
                if not set((manifest or {}).get("files") or {}) <= names:
                    logger.warning("%s/%s: objects named by its manifest are missing; publishing again",
                                   row.series, row.episode)
                    broken.append(f"{row.series}/{row.episode}")
                elif episode_strays(manifest, names):
                    gone = tidy_episode(store, row.series, row.episode)
                    if gone:
                        logger.info("%s/%s: swept %d object(s) left by an interrupted run", row.series,
                                    row.episode, len(gone))
        except Exception as exc:  # noqa: BLE001 - tidying is a courtesy; the next run tries again
            logger.warning("%s: leftovers not swept: %s", series, exc)
    return broken


# ------------------------------------------------------------------ translating


def chunk_by_cues(episodes: Sequence[Episode], max_cues: int) -> list[list[Episode]]:
    """Consecutive groups of at most ``max_cues`` cues (at least one episode each): the library's
    batching rule (:func:`localise.pipeline.chunk_by_cues`) over episodes."""
    from localise.pipeline import chunk_by_cues as chunk

    return chunk(episodes, max_cues, lambda ep: len(ep.track.cues))


def series_options(settings: Settings, series: str) -> Any:
    """Pipeline options for one series, with the series' translation memory (approved and edited
    lines of earlier episodes are reused instead of machine translation) where a review store is set."""
    if not settings.review_db_url:
        return settings.options()
    return settings.options(memory=_memory(settings.review_db_url).for_series(series))


@lru_cache(maxsize=4)
def _review_store(url: str) -> Any:
    """One review store (engine, pool, schema check) per database per worker process."""
    from localise.review.store import ReviewStore

    return ReviewStore(url)


@lru_cache(maxsize=4)
def _memory(url: str) -> Any:
    from localise.review.tm import TranslationMemory

    return TranslationMemory(url)


def translate_episodes(
    episodes: Sequence[Episode],
    targets: Sequence[str],
    settings: Settings,
    signature: Mapping[str, Any],
    cache: Any = None,
    logger: Any = log,
    translations: Any = None,
) -> dict[str, list[LocalisedTrack]]:
    """Localised tracks per episode id. Cached episodes come from ``cache`` (a
    :class:`localise.resume.WorkCache` or a Prefect ``ResultStore``, keyed by
    :func:`localise.resume.work_key`); the rest are translated together, one engine call per
    language, reusing finished engine calls from ``translations``
    (:class:`localise.resume.TranslationCache`) when given."""
    from localise.pipeline import localise_tracks

    work = resume.as_work_cache(cache)
    out: dict[str, list[LocalisedTrack]] = {}
    misses: list[Episode] = []
    for ep in episodes:
        found = work.get(work_key(ep.sha256, signature)) if work is not None else None
        if found is not None:
            out[ep.id] = found
        else:
            misses.append(ep)
    for series in dict.fromkeys(ep.series for ep in misses):  # one engine call per language and series
        group = [ep for ep in misses if ep.series == series]
        results = localise_tracks([ep.track for ep in group], list(targets), options=series_options(settings, series),
                                  translations=translations)
        per = len(targets)
        for n, ep in enumerate(group):
            out[ep.id] = results[n * per:(n + 1) * per]
            if work is not None:
                work.put(work_key(ep.sha256, signature), out[ep.id])
    if translations is not None and hasattr(translations, "hits"):
        logger.info("translated %d episode(s), %d from the cache; engine calls: %d text(s) reused, %d translated",
                    len(misses), len(episodes) - len(misses), translations.hits, translations.stored)
    else:
        logger.info("translated %d episode(s), %d from the cache", len(misses), len(episodes) - len(misses))
    return out


# ------------------------------------------------------------------ publishing and summary


def publish(dest_url: str, episode: Episode, results: Sequence[LocalisedTrack], signature: Mapping[str, Any],
            settings: Settings) -> Outcome:
    """Publish one episode (tracks, reports, manifest last, under the episode's lease) and describe
    what happened. A manifest that another run published from the same source and settings
    meanwhile (reviewed lines applied since included) is kept as it is."""
    store = open_store(dest_url)
    done = publish_episode(store, episode.series, episode.episode, results, source=episode.describe(),
                           signature=dict(signature), quality_gate=settings.quality_gate,
                           keep_if=lambda manifest: is_current(manifest, episode, signature, settings))
    if settings.review_db_url and not (done.unchanged and in_review(settings, episode, done)):
        done = send_to_review(store, episode, done, settings)
    statuses = {lang["status"] for lang in done.languages.values()}
    status = "unchanged" if done.unchanged else (
        "published" if statuses == {"published"} else "held" if statuses == {"held"} else "partly-held")
    return outcome(dest_url, episode, done.languages, status, done.uploaded)


def publish_chunk(dest_url: str, episodes: Sequence[Episode], results: Mapping[str, Sequence[LocalisedTrack]],
                  signature: Mapping[str, Any], settings: Settings, logger: Any = log,
                  delays: Sequence[float] = STORAGE_DELAYS) -> list[Outcome]:
    """:func:`publish` for each episode of a translated chunk, in order, each retried on its own
    (``delays``) and failing alone: the rows of the summary, ``failed`` ones carrying the error."""

    def one(episode: Episode) -> Outcome:
        try:
            return call_with_retries(lambda: publish(dest_url, episode, results[episode.id], signature, settings),
                                     what=f"{episode.id}: publishing", delays=delays, logger=logger)
        except Exception as exc:
            logger.error("%s: publishing failed: %s", episode.id, exc)
            return failed(episode, exc)

    return _each(one, episodes)


def in_review(settings: Settings, episode: Episode, done: Any) -> bool:
    """Whether the review queue holds every language of this manifest version already. Why ask:
    a publish whose ingest failed (storage gone right after the manifest) is retried, finds the
    manifest unchanged, and must still put the flagged lines into the queue."""
    review = _review_store(settings.review_db_url)
    for lang in done.languages:
        track = review.track(episode.series, episode.episode, lang)
        if track is None or str(track.track_version) != str(done.version):
            return False
    return True


def send_to_review(store: Any, episode: Episode, done: Any, settings: Settings) -> Any:
    """Put the episode's flagged lines into the review queue, and keep what reviewers already
    settled: a machine run never overwrites an approved or edited line, so where the queue holds
    reviewed lines for this episode the tracks are republished with them (a new manifest version)."""
    from localise.review.sync import apply_review, ingest_published

    review = _review_store(settings.review_db_url)
    ingested = ingest_published(review, store, episode.series, episode.episode)
    if any(result.kept for result in ingested.values()):
        again = apply_review(review, store, episode.series, episode.episode, quality_gate=settings.quality_gate,
                             limits=settings.limits.input_limits())
        return replace(again, uploaded=done.uploaded + again.uploaded)
    return done


def outcome(dest_url: str, episode: Episode, languages: Mapping[str, Mapping[str, Any]], status: str,
            uploaded: int = 0) -> Outcome:
    """A summary row with the full location of every track, report and the manifest."""
    store = open_store(dest_url)
    base = join_key(episode.series, episode.episode)
    located = {
        lang: {**info, "track": store.location(f"{base}/{info['track']}"),
               "report": store.location(f"{base}/{info['report']}")}
        for lang, info in languages.items()
    }
    return Outcome(episode.series, episode.episode, episode.source, status, None, located, uploaded,
                   store.location(f"{base}/{MANIFEST}"))


def summary_markdown(rows: Iterable[Outcome]) -> str:
    """A table for the Prefect artifact and the logs: one line per episode and language."""
    lines = ["| series | episode | status | language | need review | flagged | track | error |",
             "|---|---|---|---|---|---|---|---|"]
    for row in rows:
        if not row.languages:
            lines.append(f"| {row.series} | {row.episode} | {row.status} | | | | | {row.error or ''} |")
        for lang, info in row.languages.items():
            flagged = f"{info.get('flagged', 0)}/{info.get('cues', 0)}"
            review = f"{info.get('need_review', 0)} ({100 * info.get('need_review_share', 0.0):.1f} %)"
            lines.append(f"| {row.series} | {row.episode} | {row.status} | {lang} | {review} | {flagged} "
                         f"| {info.get('track', '')} | |")
    return "\n".join(lines)


def totals(rows: Sequence[Outcome]) -> dict[str, int]:
    counts: dict[str, int] = {"episodes": len(rows), "uploaded": sum(r.uploaded for r in rows)}
    for row in rows:
        counts[row.status] = counts.get(row.status, 0) + 1
    # the LLM engine's tokens over the batch (sent in this run; answers read from its cache cost nothing)
    llm = [info["llm"] for row in rows for info in row.languages.values() if isinstance(info.get("llm"), dict)]
    if llm:
        for name in ("requests", "cached", "prompt_tokens", "completion_tokens"):
            counts[f"llm_{name}"] = sum(int(u.get(name) or 0) for u in llm)
        costs = [u["cost"] for u in llm if u.get("cost") is not None]
        if costs:
            counts["llm_cost"] = round(sum(costs), 6)  # type: ignore[assignment]  # a price, not a count
    return counts


# ------------------------------------------------------------------ Prefect tasks over the functions above


def _translate_cached(episodes: Sequence[Episode], targets: Sequence[str], settings: Settings,
                      signature: Mapping[str, Any]) -> dict[str, list[LocalisedTrack]]:
    """:func:`translate_episodes` with the per-episode cache in ``settings.cache_url`` (shared by
    the pool's workers), else in the task's Prefect result store."""
    from prefect import get_run_logger

    return translate_episodes(episodes, targets, settings, signature, cache=work_cache(settings),
                              logger=get_run_logger(), translations=engine_call_cache(settings))


def engine_call_cache(settings: Settings) -> Any:
    """Finished engine calls shared by the pool's workers (``<cache_url>/mt/``,
    :class:`localise.resume.StoreTranslationCache`), or ``None`` without ``cache_url``."""
    if not settings.cache_url:
        return None
    return resume.StoreTranslationCache(open_store(settings.cache_url), prefix="mt",
                                        slice_units=settings.cache_slice_units)


def work_cache(settings: Settings) -> Any:
    """The flows' per-episode cache: :class:`localise.resume.StoreWorkCache` over
    ``settings.cache_url`` where set, else the running task's Prefect result store."""
    if settings.cache_url:
        return resume.StoreWorkCache(open_store(settings.cache_url))
    from prefect.results import get_default_result_storage, get_result_store

    store = get_result_store()
    if store.result_storage is None:
        store = store.model_copy(update={"result_storage": get_default_result_storage()})
    return store


def _scan(source_url: str, series: str, dest_url: str, signature: Mapping[str, Any], settings: Settings) -> Scan:
    from prefect import get_run_logger

    return scan_sources(source_url, series, dest_url, signature, settings, logger=get_run_logger())


def _publish_chunk(dest_url: str, episodes: Sequence[Episode], results: Mapping[str, Sequence[LocalisedTrack]],
                   signature: Mapping[str, Any], settings: Settings) -> list[Outcome]:
    from prefect import get_run_logger

    return publish_chunk(dest_url, episodes, results, signature, settings, logger=get_run_logger())


def _load_file(path_or_url: str, series: str, limits: Any = None) -> Episode:
    from prefect import get_run_logger

    return call_with_retries(lambda: load_file(path_or_url, series, limits), what=f"{path_or_url}: reading",
                             logger=get_run_logger())


def _publish(dest_url: str, episode: Episode, results: Sequence[LocalisedTrack], signature: Mapping[str, Any],
             settings: Settings) -> Outcome:
    from prefect import get_run_logger

    return call_with_retries(lambda: publish(dest_url, episode, results, signature, settings),
                             what=f"{episode.id}: publishing", logger=get_run_logger())


# No Prefect task retries (localise.retry: one layer per kind): storage calls are retried inside,
# per call, by botocore (S3) or localise.retry (other network errors, lease conflicts); anything
# else would fail the same way again.
_STORAGE = {"cache_policy": NO_CACHE}
# Results that are cheap to make again, or cached inside, are not written to result storage.
_NOT_KEPT = {"cache_policy": NO_CACHE, "persist_result": False}

# The batch flow: one scan, then per chunk one translate and one publish task (see the module doc).
scan_task = task(name="scan-sources", **{**_STORAGE, "persist_result": False})(_scan)
publish_chunk_task = task(name="publish-chunk", **_NOT_KEPT)(_publish_chunk)  # retries per episode inside
# The episode flow: one file, one task each.
load_file_task = task(name="load-source", **_STORAGE)(_load_file)
publish_task = task(name="publish-episode", **_STORAGE)(_publish)
# Cached per episode inside (see the module doc), so the task itself keeps no Prefect cache.
translate_task = task(name="translate-chunk", **_NOT_KEPT)(_translate_cached)


def translate_task_for(settings: Settings) -> Any:
    """The translate task, tagged with ``settings.translate_tags`` (for a Prefect tag concurrency
    limit, e.g. one chunk at a time per shared GPU) when any are set."""
    return translate_task.with_options(tags=list(settings.translate_tags)) if settings.translate_tags else translate_task
