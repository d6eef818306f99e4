"""Language-code conventions of the seq2seq translation model families.

The pipeline speaks short BCP-47-ish codes (``zh``, ``en``, ``pt-BR``); models want their own:

* MarianMT / opus-mt: one pair per model, or a multi-target model whose vocabulary holds
  ``>>xx<<`` tokens that must start the source (``>>es<<``, ``>>pt_br<<``, ``>>ara<<``, ``>>cmn_Hans<<``).
* M2M100: ISO 639-1 codes (``zh``, ``en``) as ``__zh__`` tokens; ``tokenizer.src_lang`` and a
  forced first target token.
* NLLB-200: FLORES-200 codes with script (``zho_Hans``, ``eng_Latn``); same mechanics as M2M100.
* mBART-50: ``zh_CN``, ``en_XX``; same mechanics.
"""

from __future__ import annotations

from collections.abc import Iterable

from localise.engines.base import primary_subtag
from localise.errors import ConfigError

# ISO 639-1 -> ISO 639-3 (the codes the Tatoeba-challenge opus-mt models use in >>xxx<<).
ISO639_3 = {
    "ar": "ara", "bg": "bul", "bn": "ben", "cs": "ces", "da": "dan", "de": "deu", "el": "ell",
    "en": "eng", "es": "spa", "fa": "fas", "fi": "fin", "fil": "fil", "fr": "fra", "he": "heb",
    "hi": "hin", "hu": "hun", "id": "ind", "it": "ita", "ja": "jpn", "km": "khm", "ko": "kor",
    "lo": "lao", "ms": "zsm", "my": "mya", "nl": "nld", "no": "nob", "pl": "pol", "pt": "por",
    "ro": "ron", "ru": "rus", "sv": "swe", "sw": "swh", "th": "tha", "tl": "tgl", "tr": "tur",
    "uk": "ukr", "ur": "urd", "vi": "vie", "zh": "cmn",
}

# ISO 639-1 -> FLORES-200 (NLLB). Chinese script follows the region/script subtag.
NLLB = {
    "ar": "arb_Arab", "bg": "bul_Cyrl", "bn": "ben_Beng", "cs": "ces_Latn", "da": "dan_Latn",
    "de": "deu_Latn", "el": "ell_Grek", "en": "eng_Latn", "es": "spa_Latn", "fa": "pes_Arab",
    "fi": "fin_Latn", "fr": "fra_Latn", "he": "heb_Hebr", "hi": "hin_Deva", "hu": "hun_Latn",
    "id": "ind_Latn", "it": "ita_Latn", "ja": "jpn_Jpan", "km": "khm_Khmr", "ko": "kor_Hang",
    "lo": "lao_Laoo", "ms": "zsm_Latn", "my": "mya_Mymr", "nl": "nld_Latn", "no": "nob_Latn",
    "pl": "pol_Latn", "pt": "por_Latn", "ro": "ron_Latn", "ru": "rus_Cyrl", "sv": "swe_Latn",
    "sw": "swh_Latn", "th": "tha_Thai", "tl": "tgl_Latn", "fil": "tgl_Latn", "tr": "tur_Latn",
    "uk": "ukr_Cyrl", "ur": "urd_Arab", "vi": "vie_Latn", "zh": "zho_Hans",
}

# ISO 639-1 -> mBART-50.
MBART50 = {
    "ar": "ar_AR", "cs": "cs_CZ", "de": "de_DE", "en": "en_XX", "es": "es_XX", "fi": "fi_FI",
    "fr": "fr_XX", "hi": "hi_IN", "id": "id_ID", "it": "it_IT", "ja": "ja_XX", "ko": "ko_KR",
    "nl": "nl_XX", "pl": "pl_PL", "pt": "pt_XX", "ru": "ru_RU", "sv": "sv_SE", "th": "th_TH",
    "tr": "tr_TR", "uk": "uk_UA", "vi": "vi_VN", "zh": "zh_CN",
}

_TRADITIONAL = ("hant", "tw", "hk", "mo")


def _is_traditional(lang: str) -> bool:
    rest = lang.lower().replace("_", "-").split("-")[1:]
    return any(part in _TRADITIONAL for part in rest)


def nllb_code(lang: str) -> str:
    """``zh`` -> ``zho_Hans``, ``zh-TW`` -> ``zho_Hant``, ``pt-BR`` -> ``por_Latn``; FLORES codes pass through."""
    if "_" in lang and len(lang.split("_", 1)[1]) == 4:
        return lang
    primary = primary_subtag(lang)
    if primary == "zh" and _is_traditional(lang):
        return "zho_Hant"
    try:
        return NLLB[primary]
    except KeyError:
        raise ConfigError(f"no NLLB-200 code known for language {lang!r}; pass the FLORES-200 code (e.g. 'eng_Latn')") from None


def m2m100_code(lang: str) -> str:
    """M2M100 uses the ISO 639-1 code: ``pt-BR`` -> ``pt``."""
    return primary_subtag(lang)


def mbart50_code(lang: str) -> str:
    if "_" in lang and lang.split("_", 1)[1].isupper():
        return lang
    try:
        return MBART50[primary_subtag(lang)]
    except KeyError:
        raise ConfigError(f"no mBART-50 code known for language {lang!r}") from None


def marian_target_candidates(lang: str) -> list[str]:
    """``>>xx<<`` tokens that may stand for ``lang`` in a multi-target opus-mt model, best first."""
    primary = primary_subtag(lang)
    region = lang.replace("-", "_").split("_")[1:]
    out: list[str] = []
    if region:
        out.append(f"{primary}_{region[0].lower()}")  # pt_br
        out.append(f"{primary}_{region[0]}")
    if primary == "zh":
        hant = _is_traditional(lang)
        out += ["cmn_Hant", "zho_Hant"] if hant else ["cmn_Hans", "zho_Hans", "cmn", "zho"]
    out.append(primary)
    if primary in ISO639_3:
        out.append(ISO639_3[primary])
    return [f">>{code}<<" for code in dict.fromkeys(out)]


def marian_target_token(lang: str, available: Iterable[str]) -> str | None:
    """The ``>>xx<<`` token to prefix for ``lang``; ``None`` for single-target models (no such
    tokens); :class:`ConfigError` naming the model's codes when it has them but none fits."""
    codes = list(available)
    if not codes:
        return None
    present = set(codes)
    for candidate in marian_target_candidates(lang):
        if candidate in present:
            return candidate
    shown = ", ".join(codes[:20]) + (" ..." if len(codes) > 20 else "")
    raise ConfigError(f"this multi-target Marian model has no target token for {lang!r} (it knows {shown})")
