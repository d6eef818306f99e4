"""Fixtures for the engine tests: the tiny Marian from tests/conftest.py, plus variants built here."""

from __future__ import annotations

from pathlib import Path

import pytest

from localise.devtools.tiny_model import sample_lines


@pytest.fixture(scope="session")
def zh_lines() -> list[str]:
    """Forty Chinese-looking lines of varied length (different seed from the tokenizer's training lines)."""
    return sample_lines(40, seed=99)[0]


@pytest.fixture(scope="session")
def short_marian(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny Marian that accepts only 24 input tokens: over-long inputs must be cut, not truncated."""
    from localise.devtools.tiny_model import build_tiny_marian

    return build_tiny_marian(tmp_path_factory.mktemp("short-marian"), max_positions=24)


@pytest.fixture(scope="session")
def multi_marian(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny multi-target Marian (like opus-mt-en-ROMANCE) with >>es<<, >>pt_br<<, >>ara<< tokens."""
    from localise.devtools.tiny_model import build_tiny_marian

    return build_tiny_marian(tmp_path_factory.mktemp("multi-marian"), target_codes=("es", "pt_br", "ara"))


@pytest.fixture(scope="session")
def tiny_m2m100(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from localise.devtools.tiny_model import build_tiny_m2m100

    return build_tiny_m2m100(tmp_path_factory.mktemp("tiny-m2m100"))


@pytest.fixture(scope="session")
def tiny_ct2(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny Marian converted for CTranslate2 with int8 weights."""
    from localise.engines.ct2 import convert_model

    return convert_model(str(tiny_model), tmp_path_factory.mktemp("ct2") / "int8", quantization="int8")


@pytest.fixture(autouse=True)
def fresh_registry():
    """Each test sees an empty engine cache, so load counts are its own."""
    from localise.engines import registry

    registry.clear_cache()
    yield
    registry.clear_cache()


@pytest.fixture(scope="session")
def tiny_nllb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from localise.devtools.tiny_model import build_tiny_nllb

    return build_tiny_nllb(tmp_path_factory.mktemp("tiny-nllb"))
