"""The ``ctranslate2`` engine: transformers models converted for CTranslate2, loaded from a folder.

int8 on CPU, float16 on GPU (``compute_type`` overrides). Tokenisation is the model's own
Hugging Face tokenizer, saved beside the converted weights by :func:`convert_model`, so the
language-code conventions are exactly the transformers engine's (shared code in ``hf.py``).
All lines go to one ``translate_batch`` call with ``batch_type="tokens"``: CTranslate2 sorts by
length and cuts batches under the token budget itself. Confidence is ``exp(score)`` where the
score is the hypothesis' log-probability divided by its length (``length_penalty`` 1).

Conversion uses ``ctranslate2.converters.TransformersConverter``. With transformers 5.24 and
ctranslate2 4.8 it works as is for Marian (the loader already passes ``dtype=``, which
transformers 5 expects); the converted Marian vocabulary drops ``<pad>`` (the decoder starts from
a zero embedding instead), so ``<pad>`` can never be generated.

It breaks for M2M100 and NLLB: ctranslate2's ``M2M100Loader.get_vocabulary`` takes the language
tokens from ``tokenizer.special_tokens_map["additional_special_tokens"]``, a key transformers 5 no
longer puts in ``special_tokens_map`` (it became ``extra_special_tokens``, and a saved M2M100
tokenizer does not even list its language tokens there: they are computed ids). The vocabulary then
lacks the ``__xx__`` tokens and validation fails ("Source vocabulary 0 has size 611 but the model
expected a vocabulary of size 711"). :func:`_vocabulary_by_id` works around it by reading the
vocabulary id by id through ``convert_ids_to_tokens`` — the ids the model was trained with —
naming ids the tokenizer does not know ``madeupwordN`` as fairseq does. It replaces the loader only
for the duration of one conversion.
"""

from __future__ import annotations

import json
import os
import threading
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from localise.engines.base import Decoding, folder_fingerprint, output_budget
from localise.engines.hf import conventions_for, looks_like_path, offline, regroup, work_items
from localise.errors import EngineError, ModelUnavailableError
from localise.model import Translation

METADATA = "localise_model.json"  # written by convert_model: where the weights came from
CPU_MAX_TOKENS = 4096
GPU_MAX_TOKENS = 65536


def _vocabulary_by_id(model: Any, tokenizer: Any) -> list[str]:
    """Every id of the model's embedding matrix, as the tokenizer names it (see module doc)."""
    tokens: list[str] = []
    for i in range(model.config.vocab_size):
        token = tokenizer.convert_ids_to_tokens(i)
        if token is None or (token == tokenizer.unk_token and i != tokenizer.unk_token_id):
            token = f"madeupword{i}"
        tokens.append(token)
    return tokens


@contextmanager
def _transformers5_loaders() -> Iterator[None]:
    """Swap in an M2M100/NLLB loader that reads the vocabulary by id, for one conversion."""
    from ctranslate2.converters import transformers as ct2_transformers

    loaders = ct2_transformers._MODEL_LOADERS
    original = loaders.get("M2M100Config")
    if original is None:
        yield
        return

    class IdVocabularyM2M100Loader(type(original)):  # type: ignore[misc]
        def get_vocabulary(self, model: Any, tokenizer: Any) -> list[str]:
            return _vocabulary_by_id(model, tokenizer)

    loaders["M2M100Config"] = IdVocabularyM2M100Loader()
    try:
        yield
    finally:
        loaders["M2M100Config"] = original


def convert_model(model: str, out_dir: str | os.PathLike[str], *, quantization: str | None = "int8", force: bool = False) -> Path:
    """Convert a transformers seq2seq model (Hub id or folder) into a CTranslate2 folder with its
    tokenizer beside it. ``quantization``: ``int8``, ``int8_float16``, ``float16``, ``float32`` or None."""
    from ctranslate2.converters import TransformersConverter
    from transformers import AutoTokenizer

    out = Path(out_dir)
    if looks_like_path(model) and not Path(model).expanduser().is_dir():
        raise ModelUnavailableError(model, "no such model folder")
    source = str(Path(model).expanduser()) if looks_like_path(model) else model
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with _transformers5_loaders():
                TransformersConverter(source).convert(str(out), quantization=quantization, force=force)
            tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=offline() or looks_like_path(model))
            from transformers import AutoConfig

            config = AutoConfig.from_pretrained(source, local_files_only=offline() or looks_like_path(model))
    except (OSError, EnvironmentError) as exc:
        why = "HF_HUB_OFFLINE is set and it is not in the local cache" if offline() else str(exc).splitlines()[0]
        raise ModelUnavailableError(model, why) from exc
    except RuntimeError as exc:  # ctranslate2 refuses to overwrite without force
        raise EngineError(f"cannot convert {model} into {out}: {exc}") from exc
    tokenizer.save_pretrained(out)
    limits = [getattr(config, "max_position_embeddings", None) or 1024]
    if 0 < getattr(tokenizer, "model_max_length", 0) < 100_000:
        limits.append(tokenizer.model_max_length)
    revision = getattr(config, "_commit_hash", None) or (
        folder_fingerprint(Path(source), ["config.json", "model.safetensors", "pytorch_model.bin"]) if looks_like_path(model) else "unknown"
    )
    try:
        from transformers import GenerationConfig

        model_cap = GenerationConfig.from_pretrained(source, local_files_only=True).max_new_tokens
    except (OSError, ValueError):
        model_cap = None
    meta = {
        "source_model": model,
        "revision": revision,
        "quantization": quantization,
        "max_input_tokens": int(min(limits)),
        "max_new_tokens": model_cap,
    }
    (out / METADATA).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return out


def _choose_device(device: str | None) -> str:
    if device:
        return device
    import ctranslate2

    return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"


class CT2Engine:
    """A converted model loaded once; ``translate`` is thread-safe (one call at a time)."""

    name = "ctranslate2"

    def __init__(
        self,
        model: str,
        *,
        device: str | None = None,
        compute_type: str | None = None,
        threads: int | None = None,
        dtype: str | None = None,
        **decoding: Any,
    ) -> None:
        import ctranslate2
        from transformers import AutoTokenizer

        self.model_id = str(model)
        path = Path(model).expanduser()
        if not (path / "model.bin").is_file():
            transformers_folder = (path / "config.json").is_file() and any(
                (path / name).is_file() for name in ("model.safetensors", "pytorch_model.bin", "model.safetensors.index.json"))
            raise ModelUnavailableError(
                self.model_id,
                "not a CTranslate2 model folder (no model.bin)",
                hint=(f"It holds a transformers model: leave out --engine ctranslate2, or convert it with "
                      f"`localise models convert {self.model_id} OUT`." if transformers_folder
                      else "Convert a transformers model with `localise models convert MODEL OUT`."),
            )
        self.device = _choose_device(device)
        if compute_type is None:
            compute_type = dtype or ("float16" if self.device == "cuda" else "int8")
        self.compute_type = compute_type
        self._lock = threading.Lock()
        try:
            self.translator = ctranslate2.Translator(
                str(path), device=self.device, compute_type=compute_type, intra_threads=threads or 0
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self.tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        except (OSError, ValueError, RuntimeError) as exc:
            raise ModelUnavailableError(self.model_id, str(exc).splitlines()[0]) from exc
        self._special = frozenset(self.tokenizer.all_special_tokens)
        meta_file = path / METADATA
        meta = json.loads(meta_file.read_text(encoding="utf-8")) if meta_file.is_file() else {}
        limit = meta.get("max_input_tokens") or getattr(self.tokenizer, "model_max_length", 1024)
        self.max_input_tokens = int(limit if limit < 100_000 else 1024)
        self.revision = meta.get("revision") or folder_fingerprint(path, ["config.json", "model.bin"])
        self.source_model = meta.get("source_model", self.model_id)
        self.model_cap = meta.get("max_new_tokens")
        self.decoding = Decoding(**decoding)
        if self.decoding.max_tokens is None:
            from dataclasses import replace

            self.decoding = replace(self.decoding, max_tokens=GPU_MAX_TOKENS if self.device == "cuda" else CPU_MAX_TOKENS)

    def detokenize(self, tokens: Sequence[str]) -> str:
        """The text of output pieces: what ``tokenizer.decode(ids, skip_special_tokens=True)``
        gives, without the round trip through ids (5x faster; tests/engines/test_ct2.py compares
        both on Marian, M2M100 and NLLB tokenizers)."""
        text = self.tokenizer.convert_tokens_to_string([t for t in tokens if t not in self._special])
        if getattr(self.tokenizer, "clean_up_tokenization_spaces", False):
            text = self.tokenizer.clean_up_tokenization(text)
        return text.strip()

    def signature(self) -> str:
        return (
            f"engine=ctranslate2|model={self.model_id}|source={self.source_model}|revision={self.revision}"
            f"|device={self.device}|compute_type={self.compute_type}|{self.decoding.describe()}"
        )

    def translate(self, texts: Sequence[str], src: str, tgt: str) -> list[Translation]:
        texts = list(texts)
        with self._lock:
            conv = conventions_for(self.tokenizer, src, tgt)
            owners, items = work_items(self.tokenizer, texts, conv, self.max_input_tokens, self.model_id)
            outputs = self._translate_items(items, conv.tgt_token)
        return regroup(len(texts), owners, outputs, tgt)

    def _translate_items(self, items: list[list[int]], tgt_token: str | None) -> list[tuple[str, float]]:
        import math

        if not items:
            return []
        source = [self.tokenizer.convert_ids_to_tokens(ids) for ids in items]
        d = self.decoding
        longest = max(len(s) for s in source)
        budget = max(2, output_budget(longest, d, self.max_input_tokens, self.model_cap))
        results = self.translator.translate_batch(
            source,
            target_prefix=[[tgt_token] for _ in source] if tgt_token else None,
            max_batch_size=max(1, (d.max_tokens or CPU_MAX_TOKENS) // max(1, d.num_beams)),
            batch_type="tokens",
            beam_size=max(1, d.num_beams),
            length_penalty=d.length_penalty,
            max_input_length=0,  # never truncate: over-long inputs were cut at punctuation above
            # transformers counts the final </s> in max_new_tokens, CTranslate2 does not: one less
            # here gives both engines the same number of words.
            max_decoding_length=budget - 1 + (1 if tgt_token else 0),
            min_decoding_length=min(d.min_new_tokens, budget - 1) + (1 if tgt_token else 0),
            return_scores=True,
        )
        out: list[tuple[str, float]] = []
        for result in results:
            tokens = result.hypotheses[0]
            if tgt_token and tokens and tokens[0] == tgt_token:
                tokens = tokens[1:]
            text = self.detokenize(tokens)
            score = result.scores[0] if result.scores else float("nan")
            out.append((text, min(1.0, max(0.0, math.exp(score))) if not math.isnan(score) else 0.0))
        return out
