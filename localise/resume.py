"""What is already done: content-hash work keys, current-manifest checks and the caches that let
every entry point (``localise translate``, the flows) resume instead of starting again.

Why content hashes and no run ids: a rerun after Ctrl-C, a crash or a killed worker must find the
work of the run before it. A piece of work is named by what produces it — the source bytes, the
target language, engine, model fingerprint per hop, glossary version, the settings that change
words and the library version — so an identical rerun finds everything, and changing any of them
(a rebuilt model, an edited glossary) misses the cache instead of reusing stale words.

Two levels of cache:

* :class:`WorkCache` — finished work by :func:`work_key`: the CLI keeps each output file's text
  per input and language (JSON, in a folder: :class:`FolderCache`), the flows keep each episode's
  localised tracks (a Prefect result store, through :func:`as_work_cache`);
* :class:`TranslationCache` — finished engine calls: one row per (route, unit text) in SQLite, so
  an interrupted run reuses the slices of machine translation it finished before it stopped
  (:func:`translation_namespace` names the route).

The cache folder is data of the same trust as the output folder: JSON and SQLite only, nothing
that runs code when read.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import tempfile
import threading
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from localise.model import Translation

if TYPE_CHECKING:
    from localise.pipeline import LocaliseOptions

#: The cache folder ``localise translate`` uses inside its output folder unless told otherwise.
CACHE_DIRNAME = ".localise-cache"
#: Bump when the layout or meaning of cached entries changes: older entries are then misses.
CACHE_FORMAT = 1


# ------------------------------------------------------------------ signatures and keys


def library_version() -> str:
    from localise.storage import _package_version

    return _package_version()


def _as_options(options_or_settings: Any) -> LocaliseOptions:
    """Settings (``localise.config.Settings``) or pipeline options: the pipeline options."""
    make = getattr(options_or_settings, "options", None)
    return make() if callable(make) else options_or_settings


def run_signature(options: Any, targets: Sequence[str]) -> dict[str, Any]:
    """What produces a track, as JSON: library version, engine, model per hop (local folders by
    content fingerprint), glossary version and the settings that change words. It goes into
    manifests and into the cache keys. ``options``: :class:`~localise.pipeline.LocaliseOptions`
    or the settings they come from."""
    from localise.engines.base import model_fingerprint
    from localise.engines.registry import routes

    options = _as_options(options)
    models: dict[str, list[str]] = {}
    for lang in targets:
        hops = routes(options.src, lang, options.model_table, options.model)
        models[lang] = [f"{h.src}->{h.tgt}:{model_fingerprint(h.model)}" for h in hops]
    return {
        "localise_version": library_version(),
        "targets": list(targets),
        "models": models,
        **options.describe(),
    }


def work_key(source_sha256: str, signature: Mapping[str, Any]) -> str:
    """The cache key of one piece of finished work: content hashes only, no run id."""
    blob = json.dumps({"source": source_sha256, "signature": signature}, sort_keys=True, default=str)
    return "localise-" + hashlib.sha256(blob.encode()).hexdigest()


def file_sha256(path: str | os.PathLike[str]) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def translation_namespace(options: LocaliseOptions, lang: str) -> str:
    """Names everything that decides a unit's machine translation into ``lang`` (route and model
    fingerprints, engine and its options, glossary version, library version) but not the checks,
    styles or thresholds applied afterwards: two runs that differ only there share engine work."""
    from localise.engines.base import model_fingerprint
    from localise.engines.registry import routes

    if isinstance(options.engine, str):
        engine: Any = options.engine
        hops = [f"{h.src}->{h.tgt}:{model_fingerprint(h.model)}"
                for h in routes(options.src, lang, options.model_table, options.model)]
    else:  # an engine object (tests, custom back ends): its own signature, when it has one
        signature = getattr(options.engine, "signature", None)
        engine = signature() if callable(signature) else type(options.engine).__qualname__
        hops = []
    glossary = options.resolved_glossary()
    blob = json.dumps({
        "format": CACHE_FORMAT, "localise_version": library_version(), "src": options.src, "tgt": lang,
        "engine": engine, "hops": hops, "engine_options": options.engine_options,
        "glossary_version": getattr(glossary, "version", None),
    }, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


# ------------------------------------------------------------------ published manifests


def is_current(manifest: Mapping[str, Any], source_sha256: str, signature: Mapping[str, Any],
               quality_gate: Mapping[str, Any]) -> bool:
    """Whether a manifest was published from this very source with this signature and gate
    (reviewed lines applied since included): republishing the machine tracks would undo work."""
    return (
        (manifest.get("source") or {}).get("sha256") == source_sha256
        and manifest.get("signature") == json.loads(json.dumps(dict(signature), default=str))
        and manifest.get("quality_gate") == dict(quality_gate)
    )


def current_manifest(store: Any, series: str, episode: str, source_sha256: str, signature: Mapping[str, Any],
                     quality_gate: Mapping[str, Any]) -> dict[str, Any] | None:
    """The store's manifest of the episode when it already holds this exact source localised with
    this signature and quality gate (nothing to do), else ``None``."""
    from localise.storage import read_manifest

    manifest = read_manifest(store, series, episode)
    return manifest if manifest is not None and is_current(manifest, source_sha256, signature, quality_gate) else None


# ------------------------------------------------------------------ finished work


@runtime_checkable
class WorkCache(Protocol):
    """Finished work by :func:`work_key`."""

    def get(self, key: str) -> Any | None:
        """The value stored under ``key``, or ``None``."""

    def put(self, key: str, value: Any) -> None:
        """Keep ``value`` under ``key`` (all of it or nothing: a reader never sees half)."""


class FolderCache:
    """JSON values in files under a folder (``<folder>/<key[9:11]>/<key>.json``), written to a
    temporary name and renamed, so an interrupted write leaves no half entry. The folder is made
    on the first :meth:`put`: a run that fails before any work leaves nothing behind."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self.stored = 0  # entries this object wrote (for "kept N finished files" messages)

    def _path(self, key: str) -> Path:
        if not key or "/" in key or "\\" in key or key.startswith("."):
            raise ValueError(f"not a cache key: {key!r}")
        digest = key.rsplit("-", 1)[-1]
        return self.folder / digest[:2] / f"{key}.json"

    def get(self, key: str) -> Any | None:
        try:
            entry = json.loads(self._path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):  # absent, or unreadable: a miss, the work is done again
            return None
        if not isinstance(entry, dict) or entry.get("format") != CACHE_FORMAT or entry.get("key") != key:
            return None
        return entry.get("value")

    def put(self, key: str, value: Any) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = json.dumps({"format": CACHE_FORMAT, "key": key, "value": value}, ensure_ascii=False)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(data)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        self.stored += 1


class _ResultStoreCache:
    """A Prefect ``ResultStore`` (``exists``/``read``/``write``) seen as a :class:`WorkCache`."""

    def __init__(self, store: Any) -> None:
        self.store = store

    def get(self, key: str) -> Any | None:
        return self.store.read(key).result if self.store.exists(key) else None

    def put(self, key: str, value: Any) -> None:
        self.store.write(value, key=key)


class StoreWorkCache:
    """Finished work in a :class:`localise.storage.Store` — a folder or an S3 prefix that every
    worker of a pool reaches (setting ``cache_url``), so any worker reuses what any other finished.

    Values are pickled (the flows keep each episode's localised tracks, as Prefect's own result
    storage would): the prefix must be writable by the workers only. A cache that cannot be
    read or written is a miss, logged, never a failed episode: the work is done again."""

    def __init__(self, store: Any, prefix: str = "") -> None:
        self.store = store
        self.prefix = prefix.strip("/")

    def _key(self, key: str) -> str:
        if not key or "/" in key or key.startswith("."):
            raise ValueError(f"not a cache key: {key!r}")
        return f"{self.prefix}/{key}.pickle" if self.prefix else f"{key}.pickle"

    def get(self, key: str) -> Any | None:
        import logging
        import pickle

        try:
            data = self.store.read(self._key(key))
        except FileNotFoundError:
            return None
        except Exception as exc:  # noqa: BLE001 - storage down: a miss, the work is done again
            logging.getLogger("localise.resume").warning("%s: cache not read (%s); doing the work again",
                                                         self.store.location(self._key(key)), exc)
            return None
        try:
            entry = pickle.loads(data)
        except Exception:  # noqa: BLE001 - written by another version: a miss
            return None
        if not isinstance(entry, dict) or entry.get("format") != CACHE_FORMAT or entry.get("key") != key:
            return None
        return entry.get("value")

    def put(self, key: str, value: Any) -> None:
        import logging
        import pickle

        data = pickle.dumps({"format": CACHE_FORMAT, "key": key, "value": value}, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            self.store.write(self._key(key), data, "application/octet-stream")
        except Exception as exc:  # noqa: BLE001 - the work is done; only its reuse is lost
            logging.getLogger("localise.resume").warning("%s: cache not written (%s)",
                                                         self.store.location(self._key(key)), exc)


def as_work_cache(cache: Any) -> WorkCache | None:
    """``cache`` as a :class:`WorkCache`: ``None``, a work cache, or a Prefect result store."""
    if cache is None or isinstance(cache, WorkCache):
        return cache
    if all(hasattr(cache, name) for name in ("exists", "read", "write")):
        return _ResultStoreCache(cache)
    raise TypeError(f"not a work cache: {type(cache).__name__}")


# ------------------------------------------------------------------ finished engine calls


class TranslationCache:
    """Machine translations of unit texts, per :func:`translation_namespace`, in one SQLite file.

    Why SQLite: a run writes thousands of small entries as each engine slice finishes; one file
    with transactions stays consistent when the process is killed between two writes, and two
    runs on the same folder take turns (``timeout``). The connection is opened on first use, per
    process (the object pickles without it); the file and its folder are made on the first write.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        return {"path": self.path}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["path"])  # type: ignore[misc]

    def _connect(self, create: bool) -> sqlite3.Connection | None:
        if self._conn is None:
            if not create and not self.path.exists():
                return None
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
            conn.execute("CREATE TABLE IF NOT EXISTS mt (namespace TEXT NOT NULL, source TEXT NOT NULL, "
                         "value TEXT NOT NULL, PRIMARY KEY (namespace, source)) WITHOUT ROWID")
            conn.commit()
            self._conn = conn
        return self._conn

    def lookup(self, namespace: str, texts: Iterable[str]) -> dict[str, Translation]:
        """The cached translations among ``texts`` (absent ones are left out)."""
        wanted = list(dict.fromkeys(texts))
        found: dict[str, Translation] = {}
        with self._lock:
            conn = self._connect(create=False)
            if conn is None or not wanted:
                return found
            for start in range(0, len(wanted), 500):  # under SQLite's bound-variable limit
                part = wanted[start:start + 500]
                rows = conn.execute(
                    f"SELECT source, value FROM mt WHERE namespace = ? AND source IN ({','.join('?' * len(part))})",
                    [namespace, *part])
                for source, value in rows:
                    found[source] = _translation_from_json(value)
        return found

    def store(self, namespace: str, items: Iterable[tuple[str, Translation]]) -> None:
        """Keep the translations of one finished engine call (one transaction)."""
        rows = [(namespace, source, _translation_to_json(t)) for source, t in items]
        if not rows:
            return
        with self._lock:
            conn = self._connect(create=True)
            assert conn is not None
            with conn:
                conn.executemany("INSERT OR REPLACE INTO mt (namespace, source, value) VALUES (?, ?, ?)", rows)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


class StoreTranslationCache:
    """Finished engine calls in a :class:`localise.storage.Store` that every worker of a pool
    reaches (setting ``cache_url``): a flow run killed with its worker leaves the engine calls it
    finished, and the run that takes its chunk over on another worker translates only the rest.

    One object per finished engine call (``<prefix>/<namespace>/<sha256 of its sources>.json``,
    JSON, no pickle): S3 has no transactions, and a whole call written at once is all or nothing.
    :meth:`lookup` reads the namespace's objects once per instance (later calls read only new
    ones). ``slice_units`` (texts per engine call while this cache is in use) is kept larger than
    for the local SQLite cache: each call is one object to write and read. Unreadable storage is a
    miss, logged: the engine does the work again. ``hits``/``stored`` count texts (for summaries)."""

    def __init__(self, store: Any, prefix: str = "mt", slice_units: int = 1024) -> None:
        self.backend = store
        self.prefix = prefix.strip("/")
        self.slice_units = slice_units
        self.hits = 0
        self.stored = 0
        self._seen: dict[str, set[str]] = {}
        self._known: dict[str, dict[str, Translation]] = {}
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        return {"store": self.backend, "prefix": self.prefix, "slice_units": self.slice_units}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(**state)  # type: ignore[misc]

    def _folder(self, namespace: str) -> str:
        if not namespace or "/" in namespace or namespace.startswith("."):
            raise ValueError(f"not a cache namespace: {namespace!r}")
        return f"{self.prefix}/{namespace}" if self.prefix else namespace

    def _refresh(self, namespace: str) -> dict[str, Translation]:
        import logging

        known = self._known.setdefault(namespace, {})
        seen = self._seen.setdefault(namespace, set())
        log = logging.getLogger("localise.resume")
        try:
            folder = self._folder(namespace)
            keys = [k for k in self.backend.list(folder) if k.startswith(folder + "/") and k.endswith(".json")]
        except Exception as exc:  # noqa: BLE001 - storage down: a miss, the engine does the work
            log.warning("%s: engine-call cache not listed (%s)", self.backend.location(self._folder(namespace)), exc)
            return known
        for key in keys:
            if key in seen:
                continue
            try:
                entry = json.loads(self.backend.read(key))
                if entry.get("format") != CACHE_FORMAT or entry.get("namespace") != namespace:
                    raise ValueError("another format or namespace")
                for source, value in entry["items"]:
                    known[source] = _translation_from_json(json.dumps(value))
            except FileNotFoundError:
                continue
            except Exception as exc:  # noqa: BLE001 - one unreadable entry is a miss, not a failed run
                log.warning("%s: engine-call cache entry not read (%s)", self.backend.location(key), exc)
            seen.add(key)
        return known

    def lookup(self, namespace: str, texts: Iterable[str]) -> dict[str, Translation]:
        """The cached translations among ``texts`` (absent ones are left out)."""
        with self._lock:
            known = self._refresh(namespace)
            found = {text: known[text] for text in dict.fromkeys(texts) if text in known}
            self.hits += len(found)
            return found

    def store(self, namespace: str, items: Iterable[tuple[str, Translation]]) -> None:
        """Keep the translations of one finished engine call (one object)."""
        import logging

        rows = [(source, json.loads(_translation_to_json(t))) for source, t in items]
        if not rows:
            return
        digest = hashlib.sha256(json.dumps([r[0] for r in rows], ensure_ascii=False).encode()).hexdigest()
        key = f"{self._folder(namespace)}/{digest}.json"
        data = json.dumps({"format": CACHE_FORMAT, "namespace": namespace, "items": rows}, ensure_ascii=False)
        with self._lock:
            try:
                self.backend.write(key, data.encode("utf-8"), "application/json")
            except Exception as exc:  # noqa: BLE001 - the work is done; only its reuse is lost
                logging.getLogger("localise.resume").warning("%s: engine-call cache not written (%s)",
                                                             self.backend.location(key), exc)
                return
            self._seen.setdefault(namespace, set()).add(key)
            self._known.setdefault(namespace, {}).update(
                (source, _translation_from_json(json.dumps(value))) for source, value in rows)
            self.stored += len(rows)

    def close(self) -> None:
        """Nothing held open (the same interface as :class:`TranslationCache`)."""


def _translation_to_json(t: Translation) -> str:
    return json.dumps([t.text, t.confidence, t.origin, list(t.pivot) if t.pivot else None], ensure_ascii=False)


def _translation_from_json(value: str) -> Translation:
    text, confidence, origin, pivot = json.loads(value)
    return Translation(text, confidence, origin, tuple(pivot) if pivot else None)


# ------------------------------------------------------------------ one folder for a run


class RunCache:
    """The cache folder of ``localise translate``: finished output files (``files/``) and
    finished engine calls (``translations.sqlite``)."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self.files = FolderCache(self.folder / "files")
        self.translations = TranslationCache(self.folder / "translations.sqlite")

    def close(self) -> None:
        self.translations.close()


def default_cache_dir(out_dir: str | os.PathLike[str]) -> Path:
    """Where ``localise translate`` keeps finished work unless told otherwise: inside the output
    folder, so that the same command finds it again and deleting the folder deletes it."""
    return Path(out_dir) / CACHE_DIRNAME


__all__ = [
    "CACHE_DIRNAME",
    "FolderCache",
    "RunCache",
    "StoreTranslationCache",
    "StoreWorkCache",
    "TranslationCache",
    "WorkCache",
    "as_work_cache",
    "current_manifest",
    "default_cache_dir",
    "file_sha256",
    "is_current",
    "run_signature",
    "translation_namespace",
    "work_key",
]
