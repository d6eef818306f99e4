"""Optional parts of the package and the advice when one is missing.

The core (reading and writing tracks, `inspect`, `check`, glossaries, reports) installs light; the
engines, Prefect, S3 and the review app are extras (pyproject.toml). A command that needs an extra
calls :func:`require` before it reads any input, so a missing extra is one line of advice and a
non-zero exit — never an ImportError traceback halfway through a run. :data:`EXTRA_OF` lets the CLI's
last line of defence give the same advice for an import nobody guarded.
"""

from __future__ import annotations

import importlib.util

from localise.errors import LocaliseError

#: Top-level module -> the extra that installs it.
EXTRA_OF: dict[str, str] = {
    "torch": "mt",
    "transformers": "mt",
    "sentencepiece": "mt",
    "sacremoses": "mt",
    "ctranslate2": "ct2",
    "openai": "llm",
    "prefect": "flows",
    "boto3": "s3",
    "botocore": "s3",
    "fastapi": "review",
    "starlette": "review",
    "sqlalchemy": "review",
    "uvicorn": "review",
    "multipart": "review",
    "python_multipart": "review",
    "argon2": "review",
}

#: What each extra must make importable (the modules :func:`require` looks for).
MODULES: dict[str, tuple[str, ...]] = {
    "mt": ("torch", "transformers", "sentencepiece"),
    "ct2": ("ctranslate2", "transformers", "sentencepiece"),
    "llm": ("openai",),
    "flows": ("prefect",),
    "s3": ("boto3",),
    "review": ("fastapi", "sqlalchemy", "uvicorn", "argon2"),
}

#: Engine name (settings ``engine``) -> its extra.
ENGINE_EXTRA: dict[str, str] = {"transformers": "mt", "ctranslate2": "ct2", "llm": "llm"}


class MissingExtraError(LocaliseError, ImportError):
    """An optional part of localise is not installed; the message names the extra to install."""

    def __init__(self, extra: str, module: str, purpose: str = "") -> None:
        self.extra, self.module, self.purpose = extra, module, purpose
        what = f" {purpose}" if purpose else ""
        super().__init__(
            f"{module} is not installed:{what} needs the '{extra}' extra; "
            f"install 'localise[{extra}]' (pip install 'localise[{extra}]')"
        )

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (type(self), (self.extra, self.module, self.purpose))


def available(module: str) -> bool:
    """Whether ``module`` can be imported, found without importing it (no torch start-up cost)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def require(extra: str, purpose: str = "") -> None:
    """Raise :class:`MissingExtraError` unless every module of ``extra`` is installed.

    ``purpose`` finishes the sentence "... is not installed: <purpose> needs the 'x' extra", e.g.
    ``"the transformers engine"``."""
    for module in MODULES[extra]:
        if not available(module):
            raise MissingExtraError(extra, module, purpose)


def require_engine(engine: str) -> None:
    """:func:`require` the extra of a translation engine by its settings name."""
    extra = ENGINE_EXTRA.get(engine)
    if extra is not None:
        require(extra, f"the {engine} engine")


def advice_for(exc: ImportError) -> MissingExtraError | None:
    """The advice for an unguarded ``ModuleNotFoundError`` of an optional package, else None."""
    if isinstance(exc, MissingExtraError):
        return exc
    name = (getattr(exc, "name", None) or "").split(".")[0]
    extra = EXTRA_OF.get(name)
    return MissingExtraError(extra, name) if extra else None
