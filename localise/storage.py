"""Where localised tracks go: a small ``Store`` interface, a local-folder and an S3 backend, and
:func:`publish_episode`, which writes one episode's tracks, reports and ``manifest.json``.

Layout under a store's prefix (every segment sanitised by :func:`safe_segment`)::

    <series>/<episode>/manifest.json               the pointer: what is published, written last
    <series>/<episode>/<hash>/<lang>.<ext>         a published track (immutable, content-addressed)
    <series>/<episode>/<hash>/<lang>.report.json   its quality report (and .report.html)
    <series>/<episode>/held/<hash>/<lang>.<ext>    held for review by the quality gate (+ reports)
    <series>/<episode>/.lease                      who is publishing the episode now (internal)

Why content-addressed keys and "manifest last": S3 cannot change two objects at once, so a track
at a fixed key (``en.srt``) and the manifest describing it disagree whenever a run stops between
the two writes. Here an object's key is derived from its bytes and never rewritten with other
bytes; a publish uploads the objects the new manifest will name, then swaps the manifest
(a conditional write on the ETag it started from), then sweeps the objects no manifest names any
more. Whatever stops a run, the manifest in place names exactly objects that exist with the
checksums it lists; a rerun finds the objects already uploaded and writes only what is missing.
One writer per episode at a time holds the episode's lease (:mod:`localise.lease`); players and
CDNs follow the manifest, the only pointer. Identical content writes nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import tempfile
import threading
import time
import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from localise.errors import ConfigError, PublishConflict, PublishError, StorageUnavailable
from localise.lease import LEASE, LEASE_TTL_S, Lease, acquire_lease

if TYPE_CHECKING:
    from localise.config import QualityGate
    from localise.pipeline import LocalisedTrack

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
MANIFEST_SCHEMA = 2  # 2: content-addressed keys (<hash>/<lang>.<ext>), leases
HELD = "held"
STAGING = ".staging"  # earlier versions staged here; swept when found
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

    # Conditional writes: what leases and the manifest's compare-and-swap are made of.

    def read_with_etag(self, key: str) -> tuple[bytes, str]:
        """The object's bytes and its current ETag; ``FileNotFoundError`` when there is none."""
        raise PublishError(f"{self.url}: this store has no conditional writes")

    def write_if(self, key: str, data: bytes, *, etag: str | None, content_type: str | None = None) -> str:
        """Write only if the object's ETag is still ``etag`` (``None``: only if there is no
        object), atomically against every other conditional writer; returns the new ETag.
        Raises :class:`PublishConflict` when the condition does not hold."""
        raise PublishError(f"{self.url}: this store has no conditional writes")

    def sweep_partial(self, prefix: str, older_than_s: float = 600.0) -> int:
        """Remove half-written files an interrupted write left under ``prefix`` (none on S3:
        a PutObject is all or nothing). Returns how many went."""
        return 0


def _content_type(key: str) -> str:
    return _CONTENT_TYPES.get(PurePosixPath(key).suffix.lower(), "application/octet-stream")


_LOCAL_FALLBACK_LOCK = threading.Lock()


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
        tmp: str | None = None
        try:
            fd, tmp = self._temp_file(path.parent)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
            tmp = None
        except OSError as exc:
            raise PublishError(f"{path}: cannot write: {exc.strerror or exc}") from exc
        finally:
            if tmp is not None:  # a full disk or a failed rename leaves no .tmp-* behind
                with contextlib.suppress(OSError):
                    os.unlink(tmp)

    @contextlib.contextmanager
    def _folder_lock(self, folder: Path) -> Iterator[None]:
        """An exclusive ``flock`` on a folder: conditional writes in it run one at a time, across
        threads and processes (the kernel drops the lock of a process that dies)."""
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX: one process at a time is all we can promise
            with _LOCAL_FALLBACK_LOCK:
                yield
            return
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd = os.open(folder, os.O_RDONLY)
        except OSError as exc:
            raise PublishError(f"{folder}: cannot lock: {exc.strerror or exc}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def read_with_etag(self, key: str) -> tuple[bytes, str]:
        data = self.read(key)
        return data, sha256(data)

    def write_if(self, key: str, data: bytes, *, etag: str | None, content_type: str | None = None) -> str:
        path = self._path(key)
        with self._folder_lock(path.parent):
            try:
                current: str | None = sha256(path.read_bytes())
            except FileNotFoundError:
                current = None
            except OSError as exc:
                raise PublishError(f"{path}: cannot read: {exc.strerror or exc}") from exc
            if current != etag:
                raise PublishConflict(f"{path}: changed by another writer" if etag else f"{path}: exists already")
            self.write(key, data, content_type)
        return sha256(data)

    def sweep_partial(self, prefix: str, older_than_s: float = 600.0) -> int:
        base = self._path(prefix) if prefix else self.root
        if not base.is_dir():
            return 0
        cutoff = time.time() - older_than_s
        gone = 0
        for folder, _dirs, names in os.walk(base):
            for name in names:
                if not name.startswith(".tmp-"):
                    continue
                path = os.path.join(folder, name)
                try:
                    if os.stat(path, follow_symlinks=False).st_mtime < cutoff:
                        os.unlink(path)
                        gone += 1
                except OSError:
                    continue
        return gone

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
        # os.walk, not rglob: a folder another writer removes during the walk (a swept content
        # folder) is skipped instead of failing the listing with FileNotFoundError.
        root = str(self.root)
        return sorted(
            os.path.relpath(os.path.join(folder, name), root).replace(os.sep, "/")
            for folder, _dirs, names in os.walk(base)
            for name in names
            if not name.startswith(".tmp-")
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
        max_attempts: int = 6,
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
        """The error to raise for a failed S3 call. A transient one (connection, timeout,
        throttling, 5xx) was retried by botocore already (the one retry layer for S3 calls,
        see :mod:`localise.retry`): it becomes :class:`StorageUnavailable` and the give-up is logged."""
        from localise.retry import botocore_transient

        if not botocore_transient(exc):
            return PublishError(f"{self.url}/{key}: {action} failed: {exc}")
        metadata = (getattr(exc, "response", None) or {}).get("ResponseMetadata", {}) or {}
        retries = metadata.get("RetryAttempts")
        attempts = retries + 1 if isinstance(retries, int) else self.max_attempts
        log.warning("%s/%s: %s: gave up after %d attempt(s) (retry layer: botocore, max_attempts=%d): %s",
                    self.url, key, action, attempts, self.max_attempts, exc)
        return StorageUnavailable(f"{self.url}/{key}: {action} failed after {attempts} attempt(s) "
                                  f"(retried by botocore): {exc}", "botocore", attempts)

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

    def read_with_etag(self, key: str) -> tuple[bytes, str]:
        from botocore.exceptions import ClientError

        try:
            reply = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
            return reply["Body"].read(), reply["ETag"]
        except ClientError as exc:
            if _error_code(exc) in ("NoSuchKey", "404", "NotFound"):
                raise FileNotFoundError(f"{self.url}/{key}") from None
            raise self._fail("download", key, exc) from exc
        except Exception as exc:
            raise self._fail("download", key, exc) from exc

    def write_if(self, key: str, data: bytes, *, etag: str | None, content_type: str | None = None) -> str:
        from botocore.exceptions import ClientError

        self.check_conditional_writes()
        condition = {"IfMatch": etag} if etag is not None else {"IfNoneMatch": "*"}
        try:
            reply = self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data,
                                           ContentType=content_type or _content_type(key), **condition)
        except ClientError as exc:
            # 412: the condition failed; 409: a concurrent conditional write won; 404: If-Match
            # on an object that is gone (AWS).
            if _error_code(exc) in _CONFLICT_CODES:
                raise PublishConflict(f"{self.url}/{key}: changed by another writer" if etag
                                      else f"{self.url}/{key}: exists already") from None
            raise self._fail("conditional upload", key, exc) from exc
        except Exception as exc:
            raise self._fail("conditional upload", key, exc) from exc
        return reply["ETag"]

    def check_conditional_writes(self) -> None:
        """Refuse to publish through a server that ignores ``If-None-Match`` (leases and the
        manifest's compare-and-swap would silently stop protecting anything): once per process
        and bucket, a probe object is created twice under ``.localise/`` and must be refused the
        second time."""
        probe_key = (self.endpoint_url or os.environ.get("AWS_ENDPOINT_URL_S3") or "", self.bucket)
        with _S3_CLIENTS_LOCK:
            if probe_key in _CONDITIONAL_OK:
                return
        from botocore.exceptions import ClientError

        key = f"{self.prefix}/.localise/probe-{os.urandom(8).hex()}" if self.prefix else \
            f".localise/probe-{os.urandom(8).hex()}"
        try:
            self.client.put_object(Bucket=self.bucket, Key=key, Body=b"1", IfNoneMatch="*")
            try:
                self.client.put_object(Bucket=self.bucket, Key=key, Body=b"2", IfNoneMatch="*")
                honoured = False
            except ClientError as exc:
                if _error_code(exc) not in _CONFLICT_CODES:
                    raise
                honoured = True
        except Exception as exc:
            raise self._fail("conditional-write check", key, exc) from exc
        finally:
            with contextlib.suppress(Exception):
                self.client.delete_object(Bucket=self.bucket, Key=key)
        if not honoured:
            raise PublishError(f"{self.url}: the S3 server ignores conditional writes (If-None-Match); "
                               "publishing needs them (AWS S3, SeaweedFS 4, MinIO): without them two "
                               "writers could both take an episode's lease")
        with _S3_CLIENTS_LOCK:
            _CONDITIONAL_OK.add(probe_key)

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


_CONFLICT_CODES = ("PreconditionFailed", "412", "ConditionalRequestConflict", "409", "NoSuchKey", "404")
_CONDITIONAL_OK: set[tuple[str, str]] = set()  # (endpoint, bucket) whose server honours conditions


def _error_code(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code") or response.get("ResponseMetadata", {}).get("HTTPStatusCode"))


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
            from localise.extras import require

            require("s3", "an s3:// store")
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
    """Subtitle files under ``prefix`` (not recursing into published output), one episode each, in
    episode order: numbers in names compare as numbers (``ep2`` before ``ep10``), so chunks and an
    LLM's running summary follow the story, not the alphabet."""
    found: list[SourceFile] = []
    for key in store.list(prefix):
        name = PurePosixPath(key)
        if name.suffix.lower() in SUBTITLE_EXTENSIONS and not any(p.startswith(".") for p in name.parts):
            found.append(SourceFile(key=key, episode=episode_name(name.name)))
    return sorted(found, key=lambda f: natural_key(f.key))


def shared_episodes(sources: Iterable[SourceFile]) -> dict[str, list[str]]:
    """Episodes that more than one source file would publish as, with their keys (``ep01.srt`` and
    ``ep01.vtt``; ``ep 1.srt`` and ``ep-1.srt``; ``a/ep01.srt`` and ``b/ep01.srt``): such files would
    overwrite each other's tracks on every run, and a file dropped beside another would replace it.
    Callers refuse them all rather than publish one chosen by listing order."""
    keys: dict[str, list[str]] = {}
    for source in sources:
        keys.setdefault(source.episode, []).append(source.key)
    return {episode: found for episode, found in keys.items() if len(found) > 1}


def shared_episode_error(episode: str, keys: Sequence[str]) -> str:
    return (f"{', '.join(keys)} are all episode {episode!r} (names are reduced to one storage segment): "
            "rename all but one; none of them is published")


_DIGITS = re.compile(r"(\d+)")


def natural_key(name: str) -> tuple[tuple[int, int, str], ...]:
    """A sort key in which runs of digits compare by value: ``ep2`` < ``ep10`` (then the text, so
    ``ep02`` and ``ep2`` still have one order)."""
    return tuple((0, int(part), part) if part.isdigit() else (1, 0, part.casefold())
                 for part in _DIGITS.split(name) if part)


# ------------------------------------------------------------------ manifest and publishing


def episode_prefix(series: str, episode: str) -> str:
    return join_key(series, episode)


def read_manifest(store: Store, series: str, episode: str) -> dict[str, Any] | None:
    """The episode's published manifest, or ``None`` when nothing was published yet."""
    return _read_manifest(store, f"{episode_prefix(series, episode)}/{MANIFEST}")[0]


def _read_manifest(store: Store, key: str) -> tuple[dict[str, Any] | None, str | None]:
    """The manifest at ``key`` and its ETag (the condition of the next manifest write)."""
    try:
        data, etag = store.read_with_etag(key)
    except FileNotFoundError:
        return None, None
    try:
        manifest = json.loads(data)
    except ValueError as exc:
        raise PublishError(f"{store.location(key)}: manifest is not JSON: {exc}") from exc
    if not isinstance(manifest, dict):
        raise PublishError(f"{store.location(key)}: manifest is not a JSON object")
    return manifest, etag


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
    # cues a person should look at (the report's own routing, `need_review`; major or worse)
    need_review = sum(1 for cue in cues if cue.get("need_review", any(
        severity_rank(f.get("severity", "minor")) >= severity_rank("major") for f in cue.get("flags") or [])))
    return {"cues": total, "flagged": flagged, "flagged_share": round(flagged / total, 4) if total else 0.0,
            "need_review": need_review, "need_review_share": round(need_review / total, 4) if total else 0.0,
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


#: ``keep_if(manifest)``: whether the manifest found under the lease already says what this
#: publish would (e.g. the same source and settings, reviewed lines applied since): then nothing
#: is written.
ManifestCheck = Callable[[Mapping[str, Any]], bool]


def content_folder(files: Mapping[str, bytes], held: bool = False) -> str:
    """The immutable folder of one language's files: a hash of their names and bytes, under
    ``held/`` when the quality gate holds them. The same files always get the same folder."""
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(f"{name}\0{sha256(files[name])}\0".encode())
    return f"{HELD}/{digest.hexdigest()[:16]}" if held else digest.hexdigest()[:16]


def _episode_files(results: Sequence[LocalisedTrack], quality_gate: QualityGate | None,
                   fmt: str | None) -> tuple[dict[str, bytes], dict[str, dict[str, Any]]]:
    """Every file of the episode under its content-addressed name, and the manifest's languages."""
    from localise.io import render_track

    files: dict[str, bytes] = {}
    languages: dict[str, dict[str, Any]] = {}
    for result in results:
        lang = safe_segment(result.lang)
        ext = (fmt or result.track.format).lower()
        status, stats = gate(result.report, quality_gate)
        track_bytes = render_track(result.track, ext).encode("utf-8")
        own = {
            f"{lang}.{ext}": track_bytes,
            f"{lang}.report.json": json.dumps(result.report, ensure_ascii=False, indent=2, sort_keys=True).encode(),
            f"{lang}.report.html": _render_html(result.report).encode("utf-8"),
        }
        folder = content_folder(own, held=status == "held")
        files.update({f"{folder}/{name}": data for name, data in own.items()})
        names = {"track": f"{folder}/{lang}.{ext}", "report": f"{folder}/{lang}.report.json",
                 "report_html": f"{folder}/{lang}.report.html"}
        languages[lang] = {"status": status, **names, "sha256": sha256(track_bytes), "bytes": len(track_bytes),
                           "format": ext, **stats, "summary": result.report.get("summary")}
        llm = (result.report.get("track") or {}).get("llm")
        if llm is not None:  # the LLM engine's requests, tokens and cost for this language (localise.engines.openai_engine)
            languages[lang]["llm"] = llm
    return files, languages


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
    keep_if: ManifestCheck | None = None,
    lease: Lease | None = None,
    lease_ttl: float = LEASE_TTL_S,
    lease_wait: float | None = None,
) -> PublishResult:
    """Publish one episode's localised tracks (one per language) with reports and manifest.

    ``source`` describes the input (at least ``sha256`` and ``name``); ``signature`` is what
    produced the tracks (engine, model, glossary version, settings) and goes into the manifest as
    is. The quality gate sends each language to ``<hash>/<lang>.<ext>`` or
    ``held/<hash>/<lang>.<ext>``. Runs under the episode's lease (``lease`` when the caller holds
    it already, else taken here, waiting up to ``lease_wait`` seconds). Nothing is written when the
    manifest in place already names these very files, or when ``keep_if(manifest)`` says it is
    what this publish would say. Raises :class:`PublishError` when storage fails (the manifest in
    place still names complete objects), :class:`PublishConflict` when another writer held the
    episode too long or changed the manifest first (trying again is safe and cheap).
    """
    base = episode_prefix(series, episode)
    files, languages = _episode_files(results, quality_gate, fmt)
    core = {
        "schema": MANIFEST_SCHEMA,
        "series": series,
        "episode": episode,
        "source": dict(source),
        "signature": dict(signature),
        "quality_gate": quality_gate.model_dump() if quality_gate is not None else None,
        "languages": languages,
        "files": {name: sha256(data) for name, data in files.items()},
        **(dict(extra) if extra else {}),
    }
    out = PublishResult(series, episode, f"{base}/{MANIFEST}", languages)
    if lease is not None:
        return _publish_held(store, base, lease, files, core, out, keep_if)
    # Read-only fast path: an identical rerun takes no lease and writes nothing at all.
    previous = read_manifest(store, series, episode)
    if previous is not None and _settled(previous, core, keep_if):
        names = _episode_names(store, base)
        if not episode_strays(previous, names) and set(previous.get("files") or {}) <= names:
            return _unchanged(out, previous)
    with acquire_lease(store, f"{base}/{LEASE}", ttl=lease_ttl, wait=lease_wait) as held:
        return _publish_held(store, base, held, files, core, out, keep_if)


def _publish_held(store: Store, base: str, lease: Lease, files: Mapping[str, bytes], core: Mapping[str, Any],
                  out: PublishResult, keep_if: ManifestCheck | None) -> PublishResult:
    """The publish itself, under the episode's lease: upload what is missing, swap the manifest
    conditionally, sweep what no manifest names any more."""
    lease.ensure()
    previous, etag = _read_manifest(store, out.manifest_key)
    existing = _episode_names(store, base)
    same = previous is not None and _same_content(previous, core)
    complete = previous is not None and set(previous.get("files") or {}) <= existing
    if previous is not None and (same or (complete and _settled(previous, core, keep_if))):
        # named by the manifest in place (these very files), yet gone: put the same bytes back
        repairs = [name for name in files if name not in existing] if same else []
        for name in repairs:
            lease.ensure()
            store.write(f"{base}/{name}", files[name], _content_type(name))
        _sweep(store, base, lease, set(previous.get("files") or {}), existing)
        _unchanged(out, previous)
        out.uploaded = len(repairs)
        return out
    uploads = [name for name in files if name not in existing]  # content-addressed: present = complete
    for name in uploads:
        lease.ensure()
        store.write(f"{base}/{name}", files[name], _content_type(name))
    now = _now()
    manifest = {
        **core,
        "version": int((previous or {}).get("version", 0)) + 1,
        "created_at": (previous or {}).get("created_at", now),
        "published_at": now,
        "localise_version": _package_version(),
    }
    lease.ensure()
    # The manifest, last and conditionally: it replaces exactly the one this publish started from.
    store.write_if(out.manifest_key, json.dumps(manifest, ensure_ascii=False, indent=2).encode(),
                   etag=etag, content_type=_content_type(MANIFEST))
    _sweep(store, base, lease, set(files), existing | set(uploads))
    out.uploaded = len(uploads) + 1
    out.version = manifest["version"]
    return out


def _settled(previous: Mapping[str, Any], core: Mapping[str, Any], keep_if: ManifestCheck | None) -> bool:
    """Whether the manifest in place already says what this publish would."""
    return _same_content(previous, core) or (keep_if is not None and bool(keep_if(previous)))


def _unchanged(out: PublishResult, previous: Mapping[str, Any]) -> PublishResult:
    out.unchanged, out.version = True, int(previous.get("version", 0))
    out.languages = dict(previous.get("languages") or out.languages)
    return out


def _same_content(previous: Mapping[str, Any], core: Mapping[str, Any]) -> bool:
    """Whether the previous manifest already describes exactly these files from this input."""
    return all(previous.get(k) == v for k, v in json.loads(json.dumps(core)).items())


def _episode_names(store: Store, base: str) -> set[str]:
    """Names (relative to the episode) of every object under the episode's prefix."""
    return {key[len(base) + 1:] for key in store.list(base) if key.startswith(f"{base}/")}


# What publishing itself creates: content-addressed folders, the flat names of the earlier layout,
# staging folders of earlier versions. Only such objects are ever swept; anything else under an
# episode is left alone (and reported by verify_store).
_OURS = re.compile(
    r"^(?:held/)?(?:[0-9a-f]{16}/[^/]+|[A-Za-z0-9][A-Za-z0-9-]*\.(?:srt|vtt|ass|ssa|report\.json|report\.html))$"
    r"|^\.staging/"
)


def episode_strays(manifest: Mapping[str, Any] | None, names: Sequence[str] | set[str]) -> list[str]:
    """Objects of an episode (relative names) that publishing made and the manifest no longer
    names: superseded versions, uploads of a run that stopped, old staging folders."""
    named = set((manifest or {}).get("files") or {})
    return sorted(n for n in names if n not in named and n not in (MANIFEST, LEASE) and _OURS.match(n))


def _sweep(store: Store, base: str, lease: Lease, keep: set[str], existing: set[str]) -> list[str]:
    """Delete the episode's strays, once the manifest that no longer names them is in place.
    A delete that fails leaves an unnamed object for the next run, never a wrong manifest."""
    gone = []
    for name in episode_strays({"files": dict.fromkeys(keep)}, existing):
        lease.ensure()
        try:
            store.delete(f"{base}/{name}")
            gone.append(name)
        except PublishError as exc:
            log.warning("superseded object left in place: %s", exc)
    store.sweep_partial(base)
    return gone


def tidy_episode(store: Store, series: str, episode: str, *, wait: float = 0.0,
                 lease_ttl: float = LEASE_TTL_S) -> list[str]:
    """Sweep what earlier runs left under an episode that is otherwise current (a run that
    stopped after uploading, staging folders of older versions), under the episode's lease.
    Returns the removed names; ``[]`` when another writer holds the lease (its publish sweeps)."""
    base = episode_prefix(series, episode)
    try:
        lease = acquire_lease(store, f"{base}/{LEASE}", ttl=lease_ttl, wait=wait, purpose="tidy")
    except PublishConflict:
        return []
    with lease:
        manifest, _ = _read_manifest(store, f"{base}/{MANIFEST}")
        return _sweep(store, base, lease, set((manifest or {}).get("files") or {}), _episode_names(store, base))


# ------------------------------------------------------------------ verification


@dataclass(frozen=True)
class Problem:
    """One way a store disagrees with its manifests.

    ``kind``: ``missing`` (named, absent), ``checksum`` (named, other bytes), ``unlisted`` (an
    object under an episode that its manifest does not name), ``held-public`` (a held language
    whose track is outside ``held/``), ``manifest`` (unreadable or inconsistent manifest)."""

    kind: str
    key: str
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.kind}: {self.key}" + (f" ({self.detail})" if self.detail else "")


def verify_store(store: Store, series: str | None = None, *, checksums: bool = True) -> list[Problem]:
    """Check that every manifest under the store (or one series) names objects that exist with the
    checksums it lists, and that no object under an episode is outside its manifest.

    ``checksums=False`` checks existence only (no object is downloaded). Returns the problems,
    ``[]`` for a consistent store. Internal objects (``.lease``, ``.localise/`` probes) are ignored."""
    prefix = safe_segment(series) if series else ""
    keys = [k for k in store.list(prefix) if not prefix or k.startswith(f"{prefix}/")]
    by_episode: dict[str, set[str]] = {}
    problems: list[Problem] = []
    for key in keys:
        parts = key.split("/")
        if parts[0].startswith(".") and not prefix:  # the store's own internal objects
            continue
        if len(parts) < 3:
            problems.append(Problem("unlisted", key, "not inside a <series>/<episode>/ folder"))
            continue
        by_episode.setdefault("/".join(parts[:2]), set()).add("/".join(parts[2:]))
    for base, names in sorted(by_episode.items()):
        manifest: dict[str, Any] | None = None
        if MANIFEST in names:
            try:
                manifest, _ = _read_manifest(store, f"{base}/{MANIFEST}")
            except PublishError as exc:
                problems.append(Problem("manifest", f"{base}/{MANIFEST}", str(exc)))
        files: dict[str, str] = dict((manifest or {}).get("files") or {})
        for name, digest in sorted(files.items()):
            key = f"{base}/{name}"
            if name not in names:
                problems.append(Problem("missing", key, "named by the manifest"))
            elif checksums:
                try:
                    actual = sha256(store.read(key))
                except FileNotFoundError:
                    problems.append(Problem("missing", key, "named by the manifest"))
                    continue
                if actual != digest:
                    problems.append(Problem("checksum", key, f"manifest {digest[:12]}, object {actual[:12]}"))
        for lang, entry in sorted(((manifest or {}).get("languages") or {}).items()):
            track = str((entry or {}).get("track", ""))
            if track not in files:
                problems.append(Problem("manifest", f"{base}/{MANIFEST}", f"{lang} track {track!r} not in files"))
            if (entry or {}).get("status") == "held" and not track.startswith(f"{HELD}/"):
                problems.append(Problem("held-public", f"{base}/{track}", f"{lang} is held"))
        for name in sorted(names - set(files) - {MANIFEST, LEASE}):
            problems.append(Problem("unlisted", f"{base}/{name}",
                                    "no manifest" if manifest is None else "not named by the manifest"))
    return problems


def _render_html(report: Mapping[str, Any]) -> str:
    from localise.quality.report import render_html

    return render_html(report)


def _package_version() -> str:
    try:
        from importlib.metadata import version

        return version("localise")
    except Exception:  # noqa: BLE001 - running from a checkout without install
        return "0+unknown"
