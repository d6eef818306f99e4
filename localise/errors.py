"""Typed errors. Every error that comes from bad input names the file (and line where it applies).

All errors derive from :class:`LocaliseError`; they keep their constructor arguments in
``args`` so that they survive pickling (Prefect, Dask and Ray ship exceptions between processes).
"""

from __future__ import annotations


class LocaliseError(Exception):
    """Root of every error the library raises on purpose."""


class LocatedError(LocaliseError, ValueError):
    """Bad input in a file: the message reads ``path:line: message``."""

    placeholder = "<input>"  # what stands for the path when the input had no name

    def __init__(self, message: str, path: str | None = None, line: int | None = None) -> None:
        super().__init__(message, path, line)
        self.message = message
        self.path = path
        self.line = line

    def __str__(self) -> str:
        where = self.path or self.placeholder
        if self.line is not None:
            where = f"{where}:{self.line}"
        return f"{where}: {self.message}"


class ParseError(LocatedError):
    """Input that is not a readable subtitle track (empty, binary, HTML, no cue...)."""


class UnknownFormatError(ParseError):
    """The bytes parse as no supported subtitle format (or as several, ambiguously)."""


class EncodingError(ParseError):
    """The bytes decode in no supported text encoding."""


class InputTooLargeError(ParseError):
    """Input over a configured size limit (file bytes, cue count, characters in one cue); refused
    before it is read further. The message names the limit and how to raise it."""


class UnreadableCueError(ParseError):
    """``--strict``: a file holds input that could not be read as cues (a malformed timing line,
    stray text); names the file and the line of the first such place."""


class RenderError(LocaliseError, ValueError):
    """A track holds something the target format cannot represent (names the cue)."""


class EngineError(LocaliseError):
    """A translation engine failed."""


class ModelUnavailableError(EngineError):
    """A model cannot be loaded (offline, missing folder). The message names the model and the way
    out: ``hint`` where the cause is known (a folder of the wrong kind), else how to get a model."""

    def __init__(self, model: str, detail: str = "", hint: str | None = None) -> None:
        super().__init__(model, detail)
        self.model = model
        self.detail = detail
        self.hint = hint

    def __str__(self) -> str:
        tail = self.hint or (
            "Download it while online, or pass a local model folder (--model /path/to/model);"
            " for a dry run without a real model, `make tiny-model` builds one (--model demo-output/tiny-model)."
        )
        return f"model {self.model!r} cannot be loaded" + (f": {self.detail}" if self.detail else "") + ". " + tail


class GlossaryError(LocatedError):
    """A glossary file is malformed (names the file and line)."""

    placeholder = "<glossary>"


class ConfigError(LocaliseError, ValueError):
    """Settings that cannot work together (unknown language pair, bad threshold...)."""


class UnusableFolderError(ConfigError):
    """A folder a command must write (``--out``, ``--cache-dir``) is a file, lies under one, or
    cannot be created or written: said before anything is read or written."""


class GlossaryMissingError(ConfigError):
    """A series has no glossary where the settings say its glossary lives, and the settings do not
    say it may run without one: its episodes are not translated (a name rendered freely is a
    name rendered differently from line to line, with no flag to say so)."""


class PublishError(LocaliseError):
    """Storage refused a write; nothing was published for the episode (tracks first, manifest last)."""


class StorageUnavailable(PublishError):
    """Storage did not answer (connection, timeout, throttling, 5xx) and the layer that retries
    such calls (``retried_by``, e.g. ``"botocore"``) gave up after ``attempts``: not retried again
    (see :mod:`localise.retry`)."""

    def __init__(self, message: str, retried_by: str, attempts: int | None = None) -> None:
        super().__init__(message, retried_by, attempts)  # all in args: it pickles (Prefect ships it)
        self.message = message
        self.retried_by = retried_by
        self.attempts = attempts

    def __str__(self) -> str:
        return self.message


class PublishConflict(PublishError):
    """Another writer holds the episode's lease or changed its manifest first (a conditional write
    failed); nothing was published by this attempt, and trying again from a fresh read is safe."""


class ReviewError(LocaliseError, ValueError):
    """A review file (XLIFF/TMX) or review action does not match its track; nothing was changed."""
