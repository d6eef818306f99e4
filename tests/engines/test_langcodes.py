"""Language-code conventions of Marian, M2M100 and NLLB, checked on real tokenizer classes built offline."""

from __future__ import annotations

from pathlib import Path

import pytest

from localise.engines import langcodes
from localise.engines.hf import conventions_for, encode, family_of
from localise.errors import ConfigError


def test_nllb_codes_follow_script_and_region():
    assert langcodes.nllb_code("zh") == "zho_Hans"
    assert langcodes.nllb_code("zh-TW") == "zho_Hant"
    assert langcodes.nllb_code("zh-Hant") == "zho_Hant"
    assert langcodes.nllb_code("en") == "eng_Latn"
    assert langcodes.nllb_code("pt-BR") == "por_Latn"
    assert langcodes.nllb_code("tha_Thai") == "tha_Thai"
    with pytest.raises(ConfigError, match="xx"):
        langcodes.nllb_code("xx")


def test_marian_target_token_choice():
    available = [">>es<<", ">>pt<<", ">>pt_br<<", ">>ara<<", ">>cmn_Hans<<"]
    assert langcodes.marian_target_token("pt-BR", available) == ">>pt_br<<"
    assert langcodes.marian_target_token("pt", available) == ">>pt<<"
    assert langcodes.marian_target_token("ar", available) == ">>ara<<"
    assert langcodes.marian_target_token("zh", available) == ">>cmn_Hans<<"
    assert langcodes.marian_target_token("es", []) is None  # single-target model: no prefix
    with pytest.raises(ConfigError, match=">>es<<"):
        langcodes.marian_target_token("de", available)


def test_nllb_tokenizer_gets_flores_codes():
    from transformers import NllbTokenizer

    tokenizer = NllbTokenizer(src_lang="eng_Latn", tgt_lang="fra_Latn")  # no download: built from code
    assert family_of(tokenizer) == "nllb"
    conv = conventions_for(tokenizer, "zh", "en")
    assert (conv.src_lang, conv.tgt_token, conv.prefix) == ("zho_Hans", "eng_Latn", "")
    tokens = tokenizer.convert_ids_to_tokens(encode(tokenizer, ["你好"], conv)[0])
    assert tokens[0] == "zho_Hans" and tokens[-1] == "</s>"
    assert tokenizer.convert_tokens_to_ids(conv.tgt_token) != tokenizer.unk_token_id


def test_m2m100_tokenizer_gets_language_tokens(tiny_m2m100: Path):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_m2m100)
    assert family_of(tokenizer) == "m2m100"
    conv = conventions_for(tokenizer, "zh", "pt-BR")
    assert (conv.src_lang, conv.tgt_token) == ("zh", "__pt__")
    assert tokenizer.convert_ids_to_tokens(encode(tokenizer, ["你好"], conv)[0])[0] == "__zh__"


def test_multi_target_marian_gets_prefix_single_target_none(multi_marian: Path, tiny_model: Path):
    from transformers import AutoTokenizer

    multi = AutoTokenizer.from_pretrained(multi_marian)
    conv = conventions_for(multi, "zh", "pt-BR")
    assert conv.prefix == ">>pt_br<< "
    assert multi.convert_ids_to_tokens(encode(multi, ["你好"], conv)[0])[0] == ">>pt_br<<"
    with pytest.raises(ConfigError):
        conventions_for(multi, "zh", "de")
    single = AutoTokenizer.from_pretrained(tiny_model)
    assert conventions_for(single, "zh", "en").prefix == ""
