"""A run's output files go into a folder all together or not at all (``localise translate``).

Why a staging folder and a commit step: a run writes a track and two reports per input and
language, and fails for reasons found late (a model error on the last group, a full disk). Files
are written into a hidden staging folder inside the output folder (same file system, so moving
them is a rename) and moved into place only once everything was written; if a move fails, the
moved files are taken back and the files they replaced are restored. Every final path is checked,
resolved, to be directly inside the output folder, and names lose control characters.

A run killed outright (SIGKILL, power) cannot clean up; its staging folder stays. Each run holds an
``flock`` on its own staging folder while it works (the kernel drops it when the process dies), so
the next run removes exactly the staging folders whose owner is gone — never a concurrent run's.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import unicodedata
from pathlib import Path
from types import TracebackType

from localise.errors import ConfigError

STAGING_PREFIX = ".localise-"
#: The resume cache's folder (``localise.resume.CACHE_DIRNAME``) shares the prefix: never swept.
_NOT_STAGING = frozenset({".localise-cache"})
_PREVIOUS = ".previous"


def check_writable_folder(folder: Path, what: str) -> None:
    """Refuse a folder the run could not write, before anything is read or written (else the
    run fails late with a bare ``[Errno 20] Not a directory``): ``folder`` or a folder above it is
    a file, or the nearest existing folder above it does not let us create anything (checked by
    creating and removing an empty folder there: permissions, read-only or special file systems).
    :class:`~localise.errors.UnusableFolderError` names the path and says why."""
    from localise.errors import UnusableFolderError

    existing = folder
    while not existing.exists():
        if existing.is_symlink():  # a dangling link: creating through it fails later
            raise UnusableFolderError(f"{what} {folder}: {existing} is a link to nothing")
        if existing.parent == existing:
            break
        existing = existing.parent
    if not existing.is_dir():
        where = "is a file" if existing == folder else f"lies under {existing}, which is a file"
        raise UnusableFolderError(f"{what} {folder} {where}, not a folder: name a folder")
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".localise-probe-", dir=existing))
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise UnusableFolderError(f"{what} {folder} cannot be written ({reason.lower()} in {existing}): "
                                  "name a folder you may write") from None


def check_writable_file(path: Path, what: str) -> None:
    """Refuse a file a command must write (``check --report``/``--html``) before any work: a
    folder by that name, or a folder above it that cannot be made or written
    (:func:`check_writable_folder`). Else the check runs to the end and then fails with a bare
    ``[Errno 21] Is a directory`` that does not say which option named it."""
    from localise.errors import UnusableFolderError

    if path.is_dir():
        raise UnusableFolderError(f"{what} {path} is a folder: name a file")
    check_writable_folder(path.parent, f"{what} {path}: its folder")


def safe_file_part(text: str) -> str:
    """``text`` for use inside a file name: control and invisible format characters (terminal
    escapes, bidi overrides, NUL) and path separators become ``_``."""
    return "".join("_" if unicodedata.category(ch) in ("Cc", "Cf") or ch in "/\\" else ch for ch in text)


def contained(out_dir: Path, path: Path) -> Path:
    """``path`` when it resolves to a file directly inside ``out_dir``, else :class:`ConfigError`."""
    root = out_dir.resolve()
    resolved = path.resolve()
    if resolved.parent != root or path.name in ("", ".", ".."):
        raise ConfigError(f"output {str(path)!r} would be written outside the output folder {str(out_dir)!r}")
    return resolved


def _try_lock(fd: int) -> bool:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: never sweep what might be in use
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def sweep_stale_staging(out_dir: Path) -> list[Path]:
    """Remove the staging folders of earlier runs in ``out_dir`` whose process is gone (their
    ``flock`` is free). Returns what was removed."""
    removed: list[Path] = []
    try:
        candidates = [p for p in out_dir.iterdir()
                      if p.name.startswith(STAGING_PREFIX) and p.name not in _NOT_STAGING]
    except OSError:
        return removed
    for path in candidates:
        if path.is_symlink() or not path.is_dir():
            continue
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            continue
        try:
            if _try_lock(fd):
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path)
        finally:
            os.close(fd)
    return removed


class OutputBatch:
    """Stage files for ``out_dir``, then :meth:`commit` them all; leaving the ``with`` block
    without a commit (an exception) removes everything staged, and ``out_dir`` itself when the
    batch created it and nothing else is inside (a resume cache written meanwhile stays)."""

    def __init__(self, out_dir: str | os.PathLike[str]) -> None:
        self.out = Path(out_dir)
        self.created = not self.out.exists()
        self.out.mkdir(parents=True, exist_ok=True)
        sweep_stale_staging(self.out)
        try:
            self.staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=self.out))
        except BaseException:
            if self.created:
                shutil.rmtree(self.out, ignore_errors=True)
            raise
        self._lock: int | None = None
        with contextlib.suppress(OSError):  # (folders cannot be opened on Windows: nothing is swept there)
            self._lock = os.open(self.staging, os.O_RDONLY)
            _try_lock(self._lock)  # held until the batch ends: a later run knows this one is alive
        self.written: list[Path] = []
        self._names: set[str] = set()
        self.committed = False

    def stage(self, final: Path) -> Path:
        """Where to write the file that will become ``final`` (checked to stay inside the folder)."""
        contained(self.out, final)
        if final.name in self._names:
            raise ConfigError(f"{final}: two outputs of this run have the same name")
        self._names.add(final.name)
        self.written.append(final)
        return self.staging / final.name

    def commit(self) -> list[Path]:
        """Move every staged file into place; if one move fails, undo the others and restore the
        files they replaced, then raise."""
        backups = self.staging / _PREVIOUS
        backups.mkdir()
        moved: list[Path] = []
        try:
            for final in self.written:
                if final.exists():
                    os.replace(final, backups / final.name)
                moved.append(final)
                os.replace(self.staging / final.name, final)
        except BaseException:
            for final in reversed(moved):
                with contextlib.suppress(OSError):
                    if (backups / final.name).exists():
                        os.replace(backups / final.name, final)
                    else:
                        final.unlink(missing_ok=True)
            raise
        self.committed = True
        return self.written

    def close(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)
        if self._lock is not None:
            with contextlib.suppress(OSError):
                os.close(self._lock)
            self._lock = None
        if not self.committed and self.created:
            # Only what this batch made, and only when nothing else was put there meanwhile
            # (the resume cache of an interrupted run stays, with the folder that holds it).
            with contextlib.suppress(OSError):
                self.out.rmdir()

    def __enter__(self) -> OutputBatch:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
