"""The engine interface and the pieces every engine shares: decoding settings, length-sorted
token-budget batching, splitting of inputs longer than a model accepts.

An engine takes a batch of source strings and returns one :class:`~localise.model.Translation`
per string, in input order, with a confidence in [0, 1] (``exp`` of the mean log-probability of
the output tokens). Engines batch internally; callers should hand over *all* their strings at once.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from localise.model import Translation


@runtime_checkable
class TranslationEngine(Protocol):
    """What the pipeline needs from a translation engine."""

    name: str  # "transformers", "ctranslate2", ...
    model_id: str  # Hub id or local folder the engine was loaded from

    def translate(self, texts: Sequence[str], src: str, tgt: str) -> list[Translation]:
        """One translation per text, in input order."""
        ...

    def signature(self) -> str:
        """Engine, model, revision, device, dtype and decoding settings, for reports and manifests."""
        ...


@dataclass(frozen=True)
class Decoding:
    """Decoding settings shared by the engines; deterministic by default (greedy, no sampling).

    ``max_new_tokens=None`` lets the engine choose ``2 * source tokens + 16`` per batch, capped by the
    model's limit. ``min_new_tokens`` is for benchmarks (fixed output length); leave it 0 otherwise.
    ``max_tokens`` is the token budget of one batch (padded source tokens; beams multiply it) and
    ``max_batch_size`` caps the number of lines per batch. ``None`` picks a device-dependent default.
    """

    num_beams: int = 1
    max_new_tokens: int | None = None
    min_new_tokens: int = 0
    length_penalty: float = 1.0
    max_tokens: int | None = None
    max_batch_size: int | None = None

    def describe(self) -> str:
        """The settings that decide the words (batch budgets only decide the speed)."""
        skip = {"max_tokens", "max_batch_size"}
        return ",".join(f"{k}={v}" for k, v in asdict(self).items() if v is not None and k not in skip)


DECODING_FIELDS = frozenset(Decoding.__dataclass_fields__)


def output_budget(source_tokens: int, decoding: Decoding, limit: int, model_cap: int | None = None) -> int:
    """How many new tokens a batch whose longest source has ``source_tokens`` tokens may produce:
    the configured ``max_new_tokens``, else ``2 * source + 16`` capped by the checkpoint's own
    ``generation_config.max_new_tokens`` where it sets one; never beyond the model's positions."""
    wanted = decoding.max_new_tokens
    if wanted is None:
        wanted = 2 * source_tokens + 16
        if model_cap:
            wanted = min(wanted, model_cap)
    return max(1, min(wanted, limit - 1), decoding.min_new_tokens)


def token_budget_batches(lengths: Sequence[int], max_tokens: int, max_batch_size: int) -> list[list[int]]:
    """Positions of ``lengths`` grouped into batches, longest first, each batch's padded size
    (lines x longest line) within ``max_tokens`` and at most ``max_batch_size`` lines.

    Sorting by length keeps padding small; callers put results back with the positions.
    A line longer than the budget on its own still gets a batch of one (never dropped).
    """
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    batches: list[list[int]] = []
    current: list[int] = []
    longest = 0
    for i in order:
        width = max(longest, lengths[i])
        if current and ((len(current) + 1) * width > max_tokens or len(current) >= max_batch_size):
            batches.append(current)
            current, width = [], lengths[i]
        current.append(i)
        longest = width
    if current:
        batches.append(current)
    return batches


def confidence_from_logprob(mean_logprob: float) -> float:
    """``exp(mean log-prob)``, clamped into [0, 1] (float error can push it a hair above 1)."""
    if math.isnan(mean_logprob):
        return 0.0
    return min(1.0, max(0.0, math.exp(mean_logprob)))


# Sentence ends first, then clause marks, then spaces: the order in which a too-long input is cut.
_CUT_LEVELS = (
    re.compile(r"(?<=[。！？!?…；;])"),
    re.compile(r"(?<=[，,、：:」』）)\]])"),
    re.compile(r"(?<=\s)"),
)


def split_to_fit(text: str, fits: Callable[[str], bool]) -> list[str]:
    """Pieces of ``text`` that each satisfy ``fits``, cut at punctuation where possible, then at
    spaces, then between characters. Joining the pieces gives back ``text`` exactly: nothing is
    truncated. Used for inputs longer than a model's position limit."""
    if fits(text) or len(text) <= 1:
        return [text]
    for level in _CUT_LEVELS:
        parts = [p for p in level.split(text) if p]
        if len(parts) > 1:
            return _pack(parts, fits)
    middle = len(text) // 2
    return split_to_fit(text[:middle], fits) + split_to_fit(text[middle:], fits)


def _pack(parts: list[str], fits: Callable[[str], bool]) -> list[str]:
    """Join neighbouring parts greedily while they fit; split further any part that alone does not."""
    out: list[str] = []
    current = ""
    for part in parts:
        if current and fits(current + part):
            current += part
            continue
        if current:
            out.append(current)
        current = part
        if not fits(current):
            out.extend(split_to_fit(current, fits))
            current = ""
    if current:
        out.append(current)
    return out


# Scripts written without spaces between words: pieces of a split input join without a space.
_NO_SPACE_LANGS = frozenset({"zh", "ja", "th", "lo", "km", "my", "yue", "wuu", "bo"})


def joiner_for(lang: str) -> str:
    """What to put between the translations of the pieces of one split input."""
    return "" if primary_subtag(lang) in _NO_SPACE_LANGS else " "


def primary_subtag(lang: str) -> str:
    """``"pt-BR"`` -> ``"pt"``; ``"zho_Hans"`` -> ``"zho"``."""
    return re.split(r"[-_]", lang, maxsplit=1)[0].lower()


def folder_fingerprint(path: Path, names: Sequence[str] | None = None) -> str:
    """A short content hash of a model folder (its small config files and weight sizes), standing
    in for a Hub revision so that reports can tell two local models apart and cache keys change
    when a model is rebuilt. ``names``: the files to hash (missing ones are skipped); ``None``:
    every file under the folder, by relative path (tokenizer files included)."""
    if names is None:
        names = sorted(p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file())
    digest = hashlib.sha256()
    for name in sorted(names):
        file = path / name
        if not file.is_file():
            continue
        digest.update(name.encode())
        if file.stat().st_size <= 1 << 20:
            digest.update(file.read_bytes())
        else:
            with file.open("rb") as handle:
                digest.update(str(file.stat().st_size).encode())
                digest.update(handle.read(1 << 20))
    return digest.hexdigest()[:12]


def model_fingerprint(model: str) -> str:
    """A model for cache keys and manifests: a local folder by its name and
    :func:`folder_fingerprint` of all its files; a Hub id by its name."""
    path = Path(model).expanduser()
    if not path.is_dir():
        return model
    return f"{path.name}@{folder_fingerprint(path)}"
