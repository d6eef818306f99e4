"""Where localised tracks go: a small ``Store`` interface, a local-folder and an S3 backend, and
:func:`publish_episode`, which writes one episode's tracks, reports and ``manifest.json``.

Layout under a store's prefix (every segment sanitised by :func:`safe_segment`)::

    <series>/<episode>/<lang>.<ext>            published track
    <series>/<episode>/<lang>.report.json      its quality report (and .report.html)
    <series>/<episode>/held/<lang>.<ext>       held for review by the quality gate (+ reports)
    <series>/<episode>/manifest.json           what is published, written last

Why "tracks first, manifest last": players and CDNs read the manifest, so a run that fails
part-way must leave the previous manifest pointing at the previous, complete files. New files
are uploaded to a staging folder first (a failure there changes nothing a user sees), then
copied into place, then the manifest is written; if the copy phase fails the previous objects
are put back (best effort: storage that is down cannot be repaired from here, and the next
run republishes). Files whose bytes did not change are not uploaded again, so an identical
rerun writes nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
import threading
import unicodedata
import uuid
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from localise.errors import ConfigError, PublishError

if TYPE_CHECKING:
    from localise.config import QualityGate
    from localise.pipeline import LocalisedTrack

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
MANIFEST_SCHEMA = 1
HELD = "held"
STAGING = ".staging"
SUBTITLE_EXTENSIONS = (".srt", ".vtt", ".ass", ".ssa")
_CONTENT_TYPES = {
    ".srt": "application/x-subrip; charset=utf-8",
    ".vtt": "text/vtt; charset=utf-8",
    ".ass": "text/x-ssa; charset=utf-8",
    ".ssa": "text/x-ssa; charset=utf-8",
    ".json": "application/json",
    ".html": "text/html; charset=utf-8",
}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ------------------------------------------------------------------ key sanitising

_UNSAFE = re.compile(r"[^\w.\-]+", re.UNICODE)


def safe_segment(name: str) -> str:
    """One path segment safe for any store: no separators, no ``..``, no control characters.

    Letters and digits of any script survive (``第1集`` stays readable); everything else becomes
    ``-``; leading dots are dropped so ``..`` and hidden names cannot appear. Never empty.
    """
    text = unicodedata.normalize("NFKC", str(name)).strip()
    text = _UNSAFE.sub("-", text.replace("/", "-").replace("\\", "-"))
    text = re.sub(r"-{2,}", "-", text).strip("-. ")
    return text[:120] or "_"


def join_key(*parts: str) -> str:
    """A store key from raw names, each sanitised (``join_key("..", "x.srt") == "_/x.srt"``)."""
    return "/".join(safe_segment(p) for p in parts)


def episode_name(source_name: str) -> str:
    """The episode segment for a source file name or key: its sanitised stem."""
    return safe_segment(PurePosixPath(str(source_name).replace("\\", "/")).stem)


def _clean_key(key: str) -> str:
    """Reject keys that could leave the prefix (callers build keys with :func:`join_key`)."""
    parts = key.split("/")
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise PublishError(f"unsafe storage key {key!r}")
    return key


# ------------------------------------------------------------------ stores


class Store(ABC):
    """Bytes under string keys relative to the store's root; keys use ``/`` separators."""

    url: str

    @abstractmethod
    def write(self, key: str, data: bytes, content_type: str | None = None) -> None: ...

    @abstractmethod
    def read(self, key: str) -> bytes:
        """The object's bytes; ``FileNotFoundError`` when there is none."""

    @abstractmethod
    def list(self, prefix: str = "") -> list[str]:
        """Keys under ``prefix`` (recursively), sorted."""

    @abstractmethod
    def delete(self, key: str) -> None: ...

    def exists(self, key: str) -> bool:
        try:
            self.read(key)
        except FileNotFoundError:
            return False
        return True

    def copy(self, src: str, dst: str) -> None:
        self.write(dst, self.read(src), _content_type(dst))

    def location(self, key: str) -> str:
        """Where a person finds the object (a path or an ``s3://`` URL)."""
        return f"{self.url.rstrip('/')}/{key}"


def _content_type(key: str) -> str:
    return _CONTENT_TYPES.get(PurePosixPath(key).suffix.lower(), "application/octet-stream")


class LocalStore(Store):
    """A folder on disk (the embedded default). Writes go through a temp file and ``os.replace``,
    so a reader never sees half a file."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).expanduser().resolve()
        self.url = str(self.root)

    def _path(self, key: str) -> Path:
        # No resolve(): a clean key (no "", ".", ".." segments, not absolute) cannot leave the root
        # lexically, and resolving cost a system call per path segment on every store call.
        # Symlinks placed inside the root by its owner are followed.
        return self.root / _clean_key(key)

    def _temp_file(self, folder: Path) -> tuple[int, str]:
        try:
            return tempfile.mkstemp(prefix=".tmp-", dir=folder)
        except FileNotFoundError:  # first file of its folder (mkdir only then: it is not free)
            folder.mkdir(parents=True, exist_ok=True)
            return tempfile.mkstemp(prefix=".tmp-", dir=folder)

    def write(self, key: str, data: bytes, content_type: str | None = None) -> None:
        path = self._path(key)
        try:
            fd, tmp = self._temp_file(path.parent)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except OSError as exc:
            raise PublishError(f"{path}: cannot write: {exc.strerror or exc}") from exc

    def read(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return path.read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise FileNotFoundError(str(path)) from None

    def list(self, prefix: str = "") -> list[str]:
        base = self._path(prefix) if prefix else self.root
        if base.is_file():
            return [prefix]
        if not base.is_dir():
            return []
        return sorted(
            p.relative_to(self.root).as_posix()
            for p in base.rglob("*")
            if p.is_file() and not p.name.startswith(".tmp-")
        )

    def delete(self, key: str) -> None:
        path = self._path(key)
        path.unlink(missing_ok=True)
        for parent in path.parents:  # drop folders left empty (staging), never the root
            if parent == self.root or not parent.is_relative_to(self.root):
                break
            try:
                parent.rmdir()
            except OSError:
                break

    def location(self, key: str) -> str:
        return str(self._path(key))


class S3Store(Store):
    """An S3 bucket (or S3-compatible server) through boto3.

    Credentials come from boto3's standard chain (environment, shared files, instance roles).
    ``endpoint_url`` targets S3-compatible servers (also read by boto3 from ``AWS_ENDPOINT_URL_S3``);
    ``addressing_style`` defaults to ``path`` when an endpoint is set, since most such servers
    do not serve virtual-host bucket names. Picklable: the client is rebuilt after unpickling.
    """

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        addressing_style: str | None = None,
        max_attempts: int = 3,
    ) -> None:
        if not bucket:
            raise ConfigError("s3 storage needs a bucket: s3://bucket/prefix")
        self.bucket = bucket
        self.prefix = "/".join(p for p in prefix.strip("/").split("/") if p)
        if self.prefix:
            _clean_key(self.prefix)
        self.endpoint_url = endpoint_url
        self.region = region
        has_endpoint = endpoint_url or os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
        self.addressing_style = addressing_style or ("path" if has_endpoint else "auto")
        self.max_attempts = max_attempts
        self.url = f"s3://{bucket}/{self.prefix}".rstrip("/")
        self._client: Any = None

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_client"] = None
        return state

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = _s3_client(self.endpoint_url, self.region, self.addressing_style, self.max_attempts)
        return self._client

    def _key(self, key: str) -> str:
        key = _clean_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def _fail(self, action: str, key: str, exc: Exception) -> PublishError:
        return PublishError(f"{self.url}/{key}: {action} failed: {exc}")

    def write(self, key: str, data: bytes, content_type: str | None = None) -> None:
        try:
            self.client.put_object(
                Bucket=self.bucket, Key=self._key(key), Body=data, ContentType=content_type or _content_type(key)
            )
        except Exception as exc:  # botocore raises many unrelated types; all mean "not written"
            raise self._fail("upload", key, exc) from exc

    def read(self, key: str) -> bytes:
        from botocore.exceptions import ClientError

        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                raise FileNotFoundError(f"{self.url}/{key}") from None
            raise self._fail("download", key, exc) from exc
        except Exception as exc:
            raise self._fail("download", key, exc) from exc

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                return False
            raise self._fail("lookup", key, exc) from exc
        except Exception as exc:
            raise self._fail("lookup", key, exc) from exc
        return True

    def list(self, prefix: str = "") -> list[str]:
        full = self._key(prefix) if prefix else (f"{self.prefix}/" if self.prefix else "")
        strip = len(self.prefix) + 1 if self.prefix else 0
        keys: list[str] = []
        try:
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=full):
                keys.extend(obj["Key"][strip:] for obj in page.get("Contents", []))
        except Exception as exc:
            raise self._fail("listing", prefix, exc) from exc
        return sorted(k for k in keys if k and not k.endswith("/"))

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._key(key))
        except Exception as exc:
            raise self._fail("delete", key, exc) from exc

    def copy(self, src: str, dst: str) -> None:
        try:
            self.client.copy_object(
                Bucket=self.bucket,
                Key=self._key(dst),
                CopySource={"Bucket": self.bucket, "Key": self._key(src)},
                ContentType=_content_type(dst),
                MetadataDirective="REPLACE",
            )
        except Exception as exc:
            raise self._fail("copy", f"{src} -> {dst}", exc) from exc


_S3_CLIENTS: dict[tuple[Any, ...], Any] = {}
_S3_CLIENTS_LOCK = threading.Lock()
# What the standard credential and endpoint chain reads from the environment: a change there
# (another profile, other keys) gets a new client rather than the old one's credentials.
_S3_ENVIRONMENT = ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3",
                   "AWS_DEFAULT_REGION", "AWS_REGION")


def _s3_client(endpoint_url: str | None, region: str | None, addressing_style: str, max_attempts: int) -> Any:
    """One boto3 S3 client per configuration and process (boto3 clients are thread-safe).

    Why: making a client costs about 0.1 s of CPU (loading the service model), and a batch opens
    a store several times per episode; one client per store made S3 batches spend more CPU on
    clients than on subtitles."""
    key = (endpoint_url, region, addressing_style, max_attempts, *(os.environ.get(k) for k in _S3_ENVIRONMENT))
    with _S3_CLIENTS_LOCK:
        client = _S3_CLIENTS.get(key)
        if client is None:
            import boto3
            from botocore.config import Config

            config = Config(
                s3={"addressing_style": addressing_style},
                retries={"mode": "standard", "max_attempts": max_attempts},
                connect_timeout=5,
                read_timeout=30,
                max_pool_connections=32,  # a batch publishes several episodes at once
            )
            session = boto3.session.Session()
            client = session.client("s3", endpoint_url=endpoint_url, region_name=region, config=config)
            _S3_CLIENTS[key] = client
        return client


def open_store(url: str | os.PathLike[str], **s3_options: Any) -> Store:
    """``s3://bucket/prefix`` -> :class:`S3Store` (``s3_options`` go to it); anything else is a folder."""
    text = str(url)
    if text.startswith("s3://"):
        bucket, _, prefix = text[5:].partition("/")
        return S3Store(bucket, prefix, **s3_options)
    if "://" in text:
        raise ConfigError(f"unsupported storage URL {text!r}: use a folder or s3://bucket/prefix")
    return LocalStore(text)


# ------------------------------------------------------------------ sources


@dataclass(frozen=True)
class SourceFile:
    """A source subtitle file found in a store: its key and the episode it is."""

    key: str
    episode: str


def list_sources(store: Store, prefix: str = "") -> list[SourceFile]:
    """Subtitle files under ``prefix`` (not recursing into published output), one episode each."""
    found: list[SourceFile] = []
    for key in store.list(prefix):
        name = PurePosixPath(key)
        if name.suffix.lower() in SUBTITLE_EXTENSIONS and not any(p.startswith(".") for p in name.parts):
            found.append(SourceFile(key=key, episode=episode_name(name.name)))
    return found


# ------------------------------------------------------------------ manifest and publishing


def episode_prefix(series: str, episode: str) -> str:
    return join_key(series, episode)


def read_manifest(store: Store, series: str, episode: str) -> dict[str, Any] | None:
    """The episode's published manifest, or ``None`` when nothing was published yet."""
    key = f"{episode_prefix(series, episode)}/{MANIFEST}"
    try:
        return json.loads(store.read(key))
    except FileNotFoundError:
        return None
    except ValueError as exc:
        raise PublishError(f"{store.location(key)}: manifest is not JSON: {exc}") from exc


def flag_stats(report: Mapping[str, Any], severity: str = "minor") -> dict[str, Any]:
    """Cues, flagged cues (at or above ``severity``) and counts per flag code, from a report.

    Reads the per-cue flag lists (``report["cues"][i]["flags"]``), so the gate does not depend on
    how the report summarises itself.
    """
    from localise.model import severity_rank

    floor = severity_rank(severity)
    cues = report.get("cues") or []
    flagged = 0
    counts: dict[str, int] = {}
    for cue in cues:
        flags = cue.get("flags") or []
        hit = False
        for flag in flags:
            counts[flag.get("code", "?")] = counts.get(flag.get("code", "?"), 0) + 1
            if severity_rank(flag.get("severity", "minor")) >= floor:
                hit = True
        flagged += hit
    total = len(cues)
    return {"cues": total, "flagged": flagged, "flagged_share": round(flagged / total, 4) if total else 0.0,
            "flag_counts": dict(sorted(counts.items()))}


def gate(report: Mapping[str, Any], quality_gate: QualityGate | None) -> tuple[str, dict[str, Any]]:
    """``("published" | "held", stats)``: held when the share of flagged cues exceeds the gate's."""
    if quality_gate is None:
        return "published", flag_stats(report)
    stats = flag_stats(report, quality_gate.severity)
    status = "published" if stats["flagged_share"] <= quality_gate.max_flagged_share else "held"
    return status, stats


@dataclass
class PublishResult:
    """What :func:`publish_episode` did: per language status and keys; ``uploaded`` counts writes."""

    series: str
    episode: str
    manifest_key: str
    languages: dict[str, dict[str, Any]] = field(default_factory=dict)
    uploaded: int = 0
    unchanged: bool = False
    version: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "series": self.series, "episode": self.episode, "manifest": self.manifest_key,
            "languages": self.languages, "uploaded": self.uploaded, "unchanged": self.unchanged,
            "version": self.version,
        }


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def publish_episode(
    store: Store,
    series: str,
    episode: str,
    results: Sequence[LocalisedTrack],
    *,
    source: Mapping[str, Any],
    signature: Mapping[str, Any],
    quality_gate: QualityGate | None = None,
    fmt: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> PublishResult:
    """Publish one episode's localised tracks (one per language) with reports and manifest.

    ``source`` describes the input (at least ``sha256`` and ``name``); ``signature`` is what
    produced the tracks (engine, model, glossary version, settings) and goes into the manifest as
    is. The quality gate sends each language to ``<lang>.<ext>`` or ``held/<lang>.<ext>``.
    Raises :class:`PublishError` when storage fails; the previous manifest then still stands.
    """
    from localise.io import render_track

    base = episode_prefix(series, episode)
    previous = read_manifest(store, series, episode)
    prev_files: dict[str, str] = dict((previous or {}).get("files", {}))  # relative key -> sha256

    files: dict[str, bytes] = {}
    languages: dict[str, dict[str, Any]] = {}
    for result in results:
        lang = safe_segment(result.lang)
        ext = (fmt or result.track.format).lower()
        status, stats = gate(result.report, quality_gate)
        folder = f"{HELD}/" if status == "held" else ""
        track_bytes = render_track(result.track, ext).encode("utf-8")
        names = {
            "track": f"{folder}{lang}.{ext}",
            "report": f"{folder}{lang}.report.json",
            "report_html": f"{folder}{lang}.report.html",
        }
        files[names["track"]] = track_bytes
        files[names["report"]] = json.dumps(result.report, ensure_ascii=False, indent=2, sort_keys=True).encode()
        files[names["report_html"]] = _render_html(result.report).encode("utf-8")
        languages[lang] = {"status": status, **names, "sha256": sha256(track_bytes), "bytes": len(track_bytes),
                           "format": ext, **stats, "summary": result.report.get("summary")}

    checksums = {name: sha256(data) for name, data in files.items()}
    core = {
        "schema": MANIFEST_SCHEMA,
        "series": series,
        "episode": episode,
        "source": dict(source),
        "signature": dict(signature),
        "quality_gate": quality_gate.model_dump() if quality_gate is not None else None,
        "languages": languages,
        "files": checksums,
        **(dict(extra) if extra else {}),
    }
    manifest_key = f"{base}/{MANIFEST}"
    out = PublishResult(series, episode, manifest_key, languages)
    if previous is not None and _same_content(previous, core):
        out.unchanged, out.version = True, int(previous.get("version", 0))
        return out

    changed = [name for name, digest in checksums.items() if prev_files.get(name) != digest]
    run = uuid.uuid4().hex[:12]
    staging = f"{base}/{STAGING}/{run}"
    for name in changed:  # 1. stage: a failure here leaves everything users see untouched
        store.write(f"{staging}/{name}", files[name], _content_type(name))
    backups = [name for name in changed if name in prev_files]
    promoted: list[str] = []
    try:
        for name in backups:  # 2. keep the files the previous manifest describes, to put them back
            store.copy(f"{base}/{name}", f"{staging}/.previous/{name}")
        # 3. promote into place
        for name in changed:
            store.copy(f"{staging}/{name}", f"{base}/{name}")
            promoted.append(name)
        now = _now()
        manifest = {
            **core,
            "version": int((previous or {}).get("version", 0)) + 1,
            "created_at": (previous or {}).get("created_at", now),
            "published_at": now,
            "localise_version": _package_version(),
        }
        # 4. the manifest, last
        store.write(manifest_key, json.dumps(manifest, ensure_ascii=False, indent=2).encode(), _content_type(MANIFEST))
    except Exception:
        _restore(store, base, staging, promoted, prev_files)
        _cleanup(store, staging, changed, backups)
        raise
    _sweep_staging(store, base)
    for name in set(prev_files) - set(files):  # 5. files the new manifest no longer lists
        try:
            store.delete(f"{base}/{name}")
        except PublishError as exc:
            log.warning("stale file left in place: %s", exc)
    out.uploaded = len(changed) + 1
    out.version = manifest["version"]
    return out


def _same_content(previous: Mapping[str, Any], core: Mapping[str, Any]) -> bool:
    """Whether the previous manifest already describes exactly these files from this input."""
    return all(previous.get(k) == v for k, v in json.loads(json.dumps(core)).items())


def _restore(store: Store, base: str, staging: str, promoted: list[str], prev_files: Mapping[str, str]) -> None:
    """Undo promoted copies so the previous manifest matches its files again (best effort)."""
    for name in promoted:
        try:
            if name in prev_files:
                store.copy(f"{staging}/.previous/{name}", f"{base}/{name}")
            else:
                store.delete(f"{base}/{name}")
        except Exception as exc:  # noqa: BLE001 - storage may be down; the next run republishes
            log.warning("could not restore %s/%s: %s", base, name, exc)


def _sweep_staging(store: Store, base: str) -> None:
    """Remove this run's staging files and any an interrupted earlier run left behind."""
    try:
        leftovers = store.list(f"{base}/{STAGING}")
    except PublishError as exc:
        log.debug("staging not swept: %s", exc)
        return
    for key in leftovers:
        try:
            store.delete(key)
        except PublishError as exc:
            log.debug("staging file left: %s", exc)


def _cleanup(store: Store, staging: str, names: Sequence[str], backups: Sequence[str]) -> None:
    for key in [f"{staging}/{n}" for n in names] + [f"{staging}/.previous/{n}" for n in backups]:
        try:
            store.delete(key)
        except Exception as exc:  # noqa: BLE001
            log.debug("staging file left: %s", exc)


def _render_html(report: Mapping[str, Any]) -> str:
    from localise.quality.report import render_html

    return render_html(report)


def _package_version() -> str:
    try:
        from importlib.metadata import version

        return version("localise")
    except Exception:  # noqa: BLE001 - running from a checkout without install
        return "0+unknown"
